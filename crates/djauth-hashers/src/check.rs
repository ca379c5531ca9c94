//! Django's `verify_password`: identification, unusable and unknown values,
//! the dummy hash, `must_update` and `harden_runtime`.

use std::fmt;

use crate::algorithm::Algorithm;
use crate::config::{ConfigError, HasherConfig};
use crate::hashers::{self, Reason, Work};
use crate::identify::{Identified, UNUSABLE_PASSWORD_PREFIX, identify};

/// The answer to one password check.
///
/// Only [`Outcome::Match`] grants access; every other variant is a denial
/// that differs in what should be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The password is right.
    Match(Algorithm),
    /// The password is wrong.
    Mismatch(Algorithm),
    /// The stored value starts with `!` (unusable password): never matches.
    Unusable,
    /// No stored value at all (SQL `NULL`; Django raises `TypeError`).
    Null,
    /// The algorithm is not one Django ships (or the value is empty / garbage).
    UnknownAlgorithm,
    /// A known algorithm that is not in the configured `PASSWORD_HASHERS`.
    Disabled(Algorithm),
    /// A value of a known, enabled algorithm that Django would raise on
    /// (HTTP 500 through mod_wsgi), or that exceeds a configured resource cap.
    Malformed {
        /// The identified algorithm.
        algorithm: Algorithm,
        /// A short, secret-free description of the problem.
        reason: &'static str,
    },
}

impl Outcome {
    /// `true` only for [`Outcome::Match`].
    pub fn is_match(&self) -> bool {
        matches!(self, Outcome::Match(_))
    }

    /// The identified algorithm, where there is one.
    pub fn algorithm(&self) -> Option<Algorithm> {
        match *self {
            Outcome::Match(a) | Outcome::Mismatch(a) | Outcome::Disabled(a) => Some(a),
            Outcome::Malformed { algorithm, .. } => Some(algorithm),
            Outcome::Unusable | Outcome::Null | Outcome::UnknownAlgorithm => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Match(a) => write!(f, "password matches ({a})"),
            Outcome::Mismatch(a) => write!(f, "password mismatch ({a})"),
            Outcome::Unusable => f.write_str("unusable password"),
            Outcome::Null => f.write_str("no password stored (NULL)"),
            Outcome::UnknownAlgorithm => f.write_str("unknown password hashing algorithm"),
            Outcome::Disabled(a) => write!(f, "password hasher {a} is not enabled"),
            Outcome::Malformed { algorithm, reason } => {
                write!(f, "malformed {algorithm} password hash: {reason}")
            }
        }
    }
}

/// What a check did besides answering (for tests of the timing defences).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Trace {
    /// The dummy hash ran.
    pub(crate) dummy: bool,
    /// `harden_runtime` ran this extra work.
    pub(crate) harden: Option<Work>,
}

/// A validated [`HasherConfig`], ready to check passwords.
///
/// All methods are pure computations (no I/O, no threads); the KDFs are CPU
/// heavy, so callers should run them on a bounded blocking pool.
#[derive(Debug, Clone)]
pub struct Hashers {
    cfg: HasherConfig,
    preferred: Algorithm,
}

impl Hashers {
    /// Validates `cfg`: at least one hasher must be enabled and the default
    /// parameters must be computable.
    pub fn new(cfg: HasherConfig) -> Result<Self, ConfigError> {
        let preferred = *cfg.enabled.first().ok_or(ConfigError::NoHashers)?;
        cfg.defaults.validate()?;
        cfg.validate_caps()?;
        Ok(Hashers { cfg, preferred })
    }

    /// The configuration in use.
    pub fn config(&self) -> &HasherConfig {
        &self.cfg
    }

    /// The preferred hasher: the first entry of `PASSWORD_HASHERS`.
    pub fn preferred(&self) -> Algorithm {
        self.preferred
    }

    /// Whether `algorithm` is in the configured `PASSWORD_HASHERS`.
    pub fn is_enabled(&self, algorithm: Algorithm) -> bool {
        self.cfg.enabled.contains(&algorithm)
    }

