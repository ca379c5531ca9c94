//! The HTTP forward-auth front door for nginx `auth_request`, Traefik
//! `forwardAuth` and Caddy `forward_auth`, plus `/healthz`, `/readyz` and
//! `/metrics`.
//!
//! The proxy calls `/auth[/SITE][?require=…]` with the client's headers.
//! The answer is 200 with `X-Django-User`, `X-Django-User-Id` and
//! `X-Django-Groups`; 401 with a Basic challenge; 403; or 500/503 when the
//! question cannot be answered. HTTP/1.1 with keep-alive, on TCP or a Unix
//! socket; the parsing is hyper's, the decision `djauth-policy`'s.

mod ops;
mod request;
mod settings;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use djauth_policy::{Decision, Denial, Site};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::Semaphore;
use tracing::Instrument;

pub use settings::{HttpConfig, HttpListen, HttpSettings};

use crate::config::ConfigError;
use crate::door::{Answer, answer, log_outcome};
use crate::header_value::encode_groups;
use request::{AUTH_PATH, Peer};

/// This front door's name in logs and metrics.
const DOOR: &str = "http";
/// Connections served at once per listener; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 1024;
/// A connection must deliver a request's headers within this time, and an
/// idle keep-alive connection is closed after it (proxies reconnect).
const HEADER_DEADLINE: Duration = Duration::from_secs(30);
/// Largest request head (request line and headers) accepted; beyond, 431.
const MAX_HEAD: usize = 16 * 1024;
/// Most request header fields accepted; beyond, 431.
const MAX_HEADERS: usize = 100;
/// An answer not ready after this long is a 503 (Traefik gives up at 30 s).
const ANSWER_DEADLINE: Duration = Duration::from_secs(25);

/// The response headers of a grant.
pub const USER_HEADER: &str = "x-django-user";
/// The user's primary key.
pub const USER_ID_HEADER: &str = "x-django-user-id";
/// The user's groups, comma-separated (`%`, `,` and controls percent-encoded).
pub const GROUPS_HEADER: &str = "x-django-groups";

/// A bound listener.
pub enum Listener {
    /// On a TCP address.
    Tcp(TcpListener),
    /// On a Unix socket.
    Unix(UnixListener),
}

/// Binds the listener's address or socket.
pub async fn bind(settings: &HttpSettings) -> Result<Listener, ConfigError> {
    match &settings.listen {
        HttpListen::Tcp(address) => TcpListener::bind(address)
            .await
            .map(Listener::Tcp)
            .map_err(|e| ConfigError(format!("cannot listen on {address}: {e}"))),
        HttpListen::Unix(unix) => crate::unix_door::bind(unix).map(Listener::Unix),
    }
}

/// One listener and the sites it answers for.
pub struct HttpDoor {
    settings: HttpSettings,
    sites: Arc<Vec<Site>>,
    challenge: HeaderValue,
}

type Reply = Response<Full<Bytes>>;

impl HttpDoor {
    /// A front door for one listener over the configured sites.
    pub fn new(settings: HttpSettings, sites: Arc<Vec<Site>>) -> Result<HttpDoor, ConfigError> {
        let challenge = format!("Basic realm=\"{}\", charset=\"UTF-8\"", settings.realm);
        let challenge = HeaderValue::from_str(&challenge)
            .map_err(|_| ConfigError(format!("realm {:?} cannot be sent", settings.realm)))?;
        Ok(HttpDoor {
            settings,
            sites,
            challenge,
        })
    }

