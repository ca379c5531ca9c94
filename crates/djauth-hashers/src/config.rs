//! Configuration: which hashers are enabled (Django's `PASSWORD_HASHERS`),
//! the default cost parameters of a Django release, and resource caps.

use std::fmt;

use crate::algorithm::Algorithm;

/// The three Argon2 variants (argon2-cffi's `Type.D`, `Type.I`, `Type.ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Argon2Variant {
    /// `argon2d`: data-dependent memory access.
    Argon2d,
    /// `argon2i`: data-independent memory access (Django <= 3.1 default).
    Argon2i,
    /// `argon2id`: hybrid (Django >= 3.2 default).
    Argon2id,
}

impl Argon2Variant {
    /// The identifier used in the PHC string, e.g. `"argon2id"`.
    pub fn name(self) -> &'static str {
        match self {
            Argon2Variant::Argon2d => "argon2d",
            Argon2Variant::Argon2i => "argon2i",
            Argon2Variant::Argon2id => "argon2id",
        }
    }
}

impl fmt::Display for Argon2Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Default cost parameters of one Django release.
///
/// They decide `must_update` (is a stored hash outdated?), the extra work of
/// `harden_runtime`, and the cost of the dummy hash computed for unknown users,
/// unusable passwords and unverifiable hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DjangoDefaults {
    /// `PBKDF2PasswordHasher.iterations` (shared by `pbkdf2_sha1`).
    pub pbkdf2_iterations: u32,
    /// Argon2 `(variant, time_cost, memory_cost in KiB, parallelism, hash_len)`;
    /// the version is always 0x13 (`v=19`).
    pub argon2: (Argon2Variant, u32, u32, u32, usize),
    /// `BCryptSHA256PasswordHasher.rounds` (also plain bcrypt's).
    pub bcrypt_rounds: u32,
    /// scrypt `(N, r, p)`. Django < 4.0 has no scrypt hasher; those versions
    /// carry Django 4.0's values, which are only used if scrypt is enabled anyway.
    pub scrypt: (u64, u32, u32),
    /// Whether `must_update` also flags salts shorter than 128 bits
    /// (22 characters), as Django >= 3.2 does.
    pub salt_entropy_check: bool,
}

/// PBKDF2 iteration counts for Django 3.0 ..= 6.2, in order.
const PBKDF2_ITERATIONS: [(u32, u32, u32); 12] = [
    (3, 0, 180_000),
    (3, 1, 216_000),
    (3, 2, 260_000),
    (4, 0, 320_000),
    (4, 1, 390_000),
    (4, 2, 600_000),
    (5, 0, 720_000),
    (5, 1, 870_000),
    (5, 2, 1_000_000),
    (6, 0, 1_200_000),
    (6, 1, 1_500_000),
    (6, 2, 1_800_000),
];

impl DjangoDefaults {
    /// The defaults of Django `version` (`"3.0"` ..= `"6.2"`; a patch level or
    /// pre-release suffix such as `"5.2.19"` or `"6.0rc1"` is ignored).
    /// Returns `None` for versions outside that range or unparsable input.
    pub fn for_version(version: &str) -> Option<Self> {
        let (major, minor) = parse_major_minor(version)?;
        let iterations = PBKDF2_ITERATIONS
            .iter()
            .find(|(ma, mi, _)| *ma == major && *mi == minor)
            .map(|(_, _, it)| *it)?;
        let modern = (major, minor) >= (3, 2);
        let argon2 = if modern {
            (Argon2Variant::Argon2id, 2, 102_400, 8, 32)
        } else {
            (Argon2Variant::Argon2i, 2, 512, 2, 32)
        };
        let scrypt_p = if (major, minor) >= (5, 1) { 5 } else { 1 };
        Some(DjangoDefaults {
            pbkdf2_iterations: iterations,
            argon2,
            bcrypt_rounds: 12,
            scrypt: (16_384, 8, scrypt_p),
            salt_entropy_check: modern,
        })
    }

    /// Checks that every default can actually be computed (used by
    /// [`crate::Hashers::new`], so that dummy and harden work never fail).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: &'static str| Err(ConfigError::InvalidDefault(what));
        if self.pbkdf2_iterations == 0 || self.pbkdf2_iterations > i32::MAX as u32 {
            return bad("pbkdf2 iterations must be in 1..=2147483647");
        }
        if !(4..=31).contains(&self.bcrypt_rounds) {
            return bad("bcrypt rounds must be in 4..=31");
        }
        let (_, t, m, p, len) = self.argon2;
        if t < 1 || !(1..=0x00FF_FFFF).contains(&p) || m < 8 || u64::from(m) < 8 * u64::from(p) {
            return bad("argon2 parameters rejected by the reference implementation");
        }
        if !(4..=0xFFFF_FFFF).contains(&len) {
            return bad("argon2 hash length must be at least 4 bytes");
        }
        let (n, r, p) = self.scrypt;
        if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
            return bad("scrypt N must be a power of two > 1, r and p positive");
        }
        Ok(())
    }
}

