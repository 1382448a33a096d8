//! `natsbridge request`: sends an envelope with a reply subject and prints the reply whose
//! `reply_to_msg_id` matches, or fails after a timeout.

use std::time::Duration;

use natsbridge::Error;

use crate::connection::ConnectionArgs;
use crate::payload_args::PayloadArgs;
use crate::progress::Bars;
use crate::send::EnvelopeArgs;
use crate::show;

/// The options of `natsbridge request`.
#[derive(Debug, clap::Args)]
pub struct RequestArgs {
    /// The subject of the service.
    subject: String,
    /// Seconds to wait for the reply.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    #[command(flatten)]
    payloads: PayloadArgs,
    #[command(flatten)]
    envelope: EnvelopeArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Sends the request and prints the reply.
pub async fn run(args: RequestArgs) -> Result<(), Error> {
    let payloads = args.payloads.payloads()?;
    let bars = Bars::default();
    let client = args.connection.connect(&bars).await?;
    let timeout = Duration::from_secs_f64(args.timeout.max(0.0));
    let reply = client
        .request(&args.subject, payloads, &args.envelope.options()?, timeout)
        .await?;
    print!("reply {}", show::envelope(&reply.envelope));
    for (index, payload) in reply.payloads.iter().enumerate() {
        println!("{}", show::received_payload(index, payload));
    }
    Ok(())
}
