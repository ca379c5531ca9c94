//! `pbkdf2_sha256` and `pbkdf2_sha1`: `<algorithm>$<iterations>$<salt>$<b64(dk)>`.

use std::hint::black_box;

use zeroize::Zeroizing;

use super::{Reason, Work};
use crate::algorithm::Algorithm;
use crate::config::{DjangoDefaults, HasherConfig};
use crate::util::{PyInt, b64_standard, char_len, ct_eq, py_int, salt_too_short};

/// A parsed PBKDF2 value.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    /// The iteration field as Python's `int()` reads it.
    stored_iterations: PyInt,
    /// The count actually used (Django replaces 0 by its default).
    iterations: u32,
    /// The salt field (used as its UTF-8 bytes).
    salt: &'a str,
}

/// Django's `decode`: `encoded.split("$", 3)` into four parts and
/// `int(iterations)`.
fn decode(encoded: &str) -> Result<(&str, PyInt, &str), Reason> {
    let mut parts = encoded.splitn(4, '$');
    let (Some(_), Some(iterations), Some(salt), Some(_)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected <algorithm>$<iterations>$<salt>$<hash>");
    };
    let value = py_int(iterations).ok_or("iteration count is not an integer")?;
    Ok((iterations, value, salt))
}

/// Everything Django's `verify` checks before comparing.
pub(crate) fn parse<'a>(encoded: &'a str, cfg: &HasherConfig) -> Result<Parsed<'a>, Reason> {
    let (_, stored, salt) = decode(encoded)?;
    if salt.is_empty() {
        return Err("empty salt");
    }
    // `iterations = iterations or self.iterations`
    let effective = if stored == 0 {
        PyInt::from(cfg.defaults.pbkdf2_iterations)
    } else {
        stored
    };
    if effective < 1 {
        return Err("iteration count must be positive");
    }
    if effective > PyInt::from(i32::MAX) {
        return Err("iteration count too large");
    }
    if effective > PyInt::from(cfg.pbkdf2_max_iterations) {
        return Err("iteration count above the configured pbkdf2_max_iterations");
    }
    let iterations = u32::try_from(effective).map_err(|_| "iteration count too large")?;
    Ok(Parsed {
        stored_iterations: stored,
        iterations,
        salt,
    })
}

/// PBKDF2-HMAC with the algorithm's digest, full digest length.
fn derive(
    algorithm: Algorithm,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Zeroizing<Vec<u8>> {
    if algorithm == Algorithm::Pbkdf2Sha1 {
        let mut out = Zeroizing::new(vec![0u8; 20]);
        ::pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, &mut out);
        out
    } else {
        let mut out = Zeroizing::new([0u8; 32]);
        #[cfg(target_arch = "x86_64")]
        let done = super::pbkdf2_sha256_ni::derive(password, salt, iterations, &mut out);
        #[cfg(not(target_arch = "x86_64"))]
        let done = false;
        if !done {
            ::pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut *out);
        }
        Zeroizing::new(out.to_vec())
    }
}

/// Re-encodes with the parsed parameters and compares the whole string.
pub(crate) fn verify(
    algorithm: Algorithm,
    parsed: &Parsed<'_>,
    password: &[u8],
    encoded: &str,
) -> bool {
    let dk = derive(
        algorithm,
        password,
        parsed.salt.as_bytes(),
        parsed.iterations,
    );
    let candidate = Zeroizing::new(format!(
        "{}${}${}${}",
        algorithm.name(),
        parsed.iterations,
        parsed.salt,
        b64_standard(&dk).as_str()
    ));
    ct_eq(candidate.as_bytes(), encoded.as_bytes())
}

/// Django: stored iterations differ from the default, or the salt is short.
pub(crate) fn must_update(encoded: &str, defaults: &DjangoDefaults) -> Result<bool, Reason> {
    let (_, stored, salt) = decode(encoded)?;
    Ok(stored != PyInt::from(defaults.pbkdf2_iterations)
        || (defaults.salt_entropy_check && salt_too_short(char_len(salt))))
}

/// Django: PBKDF2 once more with `default - stored` iterations, if positive.
pub(crate) fn harden_work(
    algorithm: Algorithm,
    parsed: &Parsed<'_>,
    defaults: &DjangoDefaults,
) -> Option<Work> {
    let extra = PyInt::from(defaults.pbkdf2_iterations).saturating_sub(parsed.stored_iterations);
    let iterations = u32::try_from(extra).ok().filter(|n| *n > 0)?;
    Some(Work::Pbkdf2 {
        algorithm,
        iterations,
        salt: parsed.salt.to_owned(),
    })
}

/// Computes and discards one PBKDF2 (dummy hash and harden work).
pub(crate) fn burn(algorithm: Algorithm, password: &[u8], salt: &[u8], iterations: u32) {
    let dk = derive(algorithm, black_box(password), salt, iterations);
    black_box(dk.as_slice());
}

/// E.g. `pbkdf2_sha256, 1000000 iterations, salt 22 chars`.
pub(crate) fn summary(algorithm: Algorithm, parsed: &Parsed<'_>, encoded: &str) -> String {
    let mut s = format!(
        "{}, {} iterations, salt {} chars",
        algorithm.name(),
        parsed.iterations,
        char_len(parsed.salt)
    );
    let digest_len = if algorithm == Algorithm::Pbkdf2Sha1 {
        20
    } else {
        32
    };
    let field = encoded.split('$').nth(1).unwrap_or_default();
    if parsed.stored_iterations == 0 || field != parsed.iterations.to_string() {
        s.push_str(", non-canonical iteration field (never matches)");
    }
    let hash = encoded.splitn(4, '$').nth(3).unwrap_or_default();
    if !crate::util::is_canonical_b64(hash, digest_len) {
        s.push_str(", hash is not the canonical base64 of a digest (never matches)");
    }
    s
}
