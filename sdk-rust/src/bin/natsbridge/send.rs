//! `natsbridge send`: sends texts, JSON values and files in one envelope and prints what
//! went (direct or link).

use natsbridge::{Error, ErrorKind, SendOptions};

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
    #[arg(long, default_value_t = natsbridge::contract::SIZE_THRESHOLD)]
    size_threshold: u64,
    /// The message purpose, `msg_purpose` (the schema's default otherwise).
    #[arg(long)]
    purpose: Option<String>,
    /// The sender name (the schema's default otherwise).
    #[arg(long)]
    sender_name: Option<String>,
    /// The receiver name.
    #[arg(long)]
    receiver_name: Option<String>,
    /// The correlation id (a new UUID otherwise).
    #[arg(long)]
    correlation_id: Option<String>,
    /// The subject replies should go to.
    #[arg(long)]
    reply_to: Option<String>,
    /// Any envelope field by its schema name, as NAME=VALUE; VALUE is read as JSON when it
    /// parses (`urgent=true`, `offset=-3`, `device={"serial":"A"}`), as a string otherwise
    /// (`trace_id=abc`). Repeatable; applied after the flags above.
    #[arg(long = "field", value_name = "NAME=VALUE")]
    fields: Vec<String>,
    /// Publish through JetStream and wait for the stream's acknowledgement.
    #[arg(long)]
    jetstream: bool,
}

impl EnvelopeArgs {
    /// The send options these arguments describe.
    ///
    /// # Errors
    /// `invalid_input` naming the field for a `--field` that is malformed or unknown.
    pub fn options(&self) -> Result<SendOptions, Error> {
        let mut options = SendOptions::new()
            .size_threshold(self.size_threshold)
            .jetstream(self.jetstream);
        if let Some(name) = &self.sender_name {
            options = options.sender_name(name);
        }
        if let Some(name) = &self.receiver_name {
            options = options.receiver_name(name);
        }
        if let Some(id) = &self.correlation_id {
            options = options.correlation_id(id);
        }
        if let Some(subject) = &self.reply_to {
            options = options.reply_to(subject);
        }
        let mut fields = options.fields().clone();
        if let Some(purpose) = &self.purpose {
            // By name, so that a schema variant renaming the field needs no edit here.
            fields.set("msg_purpose", purpose.as_str().into())?;
        }
        for field in &self.fields {
            let Some((name, text)) = field.split_once('=') else {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "--field",
                    format!("{field:?} is not NAME=VALUE"),
                ));
            };
            let value = serde_json::from_str(text)
                .unwrap_or_else(|_| serde_json::Value::String(text.to_owned()));
            fields.set(name, value)?;
        }
        Ok(options.envelope_fields(fields))
    }
}

/// Sends and prints the envelope's headers.
pub async fn run(args: SendArgs) -> Result<(), Error> {
    let payloads = args.payloads.payloads()?;
    let bars = Bars::default();
    let client = args.connection.connect(&bars).await?;
    let sent = client
        .smartsend(&args.subject, payloads, &args.envelope.options()?)
        .await?;
    // smartsend only queues the message: the server has it before the program exits.
    client.flush().await?;
    print!("sent {}", crate::show::envelope(&sent));
    for (index, payload) in sent.payloads.iter().enumerate() {
        println!("{}", crate::show::payload_line(index, payload));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use natsbridge::ErrorKind;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        envelope: super::EnvelopeArgs,
    }

    fn parse(args: &[&str]) -> Result<natsbridge::SendOptions, natsbridge::Error> {
        let args = std::iter::once("natsbridge").chain(args.iter().copied());
        Cli::try_parse_from(args).unwrap().envelope.options()
    }

    #[test]
    fn field_flags_set_any_envelope_field_by_its_schema_name() {
        let options = parse(&[
            "--purpose",
            "ACK",
            "--field",
            "receiver_id=r1",
            "--field",
            r#"metadata={"a":1}"#,
            "--field",
            "msg_id=\"7\"",
        ])
        .unwrap();
        let fields = options.fields();
        assert_eq!(fields.msg_purpose, "ACK");
        assert_eq!(fields.receiver_id, "r1");
        assert_eq!(fields.metadata["a"], 1);
        assert_eq!(fields.msg_id.as_deref(), Some("7"));
        assert_eq!(
            fields.sender_name,
            natsbridge::EnvelopeFields::default().sender_name
        );
        for (arg, at) in [
            ("nope=1", "nope"),
            ("metadata=3", "metadata"),
            ("payloads=[]", "payloads"),
            ("no-equals-sign", "--field"),
        ] {
            let error = parse(&["--field", arg]).unwrap_err();
            assert_eq!(
                (error.kind(), error.at()),
                (ErrorKind::InvalidInput, at),
                "{arg}: {error}"
            );
        }
    }
}
