//! The Unix-socket front door for mod_djauth (Apache's native module).
//!
//! mod_djauth keeps connections open and sends one `djauth-proto` request
//! at a time on each: the site, the credentials or the authenticated user,
//! and the requirement of the `Require` line. This module only decodes,
//! asks `djauth-policy`, and encodes; the wire format is `djauth-proto`.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use djauth_policy::{Decision, RequirementSet, Site};
use djauth_proto::wire::HEADER_LEN;
use djauth_proto::{Reply, Request, frame_len};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::config::{ConfigError, UnixSettings};
use crate::door::{find_site, log_outcome, unless_hung_up};
use crate::header_value::LoggedName;

/// This front door's name in logs and metrics.
const DOOR: &str = "unix";

/// Once a request has started to arrive, all of it must within this time.
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// Writing a reply may take this long (the module's read timeout is 30 s).
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once (mod_djauth keeps one per busy Apache thread).
const MAX_CONNECTIONS: usize = 1024;

/// The Unix-socket listener and the sites it answers for.
pub struct UnixDoor {
    sites: Arc<Vec<Site>>,
    idle_timeout: Duration,
}

/// Binds the socket: a stale socket file is replaced, a live one (another
/// djauth) or any other file is an error; then sets mode and group.
pub fn bind(settings: &UnixSettings) -> Result<UnixListener, ConfigError> {
    let path = &settings.path;
    let shown = path.display();
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(ConfigError(format!(
                "{shown} exists and is not a socket; refusing to replace it"
            )));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ConfigError(format!(
                "{shown}: another process is listening on this socket"
            )));
        }
        std::fs::remove_file(path)
            .map_err(|e| ConfigError(format!("cannot remove the stale socket {shown}: {e}")))?;
    }
    let listener = UnixListener::bind(path)
        .map_err(|e| ConfigError(format!("cannot listen on {shown}: {e}")))?;
    if let Some(group) = &settings.group {
        let gid = group_id(group)?;
        std::os::unix::fs::chown(path, None, Some(gid))
            .map_err(|e| ConfigError(format!("cannot give {shown} to group {group:?}: {e}")))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(settings.mode))
        .map_err(|e| ConfigError(format!("cannot set mode of {shown}: {e}")))?;
    Ok(listener)
}

/// Removes the socket file at shutdown (if it is still ours: a socket).
pub fn unlink(path: &Path) {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
}

/// A group name (or a numeric id) as a group id.
fn group_id(group: &str) -> Result<u32, ConfigError> {
    if let Ok(gid) = group.parse::<u32>() {
        return Ok(gid);
    }
    let unknown = || ConfigError(format!("unix socket group {group:?} does not exist"));
    let name = std::ffi::CString::new(group).map_err(|_| unknown())?;
    let mut entry: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: every pointer is valid for the call; getgrnam_r writes the
    // entry's strings into `buffer`, which outlives the use of `entry`.
    let status = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut result,
        )
    };
    if status != 0 || result.is_null() {
        return Err(unknown());
    }
    Ok(entry.gr_gid)
}

impl UnixDoor {
    /// A front door over the configured sites; connections idle for
    /// `idle_timeout` are closed (mod_djauth reconnects by itself).
    pub fn new(sites: Arc<Vec<Site>>, idle_timeout: Duration) -> UnixDoor {
        UnixDoor {
            sites,
            idle_timeout,
        }
    }

    /// Accepts connections until the task is dropped.
    pub async fn run(self: Arc<Self>, listener: UnixListener) {
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("unix socket accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let door = self.clone();
            tokio::spawn(async move {
                if let Err(e) = door.serve(stream).await {
                    tracing::debug!("unix connection closed: {e}");
                }
                drop(slot);
            });
        }
    }

