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
/// Lines carry no timestamp when stderr is systemd's journal, which stamps
/// every line itself.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DJAUTH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    if stderr_is_journal() {
        logs.without_time().init();
    } else {
        logs.init();
    }
}

/// Whether stderr is the journal stream systemd names in `JOURNAL_STREAM`
/// (`device:inode`); a copy of the variable inherited by a process whose
/// stderr goes elsewhere does not count.
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(stderr) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    stream.to_str() == Some(format!("{}:{}", stderr.dev(), stderr.ino()).as_str())
}
