//! `natsbridge send`: sends texts, JSON values and files in one envelope and prints what
//! went (direct or link).

use natsbridge::{Error, SendOptions};

use crate::connection::ConnectionArgs;
use crate::payload_args::PayloadArgs;
use crate::progress::Bars;

/// The options of `natsbridge send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The subject to send to (`chat.room1`, `/chat/room1`).
    subject: String,
    #[command(flatten)]
    payloads: PayloadArgs,
    #[command(flatten)]
    envelope: EnvelopeArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Envelope fields a sender may set.
#[derive(Debug, clap::Args)]
pub struct EnvelopeArgs {
    /// Payloads of this many bytes or more go as links.
    #[arg(long, default_value_t = natsbridge::DEFAULT_SIZE_THRESHOLD)]
    size_threshold: u64,
    /// The message purpose.
    #[arg(long, default_value = "chat")]
    purpose: String,
    /// The sender name.
    #[arg(long, default_value = "NATSBridge")]
    sender_name: String,
    /// The receiver name.
    #[arg(long, default_value = "")]
    receiver_name: String,
    /// The correlation id (a new UUID otherwise).
    #[arg(long)]
    correlation_id: Option<String>,
    /// The subject replies should go to.
    #[arg(long, default_value = "")]
    reply_to: String,
    /// Publish through JetStream and wait for the stream's acknowledgement.
    #[arg(long)]
    jetstream: bool,
}

impl EnvelopeArgs {
    /// The send options these arguments describe.
    pub fn options(&self) -> SendOptions {
        let mut options = SendOptions::new()
            .size_threshold(self.size_threshold)
            .msg_purpose(&self.purpose)
            .sender_name(&self.sender_name)
            .receiver_name(&self.receiver_name)
            .reply_to(&self.reply_to)
            .jetstream(self.jetstream);
        if let Some(id) = &self.correlation_id {
            options = options.correlation_id(id);
        }
        options
    }
}

/// Sends and prints the envelope's headers.
pub async fn run(args: SendArgs) -> Result<(), Error> {
    let payloads = args.payloads.payloads()?;
    let bars = Bars::default();
    let client = args.connection.connect(&bars).await?;
    let sent = client
        .smartsend(&args.subject, payloads, &args.envelope.options())
        .await?;
    print!("sent {}", crate::show::envelope(&sent));
    for (index, payload) in sent.payloads.iter().enumerate() {
        println!("{}", crate::show::payload_line(index, payload));
    }
    Ok(())
}
