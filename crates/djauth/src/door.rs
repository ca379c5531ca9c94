//! What every front door shares: choosing the site, logging and counting
//! the outcome, and mapping it onto HTTP statuses.

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;

use djauth_policy::{Decision, Denial, Identity, PolicyError, Site};
use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::{TcpStream, UnixStream};

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

/// A connection whose peer may hang up while its request is being decided.
pub trait Peer {
    /// Resolves once the peer has hung up (`true`) or sent more bytes
    /// (`false`, e.g. a pipelined request); reads nothing.
    fn hung_up(&self) -> impl Future<Output = bool> + Send;
}

impl Peer for TcpStream {
    async fn hung_up(&self) -> bool {
        let mut probe = [0u8; 1];
        !matches!(self.peek(&mut probe).await, Ok(n) if n > 0)
    }
}

impl Peer for UnixStream {
    async fn hung_up(&self) -> bool {
        let mut probe = [MaybeUninit::<u8>::uninit(); 1];
        loop {
            if self.readable().await.is_err() {
                return true;
            }
            match self.try_io(Interest::READABLE, || SockRef::from(self).peek(&mut probe)) {
                Ok(n) => return n == 0,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return true,
            }
        }
    }
}

/// The result of `work`, or `None` if `peer` hangs up first: a check that
/// nobody waits for any more is dropped, and with it its place in the queue
/// for a password hash, instead of delaying everybody else's.
pub async fn unless_hung_up<F: Future>(peer: &impl Peer, work: F) -> Option<F::Output> {
    let mut work = std::pin::pin!(work);
    tokio::select! {
        done = &mut work => Some(done),
        gone = peer.hung_up() => if gone { None } else { Some(work.await) },
    }
}
