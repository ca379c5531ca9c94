//! One module per hasher family, and a dispatcher over [`Algorithm`].
//!
//! Every family offers the same steps, mirroring Django's hasher methods:
//! `parse` (everything `verify` would reject before comparing, i.e. where
//! Django raises), `verify`, `must_update` (Django's `decode`-based check,
//! which runs first when the hash uses the preferred hasher), `harden_work`,
//! `summary` (for [`crate::describe`]) and `dummy` (one default-cost hash).

pub(crate) mod argon2;
pub(crate) mod bcrypt;
pub(crate) mod legacy;
pub(crate) mod pbkdf2;
#[cfg(target_arch = "x86_64")]
mod pbkdf2_sha256_ni;
pub(crate) mod scrypt;

use crate::algorithm::Algorithm;
use crate::config::{DjangoDefaults, HasherConfig};

/// Why Django would raise (or djauth refuses to compute) for a stored value.
pub(crate) type Reason = &'static str;

/// A stored value taken apart by its hasher's parser.
#[derive(Debug)]
pub(crate) enum Parsed<'a> {
    Pbkdf2(pbkdf2::Parsed<'a>),
    Argon2(argon2::Parsed),
    Bcrypt(bcrypt::Parsed<'a>),
    Scrypt(scrypt::Parsed<'a>),
    Salted(legacy::Salted<'a>),
    Unsalted,
    Crypt(legacy::Crypt<'a>),
}

/// The extra work Django's `harden_runtime` does for a wrong password on an
/// outdated hash of the preferred algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Work {
    /// PBKDF2 over the password and the stored salt with this many iterations
    /// (default minus stored).
    Pbkdf2 {
        /// `pbkdf2_sha256` or `pbkdf2_sha1`.
        algorithm: Algorithm,
        /// Extra iterations.
        iterations: u32,
        /// The stored salt.
        salt: String,
    },
    /// `hashes` extra bcrypt computations with the stored cost and salt
    /// (`2^(default_rounds - stored_rounds) - 1`).
    Bcrypt {
        /// `bcrypt_sha256` or `bcrypt`.
        algorithm: Algorithm,
        /// Stored cost.
        cost: u32,
        /// Stored salt.
        salt: [u8; 16],
        /// Number of extra bcrypt computations.
        hashes: u64,
    },
}

impl Work {
    /// Performs the work; the results are thrown away.
    pub(crate) fn run(&self, password: &[u8]) {
        match self {
            Work::Pbkdf2 {
                algorithm,
                iterations,
                salt,
            } => pbkdf2::burn(*algorithm, password, salt.as_bytes(), *iterations),
            Work::Bcrypt {
                algorithm,
                cost,
                salt,
                hashes,
            } => {
                for _ in 0..*hashes {
                    bcrypt::burn(*algorithm, password, *cost, *salt);
                }
            }
        }
    }
}

/// Takes `encoded` apart; `Err` where Django's `verify` would raise.
pub(crate) fn parse<'a>(
    algorithm: Algorithm,
    encoded: &'a str,
    cfg: &HasherConfig,
) -> Result<Parsed<'a>, Reason> {
    match algorithm {
        Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => {
            pbkdf2::parse(encoded, cfg).map(Parsed::Pbkdf2)
        }
        Algorithm::Argon2 => argon2::parse(encoded, cfg).map(Parsed::Argon2),
        Algorithm::BcryptSha256 | Algorithm::Bcrypt => {
            bcrypt::parse(encoded, cfg).map(Parsed::Bcrypt)
        }
        Algorithm::Scrypt => scrypt::parse(encoded, cfg).map(Parsed::Scrypt),
        Algorithm::Md5 | Algorithm::Sha1 => legacy::parse_salted(encoded).map(Parsed::Salted),
        Algorithm::UnsaltedMd5 | Algorithm::UnsaltedSha1 => Ok(Parsed::Unsalted),
        Algorithm::Crypt => legacy::parse_crypt(encoded).map(Parsed::Crypt),
    }
}

/// Django's `hasher.verify(password, encoded)` on an already parsed value.
pub(crate) fn verify(
    algorithm: Algorithm,
    parsed: &Parsed<'_>,
    password: &[u8],
    encoded: &str,
) -> Result<bool, Reason> {
    match parsed {
        Parsed::Pbkdf2(p) => Ok(pbkdf2::verify(algorithm, p, password, encoded)),
        Parsed::Argon2(p) => argon2::verify(p, password),
        Parsed::Bcrypt(p) => bcrypt::verify(algorithm, p, password, encoded),
        Parsed::Scrypt(p) => scrypt::verify(p, password, encoded),
        Parsed::Salted(p) => Ok(legacy::verify_salted(algorithm, p, password, encoded)),
        Parsed::Unsalted => Ok(legacy::verify_unsalted(algorithm, password, encoded)),
        Parsed::Crypt(p) => legacy::verify_crypt(p, password),
    }
}

/// Django's `must_update(encoded)` of the hasher, run (as in Django) only when
/// `encoded` uses the preferred hasher; `Err` where Django's `decode` raises.
pub(crate) fn must_update(
    algorithm: Algorithm,
    encoded: &str,
    cfg: &HasherConfig,
) -> Result<bool, Reason> {
    let defaults = &cfg.defaults;
    match algorithm {
        Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => pbkdf2::must_update(encoded, defaults),
        Algorithm::Argon2 => argon2::parse(encoded, cfg).map(|p| argon2::must_update(&p, defaults)),
        Algorithm::BcryptSha256 | Algorithm::Bcrypt => bcrypt::must_update(encoded, defaults),
        Algorithm::Scrypt => scrypt::must_update(encoded, defaults),
        Algorithm::Md5 | Algorithm::Sha1 => legacy::must_update_salted(encoded, defaults),
        Algorithm::UnsaltedMd5 | Algorithm::UnsaltedSha1 | Algorithm::Crypt => Ok(false),
    }
}

/// What Django's `harden_runtime` would compute; `Err` where it raises.
pub(crate) fn harden_work(
    algorithm: Algorithm,
    parsed: &Parsed<'_>,
    encoded: &str,
    cfg: &HasherConfig,
) -> Result<Option<Work>, Reason> {
    match parsed {
        Parsed::Pbkdf2(p) => Ok(pbkdf2::harden_work(algorithm, p, &cfg.defaults)),
        Parsed::Bcrypt(_) => bcrypt::harden_work(algorithm, encoded, cfg),
        _ => Ok(None),
    }
}

/// A one-line description of a parsed value, without any secret part.
pub(crate) fn summary(algorithm: Algorithm, parsed: &Parsed<'_>, encoded: &str) -> String {
    match parsed {
        Parsed::Pbkdf2(p) => pbkdf2::summary(algorithm, p, encoded),
        Parsed::Argon2(p) => argon2::summary(p),
        Parsed::Bcrypt(p) => bcrypt::summary(algorithm, p),
        Parsed::Scrypt(p) => scrypt::summary(p, encoded),
        Parsed::Salted(p) => legacy::summary_salted(algorithm, p),
        Parsed::Unsalted => legacy::summary_unsalted(algorithm, encoded),
        Parsed::Crypt(p) => legacy::summary_crypt(p),
    }
}

/// One computation of `algorithm` at the default cost over a random password
/// and a random salt, as Django's `make_password(get_random_string(40))`.
pub(crate) fn dummy(algorithm: Algorithm, defaults: &DjangoDefaults) {
    let password = random_string(40);
    let salt = random_string(22);
    match algorithm {
        Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => pbkdf2::burn(
            algorithm,
            password.as_bytes(),
            salt.as_bytes(),
            defaults.pbkdf2_iterations,
        ),
        Algorithm::Argon2 => argon2::dummy(password.as_bytes(), salt.as_bytes(), defaults),
        Algorithm::BcryptSha256 | Algorithm::Bcrypt => {
            let mut raw_salt = [0u8; 16];
            fill_random(&mut raw_salt);
            bcrypt::burn(
                algorithm,
                password.as_bytes(),
                defaults.bcrypt_rounds,
                raw_salt,
            );
        }
        Algorithm::Scrypt => scrypt::dummy(password.as_bytes(), &salt, defaults),
        Algorithm::Md5
        | Algorithm::Sha1
        | Algorithm::UnsaltedMd5
        | Algorithm::UnsaltedSha1
        | Algorithm::Crypt => legacy::dummy(algorithm, password.as_bytes(), &salt),
    }
}

/// Django's `get_random_string`: `len` characters from `[a-zA-Z0-9]`.
fn random_string(len: usize) -> zeroize::Zeroizing<String> {
    const CHARS: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = zeroize::Zeroizing::new(vec![0u8; len]);
    fill_random(&mut bytes);
    let mut out = zeroize::Zeroizing::new(String::with_capacity(len));
    for b in bytes.iter() {
        // Slightly biased (256 % 62 != 0); irrelevant for a throw-away value.
        let c = CHARS
            .get(usize::from(*b) % CHARS.len())
            .copied()
            .unwrap_or(b'a');
        out.push(char::from(c));
    }
    out
}

/// Fills `buf` from the thread-local CSPRNG.
fn fill_random(buf: &mut [u8]) {
    use rand::Rng as _;
    rand::rng().fill_bytes(buf);
}
