//! A blocking client for web-server modules: persistent Unix-socket
//! connections, one in use per calling thread, timeouts on every operation.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};
use zeroize::Zeroizing;

use crate::wire::{HEADER_LEN, Reply, Request, WireError, frame_len};

/// How long each step may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting to the daemon's socket.
    pub connect: Duration,
    /// Waiting for the answer (a password check can queue behind others).
    pub read: Duration,
    /// Sending the question.
    pub write: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(30),
            write: Duration::from_secs(5),
        }
    }
}

/// Why a call got no answer.
#[derive(Debug)]
pub enum ClientError {
    /// The socket could not be reached (daemon down, wrong path, permissions).
    Connect {
        /// The socket path.
        path: PathBuf,
        /// What `connect` said.
        source: io::Error,
    },
    /// A timeout expired while talking to the daemon.
    Timeout,
    /// The daemon closed the connection (again, after one reconnect).
    Closed,
    /// Reading or writing failed.
    Io(io::Error),
    /// The daemon's bytes are not a valid reply, or the request cannot be encoded.
    Wire(WireError),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Connect { path, source } => {
                write!(
                    f,
                    "cannot connect to djauth at {}: {source}",
                    path.display()
                )
            }
            ClientError::Timeout => f.write_str("timed out talking to djauth"),
            ClientError::Closed => f.write_str("djauth closed the connection"),
            ClientError::Io(e) => write!(f, "talking to djauth: {e}"),
            ClientError::Wire(e) => write!(f, "djauth protocol: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<WireError> for ClientError {
    fn from(e: WireError) -> ClientError {
        ClientError::Wire(e)
    }
}

impl ClientError {
    fn from_io(e: io::Error) -> ClientError {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Timeout,
            io::ErrorKind::UnexpectedEof => ClientError::Closed,
            _ => ClientError::Io(e),
        }
    }

    /// A connection that was fine when it went idle broke meanwhile
    /// (daemon restarted, idle connection closed): worth one fresh try.
    fn is_broken_connection(&self) -> bool {
        match self {
            ClientError::Closed => true,
            ClientError::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::NotConnected
            ),
            _ => false,
        }
    }
}

/// Most idle connections kept per process (one per thread that made a call).
const MAX_IDLE: usize = 64;

/// Persistent connections to daemons, by socket path. A call takes an idle
/// connection (or opens one), and puts it back when the answer has arrived,
/// so each thread of a web-server process uses at most one at a time.
///
/// `Client::new` is `const`: a web-server module keeps one in a `static`.
pub struct Client {
    idle: Mutex<Vec<(PathBuf, Socket)>>,
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// A client with no connections yet; nothing is opened before the first call.
    pub const fn new() -> Client {
        Client {
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Asks the daemon at `path` one question. A reused connection that
    /// turns out broken is replaced by one new connection, once.
    pub fn call(
        &self,
        path: &Path,
        timeouts: &Timeouts,
        request: &Request,
    ) -> Result<Reply, ClientError> {
        let frame = request.encode()?;
        if let Some(socket) = self.take_idle(path) {
            match exchange(&socket, &frame) {
                Ok(reply) => {
                    self.put_idle(path, socket);
                    return Ok(reply);
                }
                // The others were most likely opened to the same dead daemon.
                Err(e) if e.is_broken_connection() => self.forget(path),
                Err(e) => return Err(e),
            }
        }
        let socket = connect(path, timeouts)?;
        let reply = exchange(&socket, &frame)?;
        self.put_idle(path, socket);
        Ok(reply)
    }

    /// Drops every idle connection (e.g. in a freshly forked process).
    pub fn reset(&self) {
        self.lock().clear();
    }

    /// How many idle connections are kept (for tests).
    pub fn idle_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(PathBuf, Socket)>> {
        // A panic while holding the lock leaves only a list of sockets behind.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_idle(&self, path: &Path) -> Option<Socket> {
        let mut idle = self.lock();
        let index = idle.iter().rposition(|(p, _)| p == path)?;
        Some(idle.swap_remove(index).1)
    }

    fn put_idle(&self, path: &Path, socket: Socket) {
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE {
            idle.push((path.to_path_buf(), socket));
        }
    }

    fn forget(&self, path: &Path) {
        self.lock().retain(|(p, _)| p != path);
    }
}

fn connect(path: &Path, timeouts: &Timeouts) -> Result<Socket, ClientError> {
    let error = |source| ClientError::Connect {
        path: path.to_path_buf(),
        source,
    };
    let address = SockAddr::unix(path).map_err(error)?;
    let socket = Socket::new(Domain::UNIX, Type::STREAM.cloexec(), None).map_err(error)?;
    socket
        .connect_timeout(&address, timeouts.connect)
        .map_err(error)?;
    socket
        .set_read_timeout(Some(timeouts.read))
        .map_err(ClientError::Io)?;
    socket
        .set_write_timeout(Some(timeouts.write))
        .map_err(ClientError::Io)?;
    Ok(socket)
}

/// Sends one frame and reads one reply.
fn exchange(socket: &Socket, frame: &[u8]) -> Result<Reply, ClientError> {
    let mut sent = 0;
    while sent < frame.len() {
        // socket2 sends with MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE.
        match socket.send(&frame[sent..]) {
            Ok(0) => return Err(ClientError::Closed),
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ClientError::from_io(e)),
        }
    }
    let mut reader = socket;
    let mut header = [0u8; HEADER_LEN];
    reader
        .read_exact(&mut header)
        .map_err(ClientError::from_io)?;
    let len = frame_len(header)?;
    let mut payload = Zeroizing::new(vec![0u8; len]);
    reader
        .read_exact(&mut payload)
        .map_err(ClientError::from_io)?;
    Ok(Reply::decode(&payload)?)
}
