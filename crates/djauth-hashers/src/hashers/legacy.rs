//! Legacy formats: salted `md5` and `sha1` (`<algorithm>$<salt>$<hex>`),
//! `unsalted_md5` (32 hex characters, or `md5$$` + 32), `unsalted_sha1`
//! (`sha1$$` + 40) and `crypt` (`crypt$<salt>$<13-character DES crypt(3)>`).

use std::hint::black_box;

use md5::Md5;
use sha1::Sha1;
use sha2::Digest;
use zeroize::Zeroizing;

use super::Reason;
use crate::algorithm::Algorithm;
use crate::config::DjangoDefaults;
use crate::util::{char_len, ct_eq, hex_lower, salt_too_short};

/// Lowercase hex digest of `parts` concatenated.
fn hex_digest(algorithm: Algorithm, parts: &[&[u8]]) -> Zeroizing<String> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Zeroizing<String> {
        let mut hasher = D::new();
        for part in parts {
            hasher.update(part);
        }
        let mut digest = hasher.finalize();
        let hex = hex_lower(&digest);
        zeroize::Zeroize::zeroize(digest.as_mut_slice());
        hex
    }
    match algorithm {
        Algorithm::Sha1 | Algorithm::UnsaltedSha1 => run::<Sha1>(parts),
        _ => run::<Md5>(parts),
    }
}

/// A parsed salted `md5` / `sha1` value.
#[derive(Debug)]
pub(crate) struct Salted<'a> {
    salt: &'a str,
}

/// Django's `decode`: `encoded.split("$", 2)` into three parts.
fn decode_salted(encoded: &str) -> Result<&str, Reason> {
    let mut parts = encoded.splitn(3, '$');
    let (Some(_), Some(salt), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected <algorithm>$<salt>$<hash>");
    };
    Ok(salt)
}

/// Salted md5/sha1: three parts and a non-empty salt.
pub(crate) fn parse_salted(encoded: &str) -> Result<Salted<'_>, Reason> {
    let salt = decode_salted(encoded)?;
    if salt.is_empty() {
        return Err("empty salt");
    }
    Ok(Salted { salt })
}

/// `<algorithm>$<salt>$<hex(digest(salt ‖ password))>`, compared whole.
pub(crate) fn verify_salted(
    algorithm: Algorithm,
    parsed: &Salted<'_>,
    password: &[u8],
    encoded: &str,
) -> bool {
    let hex = hex_digest(algorithm, &[parsed.salt.as_bytes(), password]);
    let candidate = Zeroizing::new(format!(
        "{}${}${}",
        algorithm.name(),
        parsed.salt,
        hex.as_str()
    ));
    ct_eq(candidate.as_bytes(), encoded.as_bytes())
}

/// Django: only a short salt makes a salted md5/sha1 hash outdated.
pub(crate) fn must_update_salted(encoded: &str, defaults: &DjangoDefaults) -> Result<bool, Reason> {
    let salt = decode_salted(encoded)?;
    Ok(defaults.salt_entropy_check && salt_too_short(char_len(salt)))
}

/// `unsalted_md5`: drop a `md5$$` prefix (37-character form), compare with
/// hex(md5(password)). `unsalted_sha1`: compare with `sha1$$` + hex(sha1(password)).
pub(crate) fn verify_unsalted(algorithm: Algorithm, password: &[u8], encoded: &str) -> bool {
    let hex = hex_digest(algorithm, &[password]);
    if algorithm == Algorithm::UnsaltedSha1 {
        let candidate = Zeroizing::new(format!("sha1$${}", hex.as_str()));
        return ct_eq(candidate.as_bytes(), encoded.as_bytes());
    }
    let stored = match encoded.strip_prefix("md5$$") {
        Some(rest) if char_len(encoded) == 37 => rest,
        _ => encoded,
    };
    ct_eq(hex.as_bytes(), stored.as_bytes())
}

/// The traditional DES crypt(3) salt alphabet.
fn is_crypt_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'/'
}

