//! `natsbridge send`: sends texts, JSON values and files in one envelope and prints what
//! went (direct or link).

use natsbridge::{EnvelopeFields, Error, ErrorKind, FieldInfo, SendOptions};
use serde_json::Value;

use crate::connection::ConnectionArgs;
use crate::payload_args::{PayloadArgs, json_or_string};
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

/// Envelope options: the size threshold, JetStream, and one flag per envelope field the
/// schema lets a sender set ([`EnvelopeFields::FIELDS`]), so that a field added to the schema
/// is a flag here after regeneration with no edit.
#[derive(Debug, Clone, Default)]
pub struct EnvelopeArgs {
    fixed: FixedEnvelopeArgs,
    /// `(field, value)` of each schema flag given, in schema order.
    schema: Vec<(&'static FieldInfo, Vec<String>)>,
}

#[derive(Debug, Clone, Default, clap::Args)]
struct FixedEnvelopeArgs {
    /// Payloads of this many bytes or more go as links.
    #[arg(long, default_value_t = natsbridge::contract::SIZE_THRESHOLD)]
    size_threshold: u64,
    /// Any envelope field by its schema name, as NAME=VALUE; VALUE is read as JSON when it
    /// parses (`urgent=true`, `offset=-3`, `device={"serial":"A"}`), as a string otherwise
    /// (`trace_id=abc`). Repeatable; applied after the field flags.
    #[arg(long = "field", value_name = "NAME=VALUE")]
    fields: Vec<String>,
    /// Publish through JetStream and wait for the stream's acknowledgement.
    #[arg(long)]
    jetstream: bool,
}

/// The heading the schema's flags are listed under in `--help`.
const SCHEMA_HEADING: &str = "Envelope fields (from the schema)";

/// Flags of the CLI that a schema field's flag must not take; such a field is set with
/// `--field NAME=VALUE` only (the test `every_flag_has_one_meaning` checks the whole CLI).
const RESERVED: &[&str] = &[
    "size-threshold",
    "field",
    "jetstream",
    "text",
    "json",
    "file",
    "payload-metadata",
    "server",
    "user",
    "password",
    "token",
    "creds",
    "name",
    "fileserver",
    "upload",
    "bucket",
    "upload-token",
    "allow-link-host",
    "allow-link-bucket",
    "allow-any-link-host",
    "max-download-bytes",
    "timeout",
    "help",
    "version",
];

/// `msg_purpose` -> `msg-purpose`.
fn flag_name(field: &str) -> String {
    field.replace('_', "-")
}

/// The first sentence of a description, for `--help`; the whole one for `--help` long form.
fn first_sentence(text: &str) -> &str {
    text.find(". ")
        .map_or(text.trim_end_matches('.'), |end| &text[..end])
}

fn schema_flags() -> impl Iterator<Item = &'static FieldInfo> {
    EnvelopeFields::FIELDS
        .iter()
        .filter(|f| !RESERVED.contains(&flag_name(f.name).as_str()))
}

fn arg_id(field: &FieldInfo) -> String {
    format!("envelope.{}", field.name)
}

impl clap::Args for EnvelopeArgs {
    fn augment_args(command: clap::Command) -> clap::Command {
        let mut command = FixedEnvelopeArgs::augment_args(command);
        for field in schema_flags() {
            let mut arg = clap::Arg::new(arg_id(field))
                .long(flag_name(field.name))
                .help_heading(SCHEMA_HEADING)
                .help(first_sentence(field.description).to_owned())
                .long_help(field.description);
            arg = if field.json_type == "object" {
                arg.value_name("KEY=VALUE")
                    .action(clap::ArgAction::Append)
                    .long_help(format!(
                        "{} One key per flag, KEY=VALUE, VALUE read as JSON when it parses, \
                         as a string otherwise. Repeatable.",
                        field.description
                    ))
            } else {
                arg.value_name(field.json_type.to_uppercase())
                    .action(clap::ArgAction::Set)
            };
            if field.name == "msg_purpose" {
                arg = arg.visible_alias("purpose"); // the flag's name before it was generated
            }
            command = command.arg(arg);
        }
        command
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

impl clap::FromArgMatches for EnvelopeArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut args = EnvelopeArgs::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.fixed = FixedEnvelopeArgs::from_arg_matches(matches)?;
        self.schema = schema_flags()
            .filter_map(|field| {
                let values = matches.get_many::<String>(&arg_id(field))?;
                Some((field, values.cloned().collect()))
            })
            .collect();
        Ok(())
    }
}

impl EnvelopeArgs {
    /// The send options these arguments describe.
    ///
    /// # Errors
    /// `invalid_input` naming the flag or field for a value that is malformed or of the wrong
    /// type, and for a `--field` that is malformed or unknown.
    pub fn options(&self) -> Result<SendOptions, Error> {
        let mut fields = EnvelopeFields::default();
        for (field, values) in &self.schema {
            let flag = format!("--{}", flag_name(field.name));
            let value = match field.json_type {
                "string" => Value::String(values[0].clone()),
                "object" => {
                    let mut map = serde_json::Map::new();
                    for pair in values {
                        let (key, text) = pair.split_once('=').ok_or_else(|| {
                            Error::new(
                                ErrorKind::InvalidInput,
                                &flag,
                                format!("{pair:?} is not KEY=VALUE"),
                            )
                        })?;
                        map.insert(key.to_owned(), json_or_string(text));
                    }
                    Value::Object(map)
                }
                _ => serde_json::from_str(&values[0]).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        &flag,
                        format!("{:?} is not a JSON {}: {e}", values[0], field.json_type),
                    )
                })?,
            };
            fields.set(field.name, value)?;
        }
        for field in &self.fixed.fields {
            let Some((name, text)) = field.split_once('=') else {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "--field",
                    format!("{field:?} is not NAME=VALUE"),
                ));
            };
            fields.set(name, json_or_string(text))?;
        }
        Ok(SendOptions::new()
            .size_threshold(self.fixed.size_threshold)
            .jetstream(self.fixed.jetstream)
            .envelope_fields(fields))
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
    fn each_schema_field_a_sender_sets_is_a_flag_with_its_description() {
        use clap::CommandFactory;
        let command = Cli::command();
        for field in natsbridge::EnvelopeFields::FIELDS {
            let long = super::flag_name(field.name);
            let arg = command
                .get_arguments()
                .find(|a| a.get_long() == Some(long.as_str()))
                .unwrap_or_else(|| panic!("no --{long} for the schema field {}", field.name));
            let help = arg.get_long_help().unwrap().to_string();
            assert!(help.starts_with(field.description), "--{long}: {help}");
        }
    }

    #[test]
    fn every_envelope_field_of_the_schema_has_a_flag_and_field_sets_any() {
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
        let options = parse(&[
            "--receiver-id",
            "r2",
            "--reply-to-msg-id",
            "m1",
            "--msg-purpose",
            "updateStatus",
            "--metadata",
            "a=1",
            "--metadata",
            "b=x=y",
            "--sender-name",
            "probe",
        ])
        .unwrap();
        let fields = options.fields();
        assert_eq!(fields.receiver_id, "r2");
        assert_eq!(fields.reply_to_msg_id, "m1");
        assert_eq!(fields.msg_purpose, "updateStatus");
        assert_eq!(fields.metadata["a"], 1);
        assert_eq!(fields.metadata["b"], "x=y");
        assert_eq!(fields.sender_name, "probe");
        let error = parse(&["--metadata", "no-equals"]).unwrap_err();
        assert_eq!(
            (error.kind(), error.at()),
            (ErrorKind::InvalidInput, "--metadata")
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
