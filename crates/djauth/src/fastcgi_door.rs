//! The FastCGI authorizer front door for Apache's mod_authnz_fcgi.
//!
//! Apache opens a new TCP connection per check, sends the request's CGI
//! variables (`REMOTE_USER`, `REMOTE_PASSWD` for authentication,
//! `FCGI_APACHE_ROLE`, and whatever `SetEnvIf` put in the environment) and
//! reads back a CGI-style status. This module parses nothing itself: the
//! codec is `djauth-fastcgi`, the decision is `djauth-policy`.

use std::sync::Arc;
use std::time::Duration;

use djauth_fastcgi::{Connection, Event, Limits, ProtocolStatus, Request, encode_end_request};
use djauth_policy::{Decision, Denial, RequirementSet, Site};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::config::FastcgiSettings;
use crate::door::{Answer, answer, find_site, log_outcome, unless_hung_up};
use crate::header_value::encode_groups;

/// Apache sends a whole request at once; a connection that has not
/// completed one this long after it opened (or after the previous reply)
/// is closed, so slow clients cannot hold connection slots.
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// Apache gives up on an authorizer after 30 s; so do we when writing.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once per listener; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 1024;

/// This front door's name in logs and metrics.
const DOOR: &str = "fastcgi";

/// The parameter a `<Location>` sets with `SetEnvIf` to pick the site.
pub const SITE_PARAM: &str = "DJANGO_SITE";
/// The parameter a `<Location>` sets with `SetEnvIf` to pick the requirement.
pub const REQUIRE_PARAM: &str = "DJANGO_REQUIRE";

/// One listening port and what it serves.
pub struct FastcgiDoor {
    settings: FastcgiSettings,
    sites: Arc<Vec<Site>>,
}

/// What Apache wants from one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApacheRole {
    /// `AuthBasicProvider`: check the password.
    Authenticator,
    /// `Require`: check the already-authenticated user.
    Authorizer,
    /// `authnz` provider: both in one call.
    Both,
}

/// The reply to one request.
struct Reply {
    status: u16,
    reason: &'static str,
    headers: Vec<(&'static str, Vec<u8>)>,
}

impl Reply {
    fn bare(status: u16, reason: &'static str) -> Reply {
        Reply {
            status,
            reason,
            headers: Vec::new(),
        }
    }
    fn unauthorized() -> Reply {
        Reply::bare(401, "Unauthorized")
    }
    fn forbidden() -> Reply {
        Reply::bare(403, "Forbidden")
    }
    fn error() -> Reply {
        Reply::bare(500, "Internal Server Error")
    }
}

impl FastcgiDoor {
    /// A front door for one listener over the configured sites.
    pub fn new(settings: FastcgiSettings, sites: Arc<Vec<Site>>) -> FastcgiDoor {
        FastcgiDoor { settings, sites }
    }

    /// Accepts connections until the task is dropped.
    pub async fn run(self: Arc<Self>, listener: TcpListener) {
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(listen = %self.settings.listen, "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let door = self.clone();
            tokio::spawn(async move {
                if let Err(e) = door.serve(stream).await {
                    tracing::debug!(%peer, "FastCGI connection closed: {e}");
                }
                drop(slot);
            });
        }
    }

    /// Serves one connection until Apache closes it or breaks the protocol.
    async fn serve(&self, mut stream: TcpStream) -> Result<(), String> {
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut connection = Connection::new(Limits::default());
        let mut buffer = vec![0u8; 16 * 1024];
        let mut deadline = tokio::time::Instant::now() + REQUEST_DEADLINE;
        loop {
            let read = tokio::time::timeout_at(deadline, stream.read(&mut buffer))
                .await
                .map_err(|_| "no complete request in time; closing".to_string())?
                .map_err(|e| e.to_string())?;
            if read == 0 {
                return connection.finish().map_err(|e| e.to_string());
            }
            let events = connection
                .feed(&buffer[..read])
                .map_err(|e| format!("protocol error: {e}"))?;
            for event in events {
                let (bytes, close) = match event {
                    Event::Send(bytes) => (bytes, false),
                    Event::Abort(id) => (
                        encode_end_request(id, 0, ProtocolStatus::RequestComplete),
                        false,
                    ),
                    Event::Request(request) => {
                        let close = !request.keep_conn;
                        match unless_hung_up(&stream, self.answer(request)).await {
                            Some(bytes) => (bytes, close),
                            None => return Err("the web server hung up before the answer".into()),
                        }
                    }
                };
                write_all(&mut stream, &bytes).await?;
                if close {
                    return Ok(());
                }
                deadline = tokio::time::Instant::now() + REQUEST_DEADLINE;
            }
        }
    }