    /// Django's `verify_password(password, encoded)`, first value.
    ///
    /// `password` is the UTF-8 encoding of the password; `encoded` the stored
    /// value (`None` for SQL `NULL`). Unusable, unknown, disabled and
    /// malformed values, and `NULL`, run one dummy hash of the preferred
    /// hasher at its default cost before answering; a wrong password on an
    /// outdated hash of the preferred algorithm runs `harden_runtime`'s extra
    /// work. Never panics, whatever `encoded` holds.
    pub fn check(&self, password: &[u8], encoded: Option<&str>) -> Outcome {
        self.check_traced(password, encoded).0
    }

    /// [`Hashers::check`], also telling which timing defences ran.
    pub(crate) fn check_traced(&self, password: &[u8], encoded: Option<&str>) -> (Outcome, Trace) {
        let mut trace = Trace::default();
        let outcome = self.decide(password, encoded, &mut trace);
        (outcome, trace)
    }

    fn decide(&self, password: &[u8], encoded: Option<&str>, trace: &mut Trace) -> Outcome {
        let mut fake = |outcome: Outcome| {
            self.dummy();
            trace.dummy = true;
            outcome
        };
        let Some(encoded) = encoded else {
            return fake(Outcome::Null);
        };
        if encoded.starts_with(UNUSABLE_PASSWORD_PREFIX) {
            return fake(Outcome::Unusable);
        }
        let algorithm = match identify(encoded) {
            Identified::Known(a) if self.is_enabled(a) => a,
            Identified::Known(a) => return fake(Outcome::Disabled(a)),
            Identified::Unknown(_) => return fake(Outcome::UnknownAlgorithm),
        };
        let malformed = |reason: Reason| Outcome::Malformed { algorithm, reason };
        let hasher_changed = algorithm != self.preferred;
        let must_update = if hasher_changed {
            true
        } else {
            match hashers::must_update(algorithm, encoded, &self.cfg) {
                Ok(m) => m,
                Err(reason) => return fake(malformed(reason)),
            }
        };
        let verified = hashers::parse(algorithm, encoded, &self.cfg).and_then(|parsed| {
            hashers::verify(algorithm, &parsed, password, encoded).map(|ok| (ok, parsed))
        });
        let (ok, parsed) = match verified {
            Ok(v) => v,
            Err(reason) => return fake(malformed(reason)),
        };
        if ok {
            return Outcome::Match(algorithm);
        }
        if !hasher_changed && must_update {
            match hashers::harden_work(algorithm, &parsed, encoded, &self.cfg) {
                Ok(Some(work)) => {
                    work.run(password);
                    trace.harden = Some(work);
                }
                Ok(None) => {}
                // Django raises from harden_runtime after the real work.
                Err(reason) => return malformed(reason),
            }
        }
        Outcome::Mismatch(algorithm)
    }

    /// One computation of the preferred hasher at its default cost over a
    /// random password and a random salt, as Django does for unknown and
    /// inactive users; the result is discarded.
    pub fn dummy(&self) {
        hashers::dummy(self.preferred, &self.cfg.defaults);
    }

    /// What `harden_runtime` would compute for a wrong password on `encoded`
    /// (`None` when Django would not harden: another algorithm than the
    /// preferred one, an up-to-date hash, nothing extra to do, or a value
    /// that does not even verify).
    #[cfg(test)]
    pub(crate) fn harden_work(&self, encoded: &str) -> Option<Work> {
        let Identified::Known(algorithm) = identify(encoded) else {
            return None;
        };
        if algorithm != self.preferred
            || !hashers::must_update(algorithm, encoded, &self.cfg).ok()?
        {
            return None;
        }
        let parsed = hashers::parse(algorithm, encoded, &self.cfg).ok()?;
        hashers::harden_work(algorithm, &parsed, encoded, &self.cfg).ok()?
    }
}

impl Default for Hashers {
    /// Django 5.2's default `PASSWORD_HASHERS` and parameters.
    fn default() -> Self {
        Hashers {
            cfg: HasherConfig::default(),
            preferred: Algorithm::Pbkdf2Sha256,
        }
    }
}
