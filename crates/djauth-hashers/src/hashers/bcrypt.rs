//! `bcrypt_sha256` and `bcrypt`: the prefix, `$`, then a 60-character bcrypt
//! string (`bcrypt_sha256$$2b$12$<22 salt><31 hash>`).
//!
//! Django calls pyca/bcrypt's `hashpw(password, <everything after the first $>)`
//! and compares the whole re-encoded string. `hashpw`'s salt parsing is
//! reproduced here (`$`-separated, empty pieces dropped, exactly three pieces:
//! version `2a`/`2b`/`2x`/`2y`, a cost, and at least 22 salt characters of
//! which the first 22 are used), and so is the output format, which keeps the
//! stored version. `bcrypt_sha256` hashes the 64 lowercase hex characters of
//! SHA-256(password).
//!
//! Deviation (documented): passwords longer than 72 bytes are not refused as
//! pyca/bcrypt >= 5.0 does; the first 72 bytes are used, as bcrypt < 5.0 did.

use std::hint::black_box;

use ::bcrypt::{BASE_64, Version};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::{Reason, Work};
use crate::algorithm::Algorithm;
use crate::config::{DjangoDefaults, HasherConfig};
use crate::util::{PyInt, ct_eq, hex_lower, py_int};

/// The bcrypt version prefix, preserved when re-encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    A,
    B,
    X,
    Y,
}

impl Prefix {
    fn version(self) -> Version {
        match self {
            Prefix::A => Version::TwoA,
            Prefix::B => Version::TwoB,
            Prefix::X => Version::TwoX,
            Prefix::Y => Version::TwoY,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Prefix::A => "$2a$",
            Prefix::B => "$2b$",
            Prefix::X => "$2x$",
            Prefix::Y => "$2y$",
        }
    }
}

/// What pyca/bcrypt's `hashpw` reads from its `salt` argument.
#[derive(Debug, Clone, Copy)]
struct Setting {
    prefix: Prefix,
    cost: u32,
    salt: [u8; 16],
}

/// pyca/bcrypt `hashpw`'s salt parsing ("Invalid salt" → `Err`).
fn parse_setting(salt: &[u8]) -> Result<Setting, Reason> {
    const INVALID: Reason = "invalid bcrypt salt (pyca/bcrypt: Invalid salt)";
    let mut pieces = salt.split(|b| *b == b'$').filter(|p| !p.is_empty());
    let (Some(version), Some(cost), Some(remainder), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(INVALID);
    };
    let prefix = match version {
        b"2y" => Prefix::Y,
        b"2b" => Prefix::B,
        b"2a" => Prefix::A,
        b"2x" => Prefix::X,
        _ => return Err(INVALID),
    };
    let cost = std::str::from_utf8(cost)
        .ok()
        .and_then(|c| c.parse::<u32>().ok())
        .ok_or(INVALID)?;
    let encoded_salt = remainder.get(..22).ok_or(INVALID)?;
    let salt: [u8; 16] = BASE_64
        .decode(encoded_salt)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(INVALID)?;
    Ok(Setting { prefix, cost, salt })
}

/// A parsed bcrypt value.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    setting: Setting,
    /// Everything after the algorithm name and its `$`.
    data: &'a str,
}

/// Checks a cost as `bcrypt::hash_with_salt` does, plus the configured cap.
fn check_cost(cost: u32, cfg: &HasherConfig) -> Result<(), Reason> {
    if !(4..=31).contains(&cost) {
        return Err("bcrypt cost outside 4..=31");
    }
    if cost > cfg.bcrypt_max_cost {
        return Err("bcrypt cost above the configured bcrypt_max_cost");
    }
    Ok(())
}

/// Everything Django's `verify` (via `hashpw`) rejects before comparing.
pub(crate) fn parse<'a>(encoded: &'a str, cfg: &HasherConfig) -> Result<Parsed<'a>, Reason> {
    let (_, data) = encoded
        .split_once('$')
        .ok_or("missing '$' after the algorithm name")?;
    if !data.is_ascii() {
        return Err("bcrypt string is not ASCII");
    }
    let setting = parse_setting(data.as_bytes())?;
    check_cost(setting.cost, cfg)?;
    Ok(Parsed { setting, data })
}

