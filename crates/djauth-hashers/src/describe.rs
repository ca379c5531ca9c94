//! A password-free description of a stored value, for operator tooling.

use std::fmt;

use crate::algorithm::Algorithm;
use crate::config::HasherConfig;
use crate::hashers;
use crate::identify::{Identified, UNUSABLE_PASSWORD_PREFIX, identify};
use crate::util::char_len;

/// What [`describe`] found out about a stored value. Never contains the hash
/// itself, nor anything derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The identified hasher (`None` for unusable values and unknown algorithms).
    pub algorithm: Option<Algorithm>,
    /// Whether the hasher is in the configuration's `PASSWORD_HASHERS`.
    pub enabled: bool,
    /// `false` for `!`-prefixed (unusable) values.
    pub usable: bool,
    /// Human-readable summary, e.g. `"pbkdf2_sha256, 1000000 iterations, salt 22 chars"`
    /// or `"argon2id v=19 m=102400 t=2 p=8, salt 16 bytes, hash 32 bytes"`.
    pub summary: String,
    /// Whether Django would re-hash the password on a successful login
    /// (`hasher_changed or preferred.must_update(encoded)`); `None` when
    /// Django could not verify the value at all (unusable, unknown, disabled
    /// or malformed).
    pub must_update: Option<bool>,
    /// Why the value can never be verified, if Django would raise on it (or a
    /// configured resource cap refuses it).
    pub malformed: Option<&'static str>,
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)?;
        if let Some(reason) = self.malformed {
            write!(f, "; malformed: {reason}")?;
        }
        if self.algorithm.is_some() && !self.enabled {
            f.write_str("; hasher not enabled")?;
        }
        match self.must_update {
            Some(true) => f.write_str("; Django would upgrade it on login"),
            Some(false) => f.write_str("; up to date"),
            None => Ok(()),
        }
    }
}

/// Identifies and describes a stored password value without a password,
/// under the given configuration (which decides `enabled` and `must_update`).
pub fn describe(encoded: &str, cfg: &HasherConfig) -> Description {
    let mut d = Description {
        algorithm: None,
        enabled: false,
        usable: true,
        summary: String::new(),
        must_update: None,
        malformed: None,
    };
    if encoded.starts_with(UNUSABLE_PASSWORD_PREFIX) {
        d.usable = false;
        d.summary = format!(
            "unusable password ('!' prefix, {} chars)",
            char_len(encoded)
        );
        return d;
    }
    let algorithm = match identify(encoded) {
        Identified::Known(a) => a,
        Identified::Unknown(name) => {
            d.summary = describe_unknown(encoded, name);
            return d;
        }
    };
    d.algorithm = Some(algorithm);
    d.enabled = cfg.enabled.contains(&algorithm);
    let preferred = cfg.enabled.first().copied();
    let decoded = if Some(algorithm) == preferred {
        hashers::must_update(algorithm, encoded, cfg)
    } else {
        Ok(true)
    };
    let parsed = hashers::parse(algorithm, encoded, cfg);
    match (decoded, parsed) {
        (Ok(must_update), Ok(parsed)) => {
            d.summary = hashers::summary(algorithm, &parsed, encoded);
            if d.enabled {
                d.must_update = Some(must_update);
            }
        }
        (Err(reason), _) | (_, Err(reason)) => {
            d.summary = format!("{algorithm}, malformed");
            d.malformed = Some(reason);
        }
    }
    d
}

/// Describes a value whose algorithm is unknown without echoing a possible
/// secret: the name is shown only when it looks like an algorithm name.
fn describe_unknown(encoded: &str, name: &str) -> String {
    if encoded.is_empty() {
        return "empty value".to_owned();
    }
    let plausible = name.len() < encoded.len()
        && (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plausible {
        format!("unknown algorithm \"{name}\" ({} chars)", char_len(encoded))
    } else if name.len() == encoded.len() {
        format!("unrecognised value ({} chars, no '$')", char_len(encoded))
    } else {
        format!("unrecognised value ({} chars)", char_len(encoded))
    }
}
