//! `argon2`: the prefix `argon2` followed by argon2-cffi's PHC string,
//! `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>`.
//!
//! Django hands `"$" + rest` to argon2-cffi's `PasswordHasher().verify`, which
//! picks the variant from the first nine bytes and calls the reference C
//! library's `argon2_verify`. Its `decode_string` is reproduced here: fields in
//! the order `[$v=]$m=,t=,p=$salt$hash`, minimal decimals, unpadded standard
//! base64 with zero trailing bits, and the reference `validate_inputs` limits.
//! A missing `v=` means version 0x10. The hash is computed with the `argon2`
//! crate's raw `hash_password_into`, never with its PHC parser.

use std::hint::black_box;

use ::argon2::{Algorithm as Variant, Argon2, Params, Version};
use zeroize::Zeroizing;

use super::Reason;
use crate::config::{Argon2Variant, DjangoDefaults, HasherConfig};
use crate::util::{ct_eq, salt_too_short};

/// A parsed argon2 value.
#[derive(Debug)]
pub(crate) struct Parsed {
    variant: Argon2Variant,
    /// 0x10 or 0x13.
    version: u32,
    /// Whether `v=` was present.
    version_explicit: bool,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// argon2-cffi's type detection: `hash[:9]` must be one of three headers.
fn variant_from_header(phc: &str) -> Option<Argon2Variant> {
    match phc.as_bytes().get(..9)? {
        b"$argon2i$" => Some(Argon2Variant::Argon2i),
        b"$argon2d$" => Some(Argon2Variant::Argon2d),
        b"$argon2id" => Some(Argon2Variant::Argon2id),
        _ => None,
    }
}

/// A cursor over the string handed to the C library.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// `CC(prefix)`.
    fn expect(&mut self, prefix: &str) -> Result<(), Reason> {
        self.rest = self
            .rest
            .strip_prefix(prefix.as_bytes())
            .ok_or("argon2 string does not follow $type[$v=]$m=,t=,p=$salt$hash")?;
        Ok(())
    }

    /// `CC_opt(prefix, ...)`: consumes `prefix` if present.
    fn optional(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix.as_bytes()) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// `decode_decimal` + the `UINT32_MAX` check: at least one digit, no
    /// leading zero (a lone `0` is fine), value fits in 32 bits.
    fn decimal_u32(&mut self) -> Result<u32, Reason> {
        const BAD: Reason = "argon2 parameter is not a minimal decimal fitting in 32 bits";
        let digits = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (number, rest) = self.rest.split_at_checked(digits).ok_or(BAD)?;
        if number.is_empty() || (number.len() > 1 && number.first() == Some(&b'0')) {
            return Err(BAD);
        }
        let mut value: u64 = 0;
        for b in number {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .filter(|v| *v <= u64::from(u32::MAX))
                .ok_or(BAD)?;
        }
        self.rest = rest;
        u32::try_from(value).map_err(|_| BAD)
    }

    /// `from_base64`: standard alphabet up to the first other character; the
    /// length must not be 1 mod 4 and the unused trailing bits must be zero.
    fn base64(&mut self) -> Result<Vec<u8>, Reason> {
        const BAD: Reason = "argon2 salt or hash is not canonical unpadded base64";
        let mut out = Vec::new();
        let mut acc: u32 = 0;
        let mut acc_len: u32 = 0;
        let mut used = 0;
        for &c in self.rest {
            let Some(d) = b64_value(c) else { break };
            used += 1;
            acc = ((acc << 6) | u32::from(d)) & 0xFFFF;
            acc_len += 6;
            if acc_len >= 8 {
                acc_len -= 8;
                out.push(((acc >> acc_len) & 0xFF) as u8);
            }
        }
        if acc_len > 4 || acc & ((1u32 << acc_len) - 1) != 0 {
            return Err(BAD);
        }
        self.rest = self.rest.get(used..).ok_or(BAD)?;
        Ok(out)
    }
}

