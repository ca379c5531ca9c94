//! `/healthz`, `/readyz` and `/metrics`: for the operator, not for proxies.

use std::time::Duration;

use djauth_policy::Site;

use crate::metrics;

/// The longest a readiness probe waits for one site's database.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// An operations reply: status, content type, body.
pub type OpsReply = (u16, &'static str, String);

const TEXT: &str = "text/plain; charset=utf-8";

/// `/healthz`: the daemon is up and answering.
pub fn health() -> OpsReply {
    (200, TEXT, "ok\n".into())
}

/// `/readyz`: 200 when every site's database answers a trivial query, else
/// 503. The body counts the failures; which site and why go to the log.
pub async fn ready(sites: &[Site]) -> OpsReply {
    let mut down = 0;
    for site in sites {
        let failure = match tokio::time::timeout(PING_TIMEOUT, site.store().ping()).await {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {PING_TIMEOUT:?}"),
        };
        metrics::count_database_error(site.name());
        tracing::warn!(
            site = site.name(),
            "readiness: the database does not answer: {failure}"
        );
        down += 1;
    }
    if down == 0 {
        (200, TEXT, "ready\n".into())
    } else {
        let body = format!(
            "not ready: {down} of {} databases do not answer\n",
            sites.len()
        );
        (503, TEXT, body)
    }
}

/// `/metrics`: the Prometheus text exposition.
pub fn metrics(sites: &[Site]) -> OpsReply {
    (
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        metrics::render(sites),
    )
}