    /// Decides one request and encodes the reply.
    async fn answer(&self, request: Request) -> Vec<u8> {
        let reply = self.decide(&request).await;
        let headers: Vec<(&str, &[u8])> = reply
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_slice()))
            .collect();
        djauth_fastcgi::encode_response(request.id, reply.status, reply.reason, &headers)
    }

    async fn decide(&self, request: &Request) -> Reply {
        let params = &request.params;
        let client =
            String::from_utf8_lossy(params.get("REMOTE_ADDR").unwrap_or(b"-")).into_owned();
        let role = match params.get("FCGI_APACHE_ROLE") {
            Some(b"AUTHENTICATOR") => ApacheRole::Authenticator,
            Some(b"AUTHORIZER") => ApacheRole::Authorizer,
            None => ApacheRole::Both,
            Some(other) => {
                tracing::error!(
                    listen = %self.settings.listen,
                    "unexpected FCGI_APACHE_ROLE {:?}",
                    String::from_utf8_lossy(other)
                );
                return Reply::error();
            }
        };
        let (site, requirement) = match self.select(params) {
            Ok(selected) => selected,
            Err(problem) => {
                tracing::error!(listen = %self.settings.listen, "{problem}");
                return Reply::error();
            }
        };
        let user = params.get("REMOTE_USER");
        let password = params.get("REMOTE_PASSWD");
        let decision = match (role, password) {
            (ApacheRole::Authorizer, _) => site.authorize(user, &requirement).await,
            (_, Some(password)) => {
                site.authenticate(user.unwrap_or_default(), password, &requirement)
                    .await
            }
            (_, None) => Ok(Decision::Denied(Denial::NoUser)),
        };
        log_outcome(DOOR, site, user.unwrap_or_default(), &client, &decision);
        match answer(decision) {
            Answer::Granted(identity) => Reply {
                status: 200,
                reason: "OK",
                headers: vec![
                    ("Variable-DJANGO_USER", identity.username.into_bytes()),
                    (
                        "Variable-DJANGO_USER_ID",
                        identity.id.to_string().into_bytes(),
                    ),
                    ("Variable-DJANGO_GROUPS", encode_groups(&identity.groups)),
                ],
            },
            Answer::Unauthorized => Reply::unauthorized(),
            Answer::Forbidden => Reply::forbidden(),
            Answer::Error => Reply::error(),
        }
    }

    /// Picks the site and requirement: fixed by the listener, else from
    /// the `SetEnvIf` variables, else the only site and `valid-user`.
    fn select(&self, params: &djauth_fastcgi::Params) -> Result<(&Site, RequirementSet), String> {
        let site_name = match (&self.settings.site, params.get(SITE_PARAM)) {
            (Some(fixed), _) => Some(fixed.clone()),
            (None, Some(name)) => Some(
                std::str::from_utf8(name)
                    .map_err(|_| format!("{SITE_PARAM} is not UTF-8"))?
                    .to_owned(),
            ),
            (None, None) => None,
        };
        let site = find_site(
            &self.sites,
            site_name.as_deref(),
            &format!("set {SITE_PARAM} in the Apache location or `site` on the listener"),
        )
        .map_err(|e| format!("{SITE_PARAM}: {e}"))?;
        let requirement = match (&self.settings.require, params.get(REQUIRE_PARAM)) {
            (Some(fixed), _) => fixed.clone(),
            (None, Some(text)) => std::str::from_utf8(text)
                .map_err(|_| format!("{REQUIRE_PARAM} is not UTF-8"))?
                .parse()
                .map_err(|e| format!("{REQUIRE_PARAM}: {e}"))?,
            (None, None) => RequirementSet::valid_user(),
        };
        Ok((site, requirement))
    }
}

async fn write_all(stream: &mut TcpStream, bytes: &[u8]) -> Result<(), String> {
    tokio::time::timeout(IO_TIMEOUT, stream.write_all(bytes))
        .await
        .map_err(|_| "timed out writing to the web server".to_string())?
        .map_err(|e| e.to_string())
}
