//! `djauth`: Django's users, groups and permissions for any web server.

mod check_user;
mod cli;
mod config;
mod door;
mod external;
mod fastcgi_door;
mod header_value;
mod http_door;
mod metrics;
mod serve;
mod unix_door;
mod verify_password;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging();
    match cli.command {
        cli::Command::Serve(args) => serve::run(args),
        cli::Command::VerifyPassword(args) => verify_password::run(args),
        cli::Command::CheckUser(args) => check_user::run(args),
        cli::Command::External(args) => external::run(args),
    }
}

/// Logs go to stderr; `DJAUTH_LOG` takes a tracing filter (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DJAUTH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