    /// Answers requests on one connection until the module closes it.
    async fn serve(&self, mut stream: UnixStream) -> Result<(), String> {
        let client = match stream.peer_cred() {
            Ok(cred) => format!(
                "unix:uid={},pid={}",
                cred.uid(),
                cred.pid().map_or("?".to_string(), |p| p.to_string())
            ),
            Err(_) => "unix".to_string(),
        };
        loop {
            // An idle persistent connection may wait for its next request
            // up to the idle timeout (so idle connections cannot hold every
            // slot for ever); a started request may not dawdle.
            let mut header = [0u8; HEADER_LEN];
            match tokio::time::timeout(self.idle_timeout, stream.read_u8()).await {
                Ok(Ok(first)) => header[0] = first,
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Ok(Err(e)) => return Err(e.to_string()),
                Err(_) => return Err("idle for too long; closing".into()),
            }
            let deadline = tokio::time::Instant::now() + REQUEST_DEADLINE;
            let payload = tokio::time::timeout_at(deadline, async {
                stream.read_exact(&mut header[1..]).await?;
                let len = frame_len(header)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                let mut payload = Zeroizing::new(vec![0u8; len]);
                stream.read_exact(&mut payload).await?;
                Ok::<_, std::io::Error>(payload)
            })
            .await
            .map_err(|_| "no complete request in time; closing".to_string())?
            .map_err(|e| e.to_string())?;
            let (reply, keep) = match Request::decode(&payload) {
                Ok(request) => match unless_hung_up(&stream, self.answer(request, &client)).await {
                    Some(reply) => (reply, true),
                    None => return Err("the module hung up before the answer".into()),
                },
                Err(e) => {
                    tracing::warn!(client = %LoggedName(client.as_bytes()), "bad request on the unix socket: {e}");
                    (
                        Reply::Error {
                            message: format!("bad request: {e}"),
                        },
                        false,
                    )
                }
            };
            let bytes = reply.encode().unwrap_or_else(|e| {
                Reply::Error {
                    message: format!("reply too large: {e}"),
                }
                .encode()
                .unwrap_or_default()
            });
            tokio::time::timeout(IO_TIMEOUT, stream.write_all(&bytes))
                .await
                .map_err(|_| "timed out writing to the web server".to_string())?
                .map_err(|e| e.to_string())?;
            if !keep {
                return Ok(());
            }
        }
    }

    /// Decides one request.
    async fn answer(&self, request: Request, client: &str) -> Reply {
        let (site, user, requirement) = match &request {
            Request::Ping => return Reply::Pong,
            Request::Authenticate {
                site,
                user,
                requirement,
                ..
            }
            | Request::Authorize {
                site,
                user,
                requirement,
            } => (site, user, requirement),
        };
        let how = "name one with DjangoAuthSite in the Apache configuration";
        let site = match find_site(
            &self.sites,
            Some(site.as_str()).filter(|s| !s.is_empty()),
            how,
        ) {
            Ok(site) => site,
            Err(message) => return error(message),
        };
        let requirement: RequirementSet = match requirement.parse() {
            Ok(requirement) => requirement,
            Err(e) => return error(e.to_string()),
        };
        let decision = match &request {
            Request::Authenticate { password, .. } => {
                site.authenticate(user, password, &requirement).await
            }
            _ => site.authorize(Some(user), &requirement).await,
        };
        log_outcome(DOOR, site, user, client, &decision);
        match decision {
            Ok(Decision::Granted(identity)) => Reply::Granted {
                username: identity.username,
                user_id: identity.id,
                groups: identity.groups,
                reuse_ms: u32::try_from(identity.fresh_for.as_millis()).unwrap_or(u32::MAX),
            },
            Ok(Decision::NotFound) => Reply::NotFound,
            Ok(Decision::Denied(denial)) => Reply::Denied {
                reason: denial.as_str().into(),
            },
            Err(e) => Reply::Error {
                message: format!("site {:?}: {e}", site.name()),
            },
        }
    }
}

/// A request the daemon cannot answer: logged here, explained to the module.
fn error(message: String) -> Reply {
    tracing::error!("unix socket request: {message}");
    Reply::Error { message }
}
