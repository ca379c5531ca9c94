//! The verified-credential cache and the freshness window for user data.
//!
//! Basic auth sends the password with every request; without a cache each
//! one would pay the full password hash. Only successes are cached, under a
//! keyed MAC of (site, username, password) with a random per-process key,
//! and an entry is only valid for the stored hash it was verified against:
//! a password change invalidates it at once. User rows, groups and
//! permissions are re-read once they are older than the freshness window,
//! so a deactivation or a group change takes effect within that window.
//! Concurrent checks of the same new credentials share one computation.

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use djauth_hashers::Outcome;
use djauth_store::UserRow;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::PolicyError;
use crate::recent::{Flights, Fresh, Recent};

/// How long user data may be reused, and how many credentials are kept.
///
/// By default user rows, groups and permissions are reused for 5 seconds, so
/// a deactivation or a group change takes effect within 5 seconds; a
/// password change invalidates a remembered credential at the next read of
/// the user row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CacheConfig {
    /// User rows, groups and permissions younger than this are reused; zero
    /// reads them on every request.
    pub freshness: Duration,
    /// Most verified credentials kept (about 80 bytes each, measured). User
    /// rows, groups and permissions are kept for at most 10,000 users (or
    /// this many, if fewer).
    pub max_credentials: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            freshness: Duration::from_secs(5),
            max_credentials: 100_000,
        }
    }
}

/// A credential's cache key: HMAC-SHA-256 under the process key.
pub(crate) type CredentialKey = [u8; 32];
/// SHA-256 of the stored password hash a credential was verified against.
pub(crate) type StoredDigest = [u8; 32];

/// One site's caches.
pub(crate) struct SiteCache {
    mac_key: Zeroizing<[u8; 32]>,
    /// How long user rows, groups and permissions are reused.
    pub(crate) freshness: Duration,
    /// Credentials verified against the stored hash with this digest.
    pub(crate) credentials: Recent<CredentialKey, StoredDigest>,
    /// Password checks in progress, by credential and stored hash.
    pub(crate) checks: Flights<(CredentialKey, StoredDigest), Verified>,
    /// Dummy hashes in progress for unknown, inactive and ambiguous users,
    /// by credential: concurrent identical attempts share one, as they do
    /// for a real user, so the two cannot be told apart by timing.
    pub(crate) dummies: Flights<CredentialKey, Result<(), PolicyError>>,
    pub(crate) users: Option<Fresh<String, Option<UserRow>>>,
    pub(crate) groups: Option<Fresh<i64, Arc<Vec<String>>>>,
    pub(crate) permissions: Option<Fresh<i64, Arc<Vec<String>>>>,
}

/// What a shared password check found: `Ok` for a match, else the outcome
/// or the failure (shared by every request that waited for it).
pub(crate) type Verified = Result<(), Arc<NotVerified>>;

/// Why a shared password check did not verify the credentials.
#[derive(Debug)]
pub(crate) enum NotVerified {
    /// The hasher's answer (mismatch, unusable, malformed, ...).
    Outcome(Outcome),
    /// The check could not run.
    Failed(PolicyError),
}

impl std::fmt::Debug for SiteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteCache")
            .field("credentials", &self.credentials.len())
            .finish_non_exhaustive()
    }
}

impl SiteCache {
    /// Empty caches with a fresh random key.
    pub(crate) fn new(config: &CacheConfig) -> SiteCache {
        let mut mac_key = Zeroizing::new([0u8; 32]);
        rand::fill(&mut mac_key[..]);
        SiteCache {
            mac_key,
            freshness: config.freshness,
            credentials: Recent::new(config.max_credentials),
            checks: Flights::new(),
            dummies: Flights::new(),
            users: fresh(config),
            groups: fresh(config),
            permissions: fresh(config),
        }
    }

    /// The cache key of (username, password); neither is kept.
    pub(crate) fn credential_key(&self, username: &str, password: &str) -> CredentialKey {
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.mac_key[..]) else {
            // HMAC takes keys of any length; unreachable, but never a panic.
            return [0; 32];
        };
        for part in [username.as_bytes(), password.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// Most users whose row, groups and permissions are kept within the
/// freshness window (about 450 bytes each). Credentials are kept for
/// longer, and many more of them, because a lost one costs a password hash;
/// a lost row costs one query.
const MAX_FRESH_USERS: u64 = 10_000;

/// Longest typed username, in bytes, whose lookup is kept within the
/// freshness window. Django's own field holds 150 characters and an email
/// field 254, so real names fit; longer ones (a client can send some 16 KiB)
/// are read every time, so that they cannot grow the cache beyond
/// `MAX_FRESH_USERS` entries of about this size each.
pub(crate) const MAX_KEPT_USERNAME: usize = 1024;

/// A map whose entries expire after the freshness window; none for a zero window.
fn fresh<K: Hash + Eq + Clone, V: Clone>(config: &CacheConfig) -> Option<Fresh<K, V>> {
    (!config.freshness.is_zero()).then(|| {
        Fresh::new(
            config.freshness,
            config.max_credentials.min(MAX_FRESH_USERS),
        )
    })
}

/// Digest of a stored password value (`None` for NULL).
pub(crate) fn stored_digest(encoded: Option<&str>) -> StoredDigest {
    let mut hasher = Sha256::new();
    match encoded {
        Some(encoded) => {
            hasher.update([1]);
            hasher.update(encoded.as_bytes());
        }
        None => hasher.update([0]),
    }
    hasher.finalize().into()
}
