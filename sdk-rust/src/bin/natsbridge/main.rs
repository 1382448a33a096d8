//! `natsbridge`, the command-line program of NATSBridge: one subcommand per file, this file
//! only parses the command line and dispatches.

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
#[command(name = "natsbridge", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send texts, JSON values and files in one envelope.
    Send(send::SendArgs),
    /// Print each message on a subject and save its payloads into a folder.
    Listen(listen::ListenArgs),
    /// Send a request and print the reply.
    Request(request::RequestArgs),
    /// Run a file server for link payloads (Plik API subset and HTTP PUT/GET) on a folder.
    ServeFiles(serve_files::ServeFilesArgs),
}

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
            eprintln!("natsbridge: {}", show::clean(&error.to_string()));
            ExitCode::FAILURE
        }
    }
}
