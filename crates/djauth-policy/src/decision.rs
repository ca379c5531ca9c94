//! What a decision can be.

use std::sync::Arc;
use std::time::Duration;

use djauth_store::StoreError;

/// Who a granted request belongs to, as stored in Django's database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user's primary key.
    pub id: i64,
    /// The stored username (never the spelling the client typed).
    pub username: String,
    /// The user's group names, sorted.
    pub groups: Vec<String>,
    /// `is_staff`.
    pub is_staff: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
    /// How much longer the data behind this grant stays within the site's
    /// freshness window: a client may reuse the grant for that long (zero
    /// when the site reads its database on every request).
    pub fresh_for: Duration,
}

/// Why a request was refused. Only for logs: clients see 401 or 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The password did not match.
    WrongPassword,
    /// The stored password is unusable (`!…`): this account cannot log in with a password.
    UnusablePassword,
    /// The stored value names no known algorithm (or is empty).
    UnknownAlgorithm,
    /// The stored hash's algorithm is not in the site's `password_hashers`.
    HasherNotEnabled,
    /// The stored hash of a known algorithm is malformed; a log line says how.
    MalformedHash,
    /// The account exists but `is_active` is false.
    Inactive,
    /// Several rows have this exact username.
    AmbiguousUser,
    /// The user's row holds values of the wrong type.
    BadUserRow,
    /// No authenticated user was given to an authorization check.
    NoUser,
    /// The user is authenticated but meets none of the requirements.
    RequirementNotMet,
}

impl Denial {
    /// A short stable word for log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Denial::WrongPassword => "wrong-password",
            Denial::UnusablePassword => "unusable-password",
            Denial::UnknownAlgorithm => "unknown-algorithm",
            Denial::HasherNotEnabled => "hasher-not-enabled",
            Denial::MalformedHash => "malformed-hash",
            Denial::Inactive => "inactive",
            Denial::AmbiguousUser => "ambiguous-user",
            Denial::BadUserRow => "bad-user-row",
            Denial::NoUser => "no-user",
            Denial::RequirementNotMet => "requirement-not-met",
        }
    }
}

/// The answer to an authentication or authorization question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let the request through.
    Granted(Identity),
    /// No user has this name (Apache may try its next provider).
    NotFound,
    /// Refuse the request, and stop any provider chain.
    Denied(Denial),
}

/// A failure that is not an answer: the web server must answer 500.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    /// The database could not be read.
    #[error("{0}")]
    Database(Arc<StoreError>),
    /// The password-hash worker pool is gone (daemon shutting down).
    #[error("password verification could not run: {0}")]
    Kdf(String),
}
