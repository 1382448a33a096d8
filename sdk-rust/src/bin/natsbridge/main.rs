//! `natsbridge`, the command-line program of NATSBridge: one subcommand per file, this file
//! only parses the command line and dispatches.

mod serve_files;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// NATSBridge: named, typed payloads over NATS.
#[derive(Debug, Parser)]
#[command(name = "natsbridge", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a file server for link payloads (Plik API subset and HTTP PUT/GET) on a folder.
    ServeFiles(serve_files::ServeFilesArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::ServeFiles(args) => serve_files::run(args).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("natsbridge: {error}");
            ExitCode::FAILURE
        }
    }
}
