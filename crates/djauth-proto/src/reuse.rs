//! Grants a web-server process may give again without asking the daemon.
//!
//! The daemon marks each grant with how long the data behind it stays
//! within its site's freshness window (`Reply::Granted::reuse_ms`; zero
//! when the site reads its database on every request). Within that time
//! the same question, byte for byte, gets the same answer, so a process
//! that keeps it saves a round trip per request without ever answering
//! from older data than the daemon itself would. Only grants are kept;
//! refusals and errors always go to the daemon. Questions are kept as an
//! HMAC-SHA-256 under a random key made in each process, never in clear.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::wire::{Reply, Request};

/// Most grants a process keeps.
const MAX_GRANTS: usize = 4096;

/// A question's key: the MAC of the socket path and the encoded request.
type QuestionKey = [u8; 32];

/// Reusable grants, by question; `const`-constructible for a `static`.
pub struct Reuse {
    state: Mutex<Option<State>>,
}

struct State {
    mac_key: Zeroizing<[u8; 32]>,
    grants: HashMap<QuestionKey, (Instant, Reply)>,
}

impl Default for Reuse {
    fn default() -> Reuse {
        Reuse::new()
    }
}

impl Reuse {
    /// Nothing kept yet; the key is made on first use.
    pub const fn new() -> Reuse {
        Reuse {
            state: Mutex::new(None),
        }
    }

    /// The grant kept for this question, if it has not expired.
    pub fn get(&self, socket: &Path, request: &Request) -> Option<Reply> {
        let mut guard = self.lock();
        let state = guard.as_mut()?;
        let key = state.key(socket, request)?;
        let (until, reply) = state.grants.get(&key)?;
        if Instant::now() < *until {
            Some(reply.clone())
        } else {
            state.grants.remove(&key);
            None
        }
    }

    /// Keeps `reply` for this question if it is a grant the daemon marked reusable.
    pub fn keep(&self, socket: &Path, request: &Request, reply: &Reply) {
        let Reply::Granted { reuse_ms, .. } = reply else {
            return;
        };
        if *reuse_ms == 0 || matches!(request, Request::Ping) {
            return;
        }
        let until = Instant::now() + Duration::from_millis(u64::from(*reuse_ms));
        let mut guard = self.lock();
        if guard.is_none() {
            *guard = State::new();
        }
        let Some(state) = guard.as_mut() else {
            return;
        };
        let Some(key) = state.key(socket, request) else {
            return;
        };
        if state.grants.len() >= MAX_GRANTS {
            let now = Instant::now();
            state.grants.retain(|_, (until, _)| *until > now);
            if state.grants.len() >= MAX_GRANTS {
                state.grants.clear();
            }
        }
        state.grants.insert(key, (until, reply.clone()));
    }

    /// Forgets every grant and the key (in a new web-server child process).
    pub fn reset(&self) {
        *self.lock() = None;
    }

    /// How many grants are kept.
    pub fn len(&self) -> usize {
        self.lock().as_ref().map_or(0, |state| state.grants.len())
    }

    /// Whether no grant is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Option<State>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// A fresh random key; `None` (nothing is kept) if the system has no randomness.
    fn new() -> Option<State> {
        let mut mac_key = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut mac_key[..]).ok()?;
        Some(State {
            mac_key,
            grants: HashMap::new(),
        })
    }

    fn key(&self, socket: &Path, request: &Request) -> Option<QuestionKey> {
        use std::os::unix::ffi::OsStrExt;
        let frame = request.encode().ok()?;
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.mac_key[..]).ok()?;
        let socket = socket.as_os_str().as_bytes();
        mac.update(&(socket.len() as u64).to_be_bytes());
        mac.update(socket);
        mac.update(&frame);
        Some(mac.finalize().into_bytes().into())
    }
}