    /// Accepts connections until the task is dropped.
    pub async fn run(self: Arc<Self>, listener: Listener) {
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let accepted = match &listener {
                Listener::Tcp(tcp) => tcp.accept().await.map(|(stream, peer)| {
                    let _ = stream.set_nodelay(true);
                    let door = self.clone();
                    tokio::spawn(async move {
                        door.serve(stream, Peer::Ip(peer.ip())).await;
                        drop(slot);
                    });
                }),
                Listener::Unix(unix) => unix.accept().await.map(|(stream, _)| {
                    let door = self.clone();
                    tokio::spawn(async move {
                        door.serve(stream, Peer::Unix).await;
                        drop(slot);
                    });
                }),
            };
            if let Err(e) = accepted {
                tracing::warn!(listen = %self.settings.listen, "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// Serves one keep-alive connection.
    async fn serve<S>(self: Arc<Self>, stream: S, peer: Peer)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let service = service_fn(move |request| {
            let door = self.clone();
            async move {
                let reply = tokio::time::timeout(ANSWER_DEADLINE, door.respond(request, peer))
                    .await
                    .unwrap_or_else(|_| {
                        tracing::error!("no answer within {ANSWER_DEADLINE:?}; 503");
                        plain(StatusCode::SERVICE_UNAVAILABLE, "not answered in time\n")
                    });
                Ok::<_, Infallible>(reply)
            }
        });
        let served = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_DEADLINE)
            .max_header_size(MAX_HEAD)
            .max_headers(MAX_HEADERS)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service)
            .await;
        if let Err(e) = served {
            tracing::debug!(?peer, "HTTP connection closed: {e}");
        }
    }

    /// Routes one request.
    async fn respond(&self, request: Request<Incoming>, peer: Peer) -> Reply {
        let path = request.uri().path();
        let (status, content_type, body) = match path {
            "/healthz" | "/readyz" | "/metrics"
                if !matches!(*request.method(), Method::GET | Method::HEAD) =>
            {
                return plain(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only\n");
            }
            "/healthz" => ops::health(),
            "/readyz" => ops::ready(&self.sites).await,
            "/metrics" => ops::metrics(&self.sites),
            _ if path == AUTH_PATH || path.starts_with("/auth/") => {
                return self.authenticate(&request, peer).await;
            }
            _ => return plain(StatusCode::NOT_FOUND, "not found\n"),
        };
        let mut reply = Response::new(Full::new(Bytes::from(body)));
        *reply.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        reply
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        reply
    }

    /// Answers a forward-auth check.
    async fn authenticate(&self, request: &Request<Incoming>, peer: Peer) -> Reply {
        let headers = request.headers();
        let client = request::client_address(headers, peer, &self.settings.trusted);
        let (method, uri, host) = request::original(headers);
        let span = tracing::info_span!("request", method = %method, uri = %uri, host = %host);
        async {
            let uri = request.uri();
            let (site, requirement) = match request::target(&self.sites, uri.path(), uri.query()) {
                Ok(target) => target,
                Err(problem) => {
                    tracing::error!(listen = %self.settings.listen, "{problem}");
                    return plain(StatusCode::INTERNAL_SERVER_ERROR, "misconfigured check\n");
                }
            };
            let (user, decision) = match request::credentials(headers) {
                Some(credentials) => {
                    let decision = site
                        .authenticate(&credentials.user, &credentials.password, &requirement)
                        .await;
                    (credentials.user, decision)
                }
                None => (Vec::new(), Ok(Decision::Denied(Denial::NoUser))),
            };
            log_outcome(DOOR, site, &user, &client, &decision);
            match answer(decision) {
                Answer::Granted(identity) => granted(
                    identity.username.into_bytes(),
                    identity.id,
                    &identity.groups,
                ),
                Answer::Unauthorized => {
                    let mut reply = plain(StatusCode::UNAUTHORIZED, "authentication required\n");
                    reply
                        .headers_mut()
                        .insert(WWW_AUTHENTICATE, self.challenge.clone());
                    reply
                }
                Answer::Forbidden => plain(StatusCode::FORBIDDEN, "forbidden\n"),
                Answer::Error => plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot check now\n"),
            }
        }
        .instrument(span)
        .await
    }
}

/// 200 with who the user is.
fn granted(username: Vec<u8>, id: i64, groups: &[String]) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::new()));
    let values = [
        (USER_HEADER, username),
        (USER_ID_HEADER, id.to_string().into_bytes()),
        (GROUPS_HEADER, encode_groups(groups)),
    ];
    for (name, value) in values {
        match HeaderValue::from_bytes(&value) {
            Ok(value) => {
                reply.headers_mut().insert(name, value);
            }
            // `answer` and `encode_groups` keep control characters out.
            Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "unsendable header\n"),
        }
    }
    reply
}

/// A short text reply.
fn plain(status: StatusCode, body: &'static str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    reply
}
