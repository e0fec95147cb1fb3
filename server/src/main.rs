#![recursion_limit = "256"]

//! `comops`: the ComOps server and its admin commands.
//!
//! See `docs/architecture.md` for how the crates fit together; this binary
//! only parses the command line and hands over to `serve` or the admin
//! commands in `cli`.

mod bootstrap;
mod cli;
mod config;
mod engine;
mod http;
mod serve;
mod tls;
mod workers;

use clap::Parser;

/// Every Rust allocation of the process goes to mimalloc (SQLite keeps
/// libc's malloc); why, and what it costs, in docs/decisions.md, "mimalloc".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli::run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
