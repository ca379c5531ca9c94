//! Verification of Django's stored password hashes, giving exactly Django
//! 5.2's `verify_password` answers.
//!
//! Pure functions: no I/O, no logging, no async, no threads of their own.
//! Formats: `pbkdf2_sha256`, `pbkdf2_sha1`, `argon2` (argon2id/argon2i/argon2d),
//! `bcrypt_sha256`, `bcrypt`, `scrypt`, `md5`, `sha1`, `unsalted_md5`,
//! `unsalted_sha1` and `crypt`.
//!
//! ```
//! use djauth_hashers::{Algorithm, HasherConfig, Hashers, Outcome};
//!
//! let hashers = Hashers::new(HasherConfig::default()).expect("valid config");
//! let stored = "pbkdf2_sha256$1$inventedsalt0002$dd8qQAsvbcfEKlt0M9yOtJqmucmad0eldqOMm9LX/io=";
//! assert_eq!(hashers.check(b"secret-42", Some(stored)), Outcome::Match(Algorithm::Pbkdf2Sha256));
//! ```
//!
//! Differences from Django (all of them denials where Django raises or
//! returns `False`, or resource caps):
//! * malformed values of a known algorithm give [`Outcome::Malformed`]
//!   (Django raises, which mod_wsgi turns into HTTP 500); so do argon2 strings
//!   the reference C library refuses (argon2-cffi reports those as a plain
//!   mismatch);
//! * plain bcrypt compares the first 72 bytes of longer passwords (as
//!   pyca/bcrypt < 5.0 did; >= 5.0 raises);
//! * configurable caps on PBKDF2 iterations, argon2 memory and time, bcrypt
//!   cost and scrypt memory (the scrypt default is OpenSSL's 32 MiB, which is
//!   what Django gets);
//! * `crypt` supports the traditional DES form Django wrote; other crypt(3)
//!   variants are reported malformed, invalid DES salts mismatch (libxcrypt's
//!   failure token);
//! * Python's `int()` accepts non-ASCII decimal digits in numeric fields;
//!   such values (which can never match in Django) are reported malformed here.

// One `unsafe` call in the whole crate: into the SHA-NI PBKDF2 kernel after
// the CPU check (hashers/pbkdf2_sha256_ni.rs).
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod algorithm;
mod check;
mod config;
mod describe;
mod hashers;
mod identify;
mod util;

#[cfg(test)]
mod case_tests;

pub use algorithm::Algorithm;
pub use check::{Hashers, Outcome};
pub use config::{
    Argon2Variant, ConfigError, DjangoDefaults, HasherConfig, OPENSSL_SCRYPT_MAX_MEMORY,
};
pub use describe::{Description, describe};
pub use identify::{Identified, UNUSABLE_PASSWORD_PREFIX, identify};
