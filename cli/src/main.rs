//! `natsbridge`, the command-line program of NATSBridge (`cargo install natsbridge-cli`): one
//! subcommand per file, this file only parses the command line and dispatches.

mod connection;
mod listen;
mod payload_args;
mod progress;
mod request;
mod send;
mod serve_files;
mod show;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// NATSBridge: named, typed payloads over NATS.
#[derive(Debug, Parser)]
#[command(name = "natsbridge", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send texts, JSON values and files in one envelope.
    #[command(after_help = SEND_EXAMPLES)]
    Send(send::SendArgs),
    /// Print each message on a subject and save its payloads into a folder.
    #[command(after_help = LISTEN_EXAMPLES)]
    Listen(listen::ListenArgs),
    /// Send a request and print the reply.
    #[command(after_help = REQUEST_EXAMPLES)]
    Request(request::RequestArgs),
    /// Run a file server for link payloads (Plik API subset and HTTP PUT/GET) on a folder.
    #[command(after_help = SERVE_FILES_EXAMPLES)]
    ServeFiles(serve_files::ServeFilesArgs),
}

const EXAMPLES: &str = "\
Examples:
  natsbridge serve-files --dir ./files
  natsbridge listen chat.room1 --fileserver http://localhost:8080
  natsbridge send chat.room1 --text hello --file big.bin --fileserver http://localhost:8080
  natsbridge request svc.echo --text ping";

const SEND_EXAMPLES: &str = "\
Examples:
  natsbridge send chat.room1 --text hello
  natsbridge send chat.room1 --text note=hello --json 'config={\"ssid\":\"lab\"}' --file cat.png
  natsbridge send chat.room1 --file clip:video=./clip.bin --payload-metadata clip:fps=30
  natsbridge send device.7 --msg-purpose updateStatus --receiver-id 7 --metadata site=lab
  natsbridge send chat.room1 --file big.bin --fileserver http://localhost:8080
  natsbridge send chat.room1 --file big.bin --upload object-store --bucket natsbridge";

const LISTEN_EXAMPLES: &str = "\
Examples:
  natsbridge listen chat.room1 --dir ./received --fileserver http://localhost:8080
  natsbridge listen 'chat.>' --json --count 10 | jq .envelope.msg_id
  natsbridge listen chat.room1 --allow-link-host files.example.com --allow-link-bucket natsbridge";

const REQUEST_EXAMPLES: &str = "\
Examples:
  natsbridge request svc.echo --text ping
  natsbridge request device.7 --json 'cmd={\"action\":\"read_sensor\"}' --timeout 2";

const SERVE_FILES_EXAMPLES: &str = "\
Examples:
  natsbridge serve-files --dir ./files
  natsbridge serve-files --dir ./files --listen 0.0.0.0:8080 --upload-token secret --ttl 86400";

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Send(args) => send::run(args).await.map_err(Box::from),
        Command::Listen(args) => listen::run(args).await.map_err(Box::from),
        Command::Request(args) => request::run(args).await.map_err(Box::from),
        Command::ServeFiles(args) => serve_files::run(args).await.map_err(Box::from),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The error and its causes, as anyhow's `{:#}` prints them.
            let mut text = error.to_string();
            let mut cause = error.source();
            while let Some(inner) = cause {
                text = format!("{text}: {inner}");
                cause = inner.source();
            }
            eprintln!("natsbridge: {}", show::clean(&text));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_flag_has_one_meaning_and_each_subcommand_shows_examples() {
        let command = super::Cli::command();
        // Panics on two arguments with one long name, as a schema field's flag could make.
        command.clone().debug_assert();
        for sub in ["send", "listen", "request", "serve-files"] {
            let help = command
                .find_subcommand(sub)
                .unwrap_or_else(|| panic!("no subcommand {sub}"))
                .clone()
                .render_help()
                .to_string();
            assert!(
                help.contains(&format!("Examples:\n  natsbridge {sub} ")),
                "{sub}: {help}"
            );
        }
    }

    /// Each example in the help parses as the subcommand it documents.
    #[test]
    fn the_help_examples_parse() {
        use clap::Parser;
        for examples in [
            super::SEND_EXAMPLES,
            super::LISTEN_EXAMPLES,
            super::REQUEST_EXAMPLES,
            super::SERVE_FILES_EXAMPLES,
        ] {
            for line in examples.lines().skip(1) {
                let words = shell_words(line.split('|').next().unwrap().trim());
                super::Cli::try_parse_from(&words).unwrap_or_else(|e| panic!("{line}: {e}"));
            }
        }
    }

    /// Splits a line as a POSIX shell would, for the quoting the examples use.
    fn shell_words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quote = None;
        for c in line.chars() {
            match (quote, c) {
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, ' ') => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                (_, c) => word.push(c),
            }
        }
        words.push(word);
        words
    }
}
