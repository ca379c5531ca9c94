//! `djauth check-user`: what djauth sees for a user, without a password.

use std::process::ExitCode;

use djauth_policy::decode_username;

use crate::cli::CheckUserArgs;
use crate::config::{ConfigError, SiteSettings};
use crate::serve::{fail, settings_for};

/// Prints the user's row, hash and groups; exit 0 if found, 1 if not, 2 on errors.
pub fn run(args: CheckUserArgs) -> ExitCode {
    let site = match settings_for(&args.source, &[]).and_then(|s| pick(s.sites, args.site)) {
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

async fn report(site: &SiteSettings, typed: &str) -> Result<bool, ConfigError> {
    let store = djauth_store::Store::open(&site.database, &site.store)
        .await
        .map_err(|e| ConfigError(e.to_string()))?;
    let username = decode_username(typed.as_bytes());
    println!("site:      {} ({})", site.name, site.database);
    println!("mapping:   {}", store.schema().describe());
    if username != typed {
        println!("lookup:    {username:?} (NFKC of {typed:?})");
    } else {
        println!("lookup:    {username:?}");
    }
    let user = match store.find_user(&username).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            println!(
                "user:      not found (djauth answers \"not found\"; Apache may try its next provider)"
            );
            return Ok(false);
        }
        Err(e) => return Err(ConfigError(e.to_string())),
    };
    println!(
        "user:      found, id {}, stored username {:?}",
        user.id, user.username
    );
    let permissions = store
        .permissions(user.id)
        .await
        .map_err(|e| ConfigError(e.to_string()))?;
    println!(
        "flags:     active={} staff={} superuser={}",
        yes_no(user.is_active),
        yes_no(user.is_staff),
        yes_no(user.is_superuser)
    );
    match &user.password {
        Some(encoded) => println!(
            "password:  {}",
            djauth_hashers::describe(encoded, &site.hashers)
        ),
        None => println!("password:  NULL (never matches)"),
    }
    let groups = store
        .group_names(user.id)
        .await
        .map_err(|e| ConfigError(e.to_string()))?;
    println!(
        "groups:    {}",
        if groups.is_empty() {
            "(none)".to_string()
        } else {
            groups.join(", ")
        }
    );
    println!(
        "perms:     {}{}",
        if permissions.is_empty() {
            "(none)".to_string()
        } else {
            permissions.join(", ")
        },
        if user.is_superuser && user.is_active {
            " (superuser: every permission)"
        } else {
            ""
        }
    );
    if !user.is_active {
        println!("verdict:   inactive: every request as this user is refused");
    }
    Ok(true)
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}
