//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Django's users, groups and permissions for any web server.
#[derive(Debug, Parser)]
#[command(name = "djauth", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: answer web servers about Django users.
    Serve(ServeArgs),
    /// Check a password (read from stdin) against a stored Django hash.
    VerifyPassword(VerifyPasswordArgs),
    /// Explain what djauth sees for a user, without a password.
    CheckUser(CheckUserArgs),
    /// Answer one check for Apache's mod_authnz_external (pipe protocol on stdin).
    External(ExternalArgs),
}

/// Where the Django database is: a config file or a URL.
#[derive(Debug, Args)]
pub struct SiteSource {
    /// Configuration file (TOML); see docs/configuration.md.
    #[arg(long, short, conflicts_with = "database")]
    pub config: Option<PathBuf>,
    /// Database URL of a single site, e.g. sqlite:///srv/mysite/db.sqlite3.
    #[arg(long, env = "DATABASE_URL")]
    pub database: Option<String>,
}

/// `djauth serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The config file or the database.
    #[command(flatten)]
    pub source: SiteSource,
    /// Listen for Apache's mod_authnz_fcgi here (with --database; repeatable).
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "config")]
    pub fastcgi: Vec<SocketAddr>,
    /// Listen for Apache's mod_djauth on this Unix socket (with --database; mode 0660).
    #[arg(long, value_name = "PATH", conflicts_with = "config")]
    pub unix: Option<PathBuf>,
    /// Answer nginx auth_request, Traefik and Caddy forward auth, and serve
    /// /metrics, here: HOST:PORT or unix:PATH (with --database; repeatable).
    #[arg(long, value_name = "HOST:PORT|unix:PATH", conflicts_with = "config")]
    pub http: Vec<String>,
}

/// `djauth verify-password`.
#[derive(Debug, Args)]
pub struct VerifyPasswordArgs {
    /// The stored value, e.g. 'pbkdf2_sha256$1000000$salt$hash='.
    #[arg(long = "hash", value_name = "ENCODED")]
    pub encoded: String,
    /// Enabled hashers: `all`, or comma-separated Django class names or
    /// algorithm names, the first being the preferred one (default: Django 5.2's list).
    #[arg(long)]
    pub hashers: Option<String>,
}

/// `djauth check-user`.
#[derive(Debug, Args)]
pub struct CheckUserArgs {
    /// The config file or the database.
    #[command(flatten)]
    pub source: SiteSource,
    /// Which site of the config file (needed when it has several).
    #[arg(long)]
    pub site: Option<String>,
    /// The username, as a client would type it.
    pub username: String,
}

/// `djauth external`.
#[derive(Debug, Args)]
pub struct ExternalArgs {
    /// The running daemon's Unix socket (its [unix] path or --unix PATH).
    #[arg(long, value_name = "PATH", default_value = "/run/djauth/djauth.sock")]
    pub socket: PathBuf,
    /// Which site of the daemon (needed when it serves several).
    #[arg(long)]
    pub site: Option<String>,
    /// `auth` for DefineExternalAuth (username, password), `group` for
    /// DefineExternalGroup (username, the Require external-group rules).
    pub check: ExternalCheck,
}

/// What mod_authnz_external asks `djauth external`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExternalCheck {
    /// A password check.
    Auth,
    /// A `Require external-group` check.
    Group,
}