/// Runs `f` on the bytes Django feeds to bcrypt for this hasher.
fn with_secret<T>(algorithm: Algorithm, password: &[u8], f: impl FnOnce(&[u8]) -> T) -> T {
    if algorithm == Algorithm::BcryptSha256 {
        let mut digest = Sha256::digest(password);
        let hex = hex_lower(&digest);
        zeroize::Zeroize::zeroize(digest.as_mut_slice());
        f(hex.as_bytes())
    } else {
        f(password)
    }
}

/// `hashpw` output for `setting`: the 60-character bcrypt string.
fn hashpw(
    algorithm: Algorithm,
    password: &[u8],
    setting: &Setting,
) -> Result<Zeroizing<String>, Reason> {
    with_secret(algorithm, password, |secret| {
        ::bcrypt::hash_with_salt(secret, setting.cost, setting.salt)
            .map(|parts| Zeroizing::new(parts.format_for_version(setting.prefix.version())))
            .map_err(|_| "bcrypt cost outside 4..=31")
    })
}

/// Re-creates the hash with the stored version, cost and salt and compares
/// the complete strings.
pub(crate) fn verify(
    algorithm: Algorithm,
    parsed: &Parsed<'_>,
    password: &[u8],
    encoded: &str,
) -> Result<bool, Reason> {
    let hashed = hashpw(algorithm, password, &parsed.setting)?;
    let candidate = Zeroizing::new(format!("{}${}", algorithm.name(), hashed.as_str()));
    Ok(ct_eq(candidate.as_bytes(), encoded.as_bytes()))
}

/// Django's `decode`: `encoded.split("$", 4)` into five parts and
/// `int(work_factor)`; `must_update` is `work_factor != rounds`.
pub(crate) fn must_update(encoded: &str, defaults: &DjangoDefaults) -> Result<bool, Reason> {
    let mut parts = encoded.splitn(5, '$');
    let (Some(_), Some(_), Some(_), Some(work_factor), Some(_)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err("expected <algorithm>$$<version>$<cost>$<salt+hash>");
    };
    let work_factor = py_int(work_factor).ok_or("bcrypt cost is not an integer")?;
    Ok(work_factor != PyInt::from(defaults.bcrypt_rounds))
}

/// Django's `harden_runtime`: `2**(rounds - stored) - 1` more `encode` calls
/// with the first 29 characters of the stored string as the salt.
pub(crate) fn harden_work(
    algorithm: Algorithm,
    encoded: &str,
    cfg: &HasherConfig,
) -> Result<Option<Work>, Reason> {
    let (_, data) = encoded
        .split_once('$')
        .ok_or("missing '$' after the algorithm name")?;
    let rounds = data
        .split('$')
        .nth(2)
        .and_then(py_int)
        .ok_or("bcrypt cost is not an integer")?;
    let exponent = PyInt::from(cfg.defaults.bcrypt_rounds).saturating_sub(rounds);
    if exponent <= 0 {
        return Ok(None);
    }
    let hashes = u32::try_from(exponent.min(63))
        .ok()
        .and_then(|e| 1u64.checked_shl(e))
        .map_or(u64::MAX, |n| n - 1);
    let salt = data.get(..29).unwrap_or(data);
    let setting = parse_setting(salt.as_bytes())?;
    check_cost(setting.cost, cfg)?;
    Ok(Some(Work::Bcrypt {
        algorithm,
        cost: setting.cost,
        salt: setting.salt,
        hashes,
    }))
}

/// Computes and discards one bcrypt (dummy hash and harden work).
pub(crate) fn burn(algorithm: Algorithm, password: &[u8], cost: u32, salt: [u8; 16]) {
    with_secret(algorithm, black_box(password), |secret| {
        if let Ok(parts) = ::bcrypt::hash_with_salt(secret, cost, salt) {
            black_box(parts);
        }
    });
}

/// E.g. `bcrypt_sha256 $2b$ cost 12`.
pub(crate) fn summary(algorithm: Algorithm, parsed: &Parsed<'_>) -> String {
    let mut s = format!(
        "{} {} cost {}",
        algorithm.name(),
        parsed.setting.prefix.as_str(),
        parsed.setting.cost
    );
    let canonical = format!(
        "{}{:02}$",
        parsed.setting.prefix.as_str(),
        parsed.setting.cost
    );
    let hash_ok = parsed
        .data
        .get(29..)
        .is_some_and(|h| h.len() == 31 && BASE_64.decode(h).is_ok());
    if parsed.data.len() != 60 || !parsed.data.starts_with(&canonical) || !hash_ok {
        s.push_str(", not a canonical 60-character bcrypt string (never matches)");
    }
    s
}
