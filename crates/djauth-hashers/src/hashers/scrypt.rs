//! `scrypt`: `scrypt$<N>$<salt>$<r>$<p>$<b64(64-byte dk)>` (Django >= 4.0).
//!
//! Django calls `hashlib.scrypt(..., maxmem=0, dklen=64)`: OpenSSL then checks
//! the parameters and refuses anything needing more than 32 MiB
//! (`128*r*(N+2) + 128*r*p`), which makes Django raise. The same checks are
//! done here, with the memory limit taken from the configuration.

use std::hint::black_box;

use zeroize::Zeroizing;

use super::Reason;
use crate::config::{DjangoDefaults, HasherConfig};
use crate::util::{PyInt, b64_standard, char_len, ct_eq, is_canonical_b64, py_int};

/// A parsed scrypt value (parameters after Django's default substitution).
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    n: u64,
    r: u32,
    p: u32,
    salt: &'a str,
}

/// Django's `decode`: exactly six `$`-separated fields, three of them `int()`.
fn decode(encoded: &str) -> Result<(PyInt, &str, PyInt, PyInt), Reason> {
    let mut parts = encoded.split('$');
    let (Some(_), Some(n), Some(salt), Some(r), Some(p), Some(_), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err("expected scrypt$<N>$<salt>$<r>$<p>$<hash>");
    };
    let int = |s: &str| py_int(s).ok_or("scrypt parameter is not an integer");
    Ok((int(n)?, salt, int(r)?, int(p)?))
}

/// OpenSSL's `SCRYPT_PR_MAX`.
const PR_MAX: u128 = (1 << 30) - 1;

/// Everything Django's `verify` (`hashlib.scrypt` / OpenSSL) rejects.
pub(crate) fn parse<'a>(encoded: &'a str, cfg: &HasherConfig) -> Result<Parsed<'a>, Reason> {
    let (n, salt, r, p) = decode(encoded)?;
    if salt.is_empty() {
        return Err("empty salt");
    }
    let (dn, dr, dp) = cfg.defaults.scrypt;
    // `n = n or self.work_factor`, etc.
    let or_default = |v: PyInt, d: u64| if v == 0 { PyInt::from(d) } else { v };
    let n = or_default(n, dn);
    let r = or_default(r, u64::from(dr));
    let p = or_default(p, u64::from(dp));
    // hashlib converts to C `unsigned long`.
    let ulong = |v: PyInt| u64::try_from(v).map_err(|_| "scrypt parameter negative or too large");
    let (n, r, p) = (ulong(n)?, ulong(r)?, ulong(p)?);
    if n < 2 || !n.is_power_of_two() {
        return Err("scrypt N must be a power of 2 greater than 1");
    }
    // OpenSSL's parameter checks (EVP_PBE_scrypt_ex / scrypt_alg).
    let (n128, r128, p128) = (u128::from(n), u128::from(r), u128::from(p));
    if r == 0 || p == 0 || p128 > PR_MAX / r128 {
        return Err("scrypt r*p too large");
    }
    if 16 * r128 <= 63 && n128 >= 1u128 << (16 * r128) {
        return Err("scrypt N too large for r");
    }
    let b_len = 128 * r128 * p128;
    if b_len > i32::MAX as u128 {
        return Err("scrypt r*p too large");
    }
    if n128 + 2 > (u128::from(u64::MAX) / 128) / r128 {
        return Err("scrypt N*r too large");
    }
    let v_len = 128 * r128 * (n128 + 2);
    if b_len + v_len > u128::from(u64::MAX) {
        return Err("scrypt memory size overflows");
    }
    if b_len + v_len > u128::from(cfg.scrypt_max_memory) {
        return Err("scrypt parameters need more memory than scrypt_max_memory (OpenSSL: 32 MiB)");
    }
    let r = u32::try_from(r).map_err(|_| "scrypt r too large")?;
    let p = u32::try_from(p).map_err(|_| "scrypt p too large")?;
    Ok(Parsed { n, r, p, salt })
}

/// 64-byte scrypt output.
fn derive(
    password: &[u8],
    salt: &[u8],
    n: u64,
    r: u32,
    p: u32,
) -> Result<Zeroizing<Vec<u8>>, Reason> {
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| "scrypt N too large")?;
    let params = ::scrypt::Params::new(log_n, r, p).map_err(|_| "scrypt parameters rejected")?;
    let mut out = Zeroizing::new(vec![0u8; 64]);
    ::scrypt::scrypt(password, salt, &params, &mut out)
        .map_err(|_| "scrypt output length rejected")?;
    Ok(out)
}

/// Re-encodes with the parsed parameters and compares the whole string.
pub(crate) fn verify(parsed: &Parsed<'_>, password: &[u8], encoded: &str) -> Result<bool, Reason> {
    let dk = derive(
        password,
        parsed.salt.as_bytes(),
        parsed.n,
        parsed.r,
        parsed.p,
    )?;
    let candidate = Zeroizing::new(format!(
        "scrypt${}${}${}${}${}",
        parsed.n,
        parsed.salt,
        parsed.r,
        parsed.p,
        b64_standard(&dk).as_str()
    ));
    Ok(ct_eq(candidate.as_bytes(), encoded.as_bytes()))
}

/// Django: the stored N, r or p differs from the defaults.
pub(crate) fn must_update(encoded: &str, defaults: &DjangoDefaults) -> Result<bool, Reason> {
    let (n, _, r, p) = decode(encoded)?;
    let (dn, dr, dp) = defaults.scrypt;
    Ok(n != PyInt::from(dn) || r != PyInt::from(dr) || p != PyInt::from(dp))
}

/// One scrypt with the default parameters.
pub(crate) fn dummy(password: &[u8], salt: &str, defaults: &DjangoDefaults) {
    let (n, r, p) = defaults.scrypt;
    if let Ok(dk) = derive(black_box(password), salt.as_bytes(), n, r, p) {
        black_box(dk.as_slice());
    }
}

/// E.g. `scrypt N=16384 r=8 p=5, salt 22 chars`.
pub(crate) fn summary(parsed: &Parsed<'_>, encoded: &str) -> String {
    let mut s = format!(
        "scrypt N={} r={} p={}, salt {} chars",
        parsed.n,
        parsed.r,
        parsed.p,
        char_len(parsed.salt)
    );
    let fields: Vec<&str> = encoded.split('$').collect();
    let canonical_numbers = fields.get(1) == Some(&parsed.n.to_string().as_str())
        && fields.get(3) == Some(&parsed.r.to_string().as_str())
        && fields.get(4) == Some(&parsed.p.to_string().as_str());
    if !canonical_numbers {
        s.push_str(", non-canonical parameter field (never matches)");
    }
    if !fields.get(5).is_some_and(|h| is_canonical_b64(h, 64)) {
        s.push_str(", hash is not the canonical base64 of 64 bytes (never matches)");
    }
    s
}