/// Value of one character of the standard base64 alphabet.
fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Parses `encoded` the way Django + argon2-cffi + the C reference do, then
/// applies the configured resource caps.
pub(crate) fn parse(encoded: &str, cfg: &HasherConfig) -> Result<Parsed, Reason> {
    // `algorithm, rest = encoded.split("$", 1)`; argon2-cffi gets "$" + rest.
    let (_, rest) = encoded
        .split_once('$')
        .ok_or("missing '$' after the algorithm name")?;
    let phc = encoded
        .get(encoded.len() - rest.len() - 1..)
        .ok_or("missing '$'")?;
    if !phc.is_ascii() {
        return Err("argon2 string is not ASCII");
    }
    let variant = variant_from_header(phc).ok_or("not an argon2i, argon2d or argon2id string")?;
    // The C library sees a NUL-terminated string.
    let c_string = phc.as_bytes().split(|b| *b == 0).next().unwrap_or_default();
    let mut cur = Cursor { rest: c_string };
    cur.expect("$")?;
    cur.expect(variant.name())?;
    let mut version = 0x10;
    let version_explicit = cur.optional("$v=");
    if version_explicit {
        version = cur.decimal_u32()?;
    }
    cur.expect("$m=")?;
    let m_cost = cur.decimal_u32()?;
    cur.expect(",t=")?;
    let t_cost = cur.decimal_u32()?;
    cur.expect(",p=")?;
    let p_cost = cur.decimal_u32()?;
    cur.expect("$")?;
    let salt = cur.base64()?;
    cur.expect("$")?;
    let hash = cur.base64()?;
    // validate_inputs (reference limits).
    if hash.len() < 4 {
        return Err("argon2 hash shorter than 4 bytes");
    }
    if salt.len() < 8 {
        return Err("argon2 salt shorter than 8 bytes");
    }
    if m_cost < 8 || u64::from(m_cost) < 8 * u64::from(p_cost) {
        return Err("argon2 memory cost below 8 KiB per lane");
    }
    if t_cost < 1 {
        return Err("argon2 time cost below 1");
    }
    if !(1..=0x00FF_FFFF).contains(&p_cost) {
        return Err("argon2 parallelism outside 1..=16777215");
    }
    if !cur.rest.is_empty() {
        return Err("trailing characters after the argon2 hash");
    }
    // Beyond the reference: what can be computed here, within the caps.
    if version != 0x10 && version != 0x13 {
        return Err("argon2 version other than 16 or 19");
    }
    if m_cost > cfg.argon2_max_memory_kib {
        return Err("argon2 memory cost above the configured argon2_max_memory_kib");
    }
    if t_cost > cfg.argon2_max_time_cost {
        return Err("argon2 time cost above the configured argon2_max_time_cost");
    }
    Ok(Parsed {
        variant,
        version,
        version_explicit,
        m_cost,
        t_cost,
        p_cost,
        salt,
        hash,
    })
}

/// The `argon2` crate's variant.
fn crate_variant(variant: Argon2Variant) -> Variant {
    match variant {
        Argon2Variant::Argon2d => Variant::Argon2d,
        Argon2Variant::Argon2i => Variant::Argon2i,
        Argon2Variant::Argon2id => Variant::Argon2id,
    }
}

/// Raw Argon2 of `password` into `out`.
fn compute(
    variant: Argon2Variant,
    version: u32,
    (m_cost, t_cost, p_cost): (u32, u32, u32),
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), Reason> {
    let version = Version::try_from(version).map_err(|_| "argon2 version other than 16 or 19")?;
    let params = Params::new(m_cost, t_cost, p_cost, Some(out.len()))
        .map_err(|_| "argon2 parameters rejected")?;
    Argon2::new(crate_variant(variant), version, params)
        .hash_password_into(password, salt, out)
        .map_err(|_| "argon2 computation failed")
}

/// Recomputes the digest with the stored parameters and compares it.
pub(crate) fn verify(parsed: &Parsed, password: &[u8]) -> Result<bool, Reason> {
    let mut out = Zeroizing::new(vec![0u8; parsed.hash.len()]);
    compute(
        parsed.variant,
        parsed.version,
        (parsed.m_cost, parsed.t_cost, parsed.p_cost),
        password,
        &parsed.salt,
        &mut out,
    )?;
    Ok(ct_eq(&out, &parsed.hash))
}

/// Django: any of variant, version, t, m, p, hash length differs from the
/// defaults, or the salt is shorter than 22 bytes.
pub(crate) fn must_update(parsed: &Parsed, defaults: &DjangoDefaults) -> bool {
    let (variant, t, m, p, hash_len) = defaults.argon2;
    parsed.variant != variant
        || parsed.version != 0x13
        || parsed.t_cost != t
        || parsed.m_cost != m
        || parsed.p_cost != p
        || parsed.hash.len() != hash_len
        || (defaults.salt_entropy_check && salt_too_short(parsed.salt.len()))
}

/// One Argon2 with the default parameters.
pub(crate) fn dummy(password: &[u8], salt: &[u8], defaults: &DjangoDefaults) {
    let (variant, t, m, p, hash_len) = defaults.argon2;
    let mut out = Zeroizing::new(vec![0u8; hash_len]);
    let _ = compute(
        variant,
        0x13,
        (m, t, p),
        black_box(password),
        salt,
        &mut out,
    );
    black_box(out.as_slice());
}

/// E.g. `argon2id v=19 m=102400 t=2 p=8, salt 16 bytes, hash 32 bytes`.
pub(crate) fn summary(parsed: &Parsed) -> String {
    format!(
        "{} v={}{} m={} t={} p={}, salt {} bytes, hash {} bytes",
        parsed.variant,
        parsed.version,
        if parsed.version_explicit {
            ""
        } else {
            " (no v=, version 1.0)"
        },
        parsed.m_cost,
        parsed.t_cost,
        parsed.p_cost,
        parsed.salt.len(),
        parsed.hash.len()
    )
}