impl Default for DjangoDefaults {
    /// Django 5.2's defaults.
    fn default() -> Self {
        DjangoDefaults {
            pbkdf2_iterations: 1_000_000,
            argon2: (Argon2Variant::Argon2id, 2, 102_400, 8, 32),
            bcrypt_rounds: 12,
            scrypt: (16_384, 8, 5),
            salt_entropy_check: true,
        }
    }
}

/// Extracts `(major, minor)` from `"5.2"`, `"5.2.19"`, `"6.0rc1"`, ...
pub(crate) fn parse_major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().splitn(3, '.');
    let major = parts.next()?;
    let minor_part = parts.next()?;
    let digits = minor_part
        .find(|c: char| !c.is_ascii_digit())
        .map_or(minor_part, |end| &minor_part[..end]);
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(major) || !all_digits(digits) {
        return None;
    }
    Some((major.parse().ok()?, digits.parse().ok()?))
}

/// 32 MiB: OpenSSL's scrypt memory limit when Python passes `maxmem=0`.
pub const OPENSSL_SCRYPT_MAX_MEMORY: u64 = 32 * 1024 * 1024;

/// Which hashers are enabled, with which defaults, within which resource caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HasherConfig {
    /// The site's `PASSWORD_HASHERS`, in order: the first entry is the
    /// preferred hasher (used for the dummy hash and `harden_runtime`).
    pub enabled: Vec<Algorithm>,
    /// Default cost parameters of the site's Django release.
    pub defaults: DjangoDefaults,
    /// scrypt memory limit in bytes: when `128*r*(N+2) + 128*r*p` exceeds it the
    /// hash is malformed. Default: OpenSSL's 32 MiB, which is what Django gets.
    pub scrypt_max_memory: u64,
    /// Largest argon2 `m` (KiB) that will be computed; larger values are
    /// reported malformed. Default 1 GiB (Django has no limit).
    pub argon2_max_memory_kib: u32,
    /// Largest argon2 `t` that will be computed; larger values are reported
    /// malformed. Default 32 (Django writes 2; Django itself has no limit).
    pub argon2_max_time_cost: u32,
    /// Largest PBKDF2 iteration count that will be computed; larger values are
    /// reported malformed. Default 20,000,000, about 3 s of work (Django
    /// writes at most 1,800,000; its own limit is 2^31-1).
    pub pbkdf2_max_iterations: u32,
    /// Largest bcrypt cost that will be computed; larger values are reported
    /// malformed. Default 16, about 5 s of work (Django writes 12; bcrypt's
    /// own maximum is 31, days of work).
    pub bcrypt_max_cost: u32,
}

impl HasherConfig {
    /// Django 5.2's default `PASSWORD_HASHERS` (also 4.0 ..= 6.1).
    pub fn django_default_list() -> Vec<Algorithm> {
        vec![
            Algorithm::Pbkdf2Sha256,
            Algorithm::Pbkdf2Sha1,
            Algorithm::Argon2,
            Algorithm::BcryptSha256,
            Algorithm::Scrypt,
        ]
    }

    /// The default `PASSWORD_HASHERS` of Django `version` (`"3.0"` ..= `"6.2"`).
    pub fn django_default_list_for(version: &str) -> Option<Vec<Algorithm>> {
        let (major, _) = parse_major_minor(version)?;
        DjangoDefaults::for_version(version)?;
        let mut list = Self::django_default_list();
        if major < 4 {
            list.retain(|a| *a != Algorithm::Scrypt);
        }
        Some(list)
    }

    /// Django `version`'s default `PASSWORD_HASHERS` and default parameters.
    pub fn for_django(version: &str) -> Option<Self> {
        Some(HasherConfig {
            enabled: Self::django_default_list_for(version)?,
            defaults: DjangoDefaults::for_version(version)?,
            ..HasherConfig::default()
        })
    }

    /// Every hasher enabled (Django 5.2's default list first, so
    /// `pbkdf2_sha256` is preferred), with Django 5.2's defaults.
    pub fn all_enabled() -> Self {
        let mut enabled = Self::django_default_list();
        for a in Algorithm::ALL {
            if !enabled.contains(&a) {
                enabled.push(a);
            }
        }
        HasherConfig {
            enabled,
            ..HasherConfig::default()
        }
    }
}

