//! `natsbridge listen`: prints each envelope on a subject and saves its payloads into a
//! folder (large link payloads streamed to disk), never outside it.

use std::path::PathBuf;

use futures_util::StreamExt;
use natsbridge::{Client, Data, Error, ErrorKind, MessageEnvelope, PayloadType};

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
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Listens until Ctrl-C (or `--count` messages); a message that fails is reported on
/// standard error and listening goes on.
pub async fn run(args: ListenArgs) -> Result<(), Error> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| Error::new(ErrorKind::Io, args.dir.display().to_string(), e.to_string()))?;
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
        if let Err(error) = save(&client, &message.payload, &args.dir).await {
            eprintln!(
                "{}",
                show::clean(&format!(
                    "natsbridge: a message on {} failed: {error}",
                    message.subject
                ))
            );
        }
    }
    Ok(())
}

/// Prints one message and saves its payloads; the first failing payload stops it.
async fn save(client: &Client, body: &[u8], dir: &std::path::Path) -> Result<(), Error> {
    let envelope = MessageEnvelope::from_json(body)?;
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
