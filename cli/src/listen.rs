//! `natsbridge listen`: prints each envelope on a subject (for people, or one JSON object per
//! line with `--json`) and saves its payloads into a folder, never outside it.

use std::path::PathBuf;

use futures_util::StreamExt;
use natsbridge::{Client, Data, Error, ErrorKind, MessageEnvelope, PayloadType, Place, Transport};
use serde_json::{Value, json};

use crate::connection::ConnectionArgs;
use crate::progress::Bars;
use crate::show;

/// The options of `natsbridge listen`.
#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    /// The subject to listen on (wildcards allowed: `chat.>`).
    subject: String,
    /// The folder payloads are saved in (created if missing).
    #[arg(long, default_value = "received")]
    dir: PathBuf,
    /// Exit after this many messages.
    #[arg(long)]
    count: Option<usize>,
    /// Print one JSON object per message on standard output, for scripts: `{"subject", "envelope",
    /// "saved"}`, the envelope as received (a direct payload's `data` left out: it is in the
    /// file) and each payload's `saved_to` path; a message that fails prints `{"subject",
    /// "error": {"kind", "at", "message"}}`.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Listens until Ctrl-C (or `--count` messages); a message that fails is reported on
/// standard error and listening goes on.
pub async fn run(args: ListenArgs) -> Result<(), Error> {
    std::fs::create_dir_all(&args.dir).map_err(|e| {
        Error::located(
            ErrorKind::Io,
            Place::File(args.dir.clone()),
            "cannot create the folder",
        )
        .with_source(e)
    })?;
    let bars = Bars::default();
    let client = args.connection.connect(&bars).await?;
    let mut messages = client.raw_subscribe(&args.subject).await?;
    eprintln!(
        "listening on {} (payloads go to {})",
        args.subject,
        args.dir.display()
    );
    let mut seen = 0;
    while args.count.is_none_or(|count| seen < count) {
        let message = tokio::select! {
            message = messages.next() => message,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(message) = message else { break };
        seen += 1;
        let saved = save(
            &client,
            &message.subject,
            &message.payload,
            &args.dir,
            args.json,
        )
        .await;
        match (saved, args.json) {
            (Ok(()), _) => {}
            (Err(error), true) => println!("{}", failure_line(&message.subject, &error)),
            (Err(error), false) => eprintln!(
                "{}",
                show::clean(&format!(
                    "natsbridge: a message on {} failed: {}",
                    message.subject,
                    error.display_chain()
                ))
            ),
        }
    }
    Ok(())
}

/// The `--json` line of a message that failed.
fn failure_line(subject: &str, error: &Error) -> Value {
    json!({
        "subject": subject,
        "error": {
            "kind": error.kind().to_string(),
            "at": error.at(),
            "message": error.message(),
            "cause": std::error::Error::source(error).map(|_| error.display_chain()),
        },
    })
}

/// The `--json` line of a message whose payloads were saved at `paths`.
fn saved_line(subject: &str, envelope: &MessageEnvelope, paths: &[std::path::PathBuf]) -> Value {
    let mut value = serde_json::to_value(envelope).unwrap_or(Value::Null);
    if let Some(payloads) = value.get_mut("payloads").and_then(Value::as_array_mut) {
        for (payload, source) in payloads.iter_mut().zip(&envelope.payloads) {
            if source.transport == Transport::Direct
                && let Some(object) = payload.as_object_mut()
            {
                object.remove("data");
            }
        }
    }
    json!({
        "subject": subject,
        "envelope": value,
        "saved": envelope.payloads.iter().zip(paths).map(|(payload, path)| json!({
            "dataname": payload.dataname,
            "saved_to": path.display().to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// Saves one message's payloads and prints it; the first failing payload stops it.
async fn save(
    client: &Client,
    subject: &str,
    body: &[u8],
    dir: &std::path::Path,
    json: bool,
) -> Result<(), Error> {
    let envelope = MessageEnvelope::from_json(body)?;
    if json {
        let mut paths = Vec::with_capacity(envelope.payloads.len());
        for (index, payload) in envelope.payloads.iter().enumerate() {
            let path = show::unused_path(dir, &payload.dataname);
            client.payload_to_file(&envelope, index, &path).await?;
            paths.push(path);
        }
        println!("{}", saved_line(subject, &envelope, &paths));
        return Ok(());
    }
    print!("{}", show::envelope(&envelope));
    for (index, payload) in envelope.payloads.iter().enumerate() {
        let path = show::unused_path(dir, &payload.dataname);
        client.payload_to_file(&envelope, index, &path).await?;
        println!(
            "{}  -> {}",
            show::payload_line(index, payload),
            path.display()
        );
        let small_value = matches!(
            payload.payload_type,
            PayloadType::Text | PayloadType::Dictionary | PayloadType::Jsontable
        ) && payload.size <= 2000;
        if small_value {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let data = match payload.payload_type {
                PayloadType::Text => Data::Text(String::from_utf8_lossy(&bytes).into_owned()),
                _ => serde_json::from_slice(&bytes)
                    .map(Data::Json)
                    .unwrap_or(Data::Bytes(bytes.into())),
            };
            if let Some(preview) = show::preview(&data) {
                println!("    {preview}");
            }
        }
    }
    println!();
    Ok(())
}
