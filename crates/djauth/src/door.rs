//! What every front door shares: choosing the site, logging and counting
//! the outcome, and mapping it onto HTTP statuses.

use djauth_policy::{Decision, Denial, Identity, PolicyError, Site};

use crate::header_value::LoggedName;
use crate::metrics;

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

/// One log line for a refusal or an error (grants only at debug level),
/// and one count in the decision metrics. `door` names the front door,
/// `user` is the name as the client typed it; `client` says who asked.
///
/// A refusal is logged as `denied door="…" site="…" user="…" client="…"
/// reason="…"`, the format the fail2ban example matches.
pub fn log_outcome(
    door: &'static str,
    site: &Site,
    user: &[u8],
    client: &str,
    result: &Result<Decision, PolicyError>,
) {
    let user = LoggedName(user);
    let client = LoggedName(client.as_bytes());
    let counted = match result {
        Ok(Decision::Granted(identity)) => {
            let stored = LoggedName(identity.username.as_bytes());
            tracing::debug!(door, site = site.name(), user = %stored, %client, "granted");
            "granted"
        }
        Ok(Decision::NotFound) => {
            tracing::info!(door, site = site.name(), %user, %client, reason = "unknown-user", "denied");
            "unknown-user"
        }
        Ok(Decision::Denied(denial)) => {
            tracing::info!(door, site = site.name(), %user, %client, reason = denial.as_str(), "denied");
            denial.as_str()
        }
        Err(e) => {
            tracing::error!(door, site = site.name(), %user, %client, "error: {e}");
            if matches!(e, PolicyError::Database(_)) {
                metrics::count_database_error(site.name());
            }
            "error"
        }
    };
    metrics::count_decision(door, site.name(), counted);
}

/// What a front door that speaks in HTTP statuses answers.
pub enum Answer {
    /// 200: who the user is (policy never grants a name with control characters).
    Granted(Identity),
    /// 401: no, wrong or refused credentials.
    Unauthorized,
    /// 403: authenticated, but the requirement is not met.
    Forbidden,
    /// 500: the question could not be answered.
    Error,
}

/// Maps a decision onto HTTP statuses.
pub fn answer(decision: Result<Decision, PolicyError>) -> Answer {
    match decision {
        Ok(Decision::Granted(identity)) => Answer::Granted(identity),
        Ok(Decision::Denied(Denial::RequirementNotMet)) => Answer::Forbidden,
        Ok(Decision::NotFound | Decision::Denied(_)) => Answer::Unauthorized,
        Err(_) => Answer::Error,
    }
}
