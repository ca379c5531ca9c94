//! What every front door shares: choosing the site, and logging the outcome.

use djauth_policy::{Decision, PolicyError, Site};

use crate::header_value::LoggedName;

/// The site a request names, or the only configured site when it names none.
/// `how` tells the operator how a request names a site in this front door.
pub fn find_site<'a>(sites: &'a [Site], name: Option<&str>, how: &str) -> Result<&'a Site, String> {
    match name {
        Some(name) => sites
            .iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| format!("site {name:?} is not configured in djauth")),
        None => match sites {
            [only] => Ok(only),
            _ => Err(format!("several sites are configured: {how}")),
        },
    }
}

/// One log line for a refusal or an error (grants only at debug level).
/// `user` is the name as the client typed it; `client` says who asked.
pub fn log_outcome(site: &Site, user: &[u8], client: &str, result: &Result<Decision, PolicyError>) {
    let user = LoggedName(user);
    let client = LoggedName(client.as_bytes());
    match result {
        Ok(Decision::Granted(identity)) => {
            tracing::debug!(site = site.name(), user = %identity.username, %client, "granted");
        }
        Ok(Decision::NotFound) => {
            tracing::info!(site = site.name(), %user, %client, reason = "unknown-user", "denied");
        }
        Ok(Decision::Denied(denial)) => {
            tracing::info!(site = site.name(), %user, %client, reason = denial.as_str(), "denied");
        }
        Err(e) => tracing::error!(site = site.name(), %user, %client, "error: {e}"),
    }
}