impl HasherConfig {
    /// The preferred hasher's resource cap must admit its own default
    /// parameters, or the hashes Django makes today would be refused.
    pub(crate) fn validate_caps(&self) -> Result<(), ConfigError> {
        let d = &self.defaults;
        let (_, t, m, p, _) = d.argon2;
        let (n, r, scrypt_p) = d.scrypt;
        let scrypt_memory = 128 * u64::from(r) * (n + 2) + 128 * u64::from(r) * u64::from(scrypt_p);
        let (fits, name) = match self.enabled.first() {
            Some(Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1) => (
                self.pbkdf2_max_iterations >= d.pbkdf2_iterations,
                "pbkdf2_max_iterations",
            ),
            Some(Algorithm::Bcrypt | Algorithm::BcryptSha256) => {
                (self.bcrypt_max_cost >= d.bcrypt_rounds, "bcrypt_max_cost")
            }
            Some(Algorithm::Argon2) if self.argon2_max_time_cost < t => {
                (false, "argon2_max_time_cost")
            }
            Some(Algorithm::Argon2) => (
                self.argon2_max_memory_kib >= m.max(8 * p),
                "argon2_max_memory_kib",
            ),
            Some(Algorithm::Scrypt) => {
                (self.scrypt_max_memory >= scrypt_memory, "scrypt_max_memory")
            }
            _ => (true, ""),
        };
        if fits {
            Ok(())
        } else {
            Err(ConfigError::CapBelowDefault(name))
        }
    }
}

impl Default for HasherConfig {
    /// Django 5.2: its default `PASSWORD_HASHERS` and default parameters.
    fn default() -> Self {
        HasherConfig {
            enabled: Self::django_default_list(),
            defaults: DjangoDefaults::default(),
            scrypt_max_memory: OPENSSL_SCRYPT_MAX_MEMORY,
            argon2_max_memory_kib: 1024 * 1024,
            argon2_max_time_cost: 32,
            pbkdf2_max_iterations: 20_000_000,
            bcrypt_max_cost: 16,
        }
    }
}

/// Why a [`HasherConfig`] was refused by [`crate::Hashers::new`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `enabled` is empty: Django needs at least one hasher (the preferred one).
    #[error("no password hasher enabled: PASSWORD_HASHERS needs at least one entry")]
    NoHashers,
    /// A default parameter could never be computed.
    #[error("invalid default hasher parameters: {0}")]
    InvalidDefault(&'static str),
    /// A resource cap is below the cost of the preferred hasher's default hashes.
    #[error("{0} is below what the preferred hasher's default hashes need")]
    CapBelowDefault(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_table() {
        assert_eq!(
            DjangoDefaults::for_version("5.2"),
            Some(DjangoDefaults::default())
        );
        assert_eq!(
            DjangoDefaults::for_version("5.2.19"),
            Some(DjangoDefaults::default())
        );
        let v30 = DjangoDefaults::for_version("3.0").unwrap_or_default();
        assert_eq!(v30.pbkdf2_iterations, 180_000);
        assert_eq!(v30.argon2.0, Argon2Variant::Argon2i);
        assert!(!v30.salt_entropy_check);
        let v42 = DjangoDefaults::for_version("4.2").unwrap_or_default();
        assert_eq!(
            (v42.pbkdf2_iterations, v42.scrypt),
            (600_000, (16_384, 8, 1))
        );
        let v62 = DjangoDefaults::for_version("6.2a1").unwrap_or_default();
        assert_eq!(v62.pbkdf2_iterations, 1_800_000);
        for bad in ["", "5", "2.2", "6.3", "x.y", "5.", ".2", "5.x"] {
            assert_eq!(DjangoDefaults::for_version(bad), None, "{bad:?}");
        }
        for (ma, mi, _) in PBKDF2_ITERATIONS {
            let d = DjangoDefaults::for_version(&format!("{ma}.{mi}"));
            assert!(d.is_some_and(|d| d.validate().is_ok()));
        }
    }

    #[test]
    fn default_lists() {
        assert_eq!(
            HasherConfig::django_default_list_for("3.2").map(|l| l.len()),
            Some(4)
        );
        assert_eq!(
            HasherConfig::django_default_list_for("6.1").map(|l| l.len()),
            Some(5)
        );
        let all = HasherConfig::all_enabled();
        assert_eq!(all.enabled.len(), 11);
        assert_eq!(all.enabled.first(), Some(&Algorithm::Pbkdf2Sha256));
    }
}