/// A parsed `crypt` value: the stored crypt(3) output and what the C library
/// would make of it as a setting.
#[derive(Debug)]
pub(crate) struct Crypt<'a> {
    data: &'a str,
    /// The two salt characters, if `data` is a usable DES setting. Otherwise
    /// libxcrypt returns a failure token, which never equals `data`.
    salt: Option<&'a str>,
}

/// Django's `decode` (three parts) plus what Python's `crypt.crypt` refuses.
pub(crate) fn parse_crypt(encoded: &str) -> Result<Crypt<'_>, Reason> {
    let mut parts = encoded.splitn(3, '$');
    let (Some(_), Some(_), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected crypt$<salt>$<crypt output>");
    };
    if data.contains('\0') {
        return Err("crypt output contains a NUL character");
    }
    if data.starts_with('$') || data.starts_with('_') {
        return Err("crypt(3) variant other than traditional DES is not supported");
    }
    let salt = data.get(..2).filter(|s| s.bytes().all(is_crypt_char));
    Ok(Crypt { data, salt })
}

/// `crypt(password, data) == data` with traditional DES (first 8 bytes of the
/// password, 7 bits each).
pub(crate) fn verify_crypt(parsed: &Crypt<'_>, password: &[u8]) -> Result<bool, Reason> {
    if password.contains(&0) {
        return Err("password contains a NUL byte (Python's crypt raises)");
    }
    let Some(salt) = parsed.salt else {
        return Ok(false);
    };
    Ok(des_crypt(salt, password).is_some_and(|out| ct_eq(out.as_bytes(), parsed.data.as_bytes())))
}

/// Traditional DES crypt(3) via `pwhash`; `salt` must be two valid characters.
#[allow(deprecated)] // pwhash marks DES as deprecated for *new* hashes.
fn des_crypt(salt: &str, password: &[u8]) -> Option<Zeroizing<String>> {
    pwhash::unix_crypt::hash_with(salt, password)
        .ok()
        .map(Zeroizing::new)
}

/// One hash of the algorithm over a random password (dummy hash).
pub(crate) fn dummy(algorithm: Algorithm, password: &[u8], salt: &str) {
    match algorithm {
        Algorithm::Crypt => {
            let salt = salt.get(..2).unwrap_or("ab");
            black_box(des_crypt(salt, black_box(password)));
        }
        Algorithm::Md5 | Algorithm::Sha1 => {
            black_box(hex_digest(
                algorithm,
                &[salt.as_bytes(), black_box(password)],
            ));
        }
        _ => {
            black_box(hex_digest(algorithm, &[black_box(password)]));
        }
    }
}

/// E.g. `md5, salt 22 chars`.
pub(crate) fn summary_salted(algorithm: Algorithm, parsed: &Salted<'_>) -> String {
    format!("{}, salt {} chars", algorithm.name(), char_len(parsed.salt))
}

/// E.g. `unsalted_md5 (32 hex chars)`.
pub(crate) fn summary_unsalted(algorithm: Algorithm, encoded: &str) -> String {
    let (hex, want) = if algorithm == Algorithm::UnsaltedSha1 {
        (encoded.get(6..).unwrap_or_default(), 40)
    } else {
        (encoded.strip_prefix("md5$$").unwrap_or(encoded), 32)
    };
    let mut s = format!("{}, no salt", algorithm.name());
    if hex.len() != want || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        s.push_str(", not lowercase hex of a digest (never matches)");
    }
    s
}

/// E.g. `crypt (traditional DES), salt "ab"`.
pub(crate) fn summary_crypt(parsed: &Crypt<'_>) -> String {
    match parsed.salt {
        Some(salt) if parsed.data.len() == 13 && parsed.data.bytes().all(is_crypt_char) => {
            format!("crypt (traditional DES), salt \"{salt}\"")
        }
        _ => "crypt, not a traditional DES crypt(3) output (never matches)".to_owned(),
    }
}
