//! `djauth check-user`: what djauth sees for a user, without a password.

use std::process::ExitCode;

use djauth_policy::decode_username;

use crate::cli::CheckUserArgs;
use crate::config::{ConfigError, SiteSettings};
use crate::serve::{fail, settings_for};

/// Prints the user's row, hash and groups; exit 0 if found, 1 if not, 2 on errors.
pub fn run(args: CheckUserArgs) -> ExitCode {
    let site =
        match settings_for(&args.source, &[], None, &[]).and_then(|s| pick(s.sites, args.site)) {
            Ok(site) => site,
            Err(e) => return fail(e),
        };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(ConfigError(e.to_string())),
    };
    match runtime.block_on(report(&site, &args.username)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => fail(e),
    }
}

fn pick(sites: Vec<SiteSettings>, wanted: Option<String>) -> Result<SiteSettings, ConfigError> {
    let names = || {
        sites
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        Some(name) => {
            let known = names();
            sites
                .into_iter()
                .find(|s| s.name == name)
                .ok_or_else(|| ConfigError(format!("no site {name:?}; configured: {known}")))
        }
        None if sites.len() == 1 => sites
            .into_iter()
            .next()
            .ok_or_else(|| ConfigError("no site".into())),
        None => Err(ConfigError(format!(
            "several sites ({}): choose one with --site",
            names()
        ))),
    }
}

/// Appends one line to the report.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

/// Prints the report; a closed pipe (`| head`) is not an error.
async fn report(site: &SiteSettings, typed: &str) -> Result<bool, ConfigError> {
    let mut out = String::new();
    let found = explain(site, typed, &mut out).await;
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    found
}

async fn explain(site: &SiteSettings, typed: &str, out: &mut String) -> Result<bool, ConfigError> {
    let store = djauth_store::Store::open(&site.database, &site.store)
        .await
        .map_err(|e| ConfigError(e.to_string()))?;
    let username = decode_username(typed.as_bytes());
    say!(out, "site:      {} ({})", site.name, site.database);
    say!(out, "mapping:   {}", store.schema().describe());
    if username != typed {
        say!(out, "lookup:    {username:?} (NFKC of {typed:?})");
    } else {
        say!(out, "lookup:    {username:?}");
    }
    let user = match store.find_user(&username).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            say!(
                out,
                "user:      not found: every request as this user is refused, after a dummy hash"
            );
            return Ok(false);
        }
        Err(e) => return Err(ConfigError(e.to_string())),
    };
    say!(
        out,
        "user:      found, id {}, stored username {:?}",
        user.id,
        user.username
    );
    let permissions = store
        .permissions(user.id)
        .await
        .map_err(|e| ConfigError(e.to_string()))?;
    say!(
        out,
        "flags:     active={} staff={} superuser={}",
        yes_no(user.is_active),
        yes_no(user.is_staff),
        yes_no(user.is_superuser)
    );
    match &user.password {
        Some(encoded) => say!(
            out,
            "password:  {}",
            djauth_hashers::describe(encoded, &site.hashers)
        ),
        None => say!(out, "password:  NULL (never matches)"),
    }
    let groups = store
        .group_names(user.id)
        .await
        .map_err(|e| ConfigError(e.to_string()))?;
    say!(out, "groups:    {}", quoted_list(&groups));
    say!(
        out,
        "perms:     {}{}",
        quoted_list(&permissions),
        if user.is_superuser && user.is_active {
            " (superuser: every permission)"
        } else {
            ""
        }
    );
    if !user.is_active {
        say!(
            out,
            "verdict:   inactive: every request as this user is refused"
        );
    }
    Ok(true)
}

/// Names quoted and escaped, so spaces, commas and newlines in them stay visible.
fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}
