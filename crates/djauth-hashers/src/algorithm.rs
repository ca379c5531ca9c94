//! The password hashers Django has shipped, by their `algorithm` name and
//! their dotted class path.

use std::fmt;

/// Module path of every built-in Django password hasher class.
const MODULE: &str = "django.contrib.auth.hashers.";

/// One of the password hashers Django has shipped.
///
/// Each variant corresponds to one hasher class of `django.contrib.auth.hashers`
/// and is identified in a stored password by Django's `algorithm` attribute of
/// that class (see [`Algorithm::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// `pbkdf2_sha256` (`PBKDF2PasswordHasher`), Django's default.
    Pbkdf2Sha256,
    /// `pbkdf2_sha1` (`PBKDF2SHA1PasswordHasher`).
    Pbkdf2Sha1,
    /// `argon2` (`Argon2PasswordHasher`), argon2-cffi's PHC string behind the prefix.
    Argon2,
    /// `bcrypt_sha256` (`BCryptSHA256PasswordHasher`): bcrypt over hex(SHA-256(password)).
    BcryptSha256,
    /// `bcrypt` (`BCryptPasswordHasher`): bcrypt over the raw password.
    Bcrypt,
    /// `scrypt` (`ScryptPasswordHasher`, Django >= 4.0).
    Scrypt,
    /// `md5` (`MD5PasswordHasher`): salted MD5.
    Md5,
    /// `sha1` (`SHA1PasswordHasher`, removed in Django 5.1): salted SHA-1.
    Sha1,
    /// `unsalted_md5` (`UnsaltedMD5PasswordHasher`, removed in Django 5.1).
    UnsaltedMd5,
    /// `unsalted_sha1` (`UnsaltedSHA1PasswordHasher`, removed in Django 5.1).
    UnsaltedSha1,
    /// `crypt` (`CryptPasswordHasher`, removed in Django 5.0): classic DES crypt(3).
    Crypt,
}

impl Algorithm {
    /// Every algorithm, in the order of the enum.
    pub const ALL: [Algorithm; 11] = [
        Algorithm::Pbkdf2Sha256,
        Algorithm::Pbkdf2Sha1,
        Algorithm::Argon2,
        Algorithm::BcryptSha256,
        Algorithm::Bcrypt,
        Algorithm::Scrypt,
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::UnsaltedMd5,
        Algorithm::UnsaltedSha1,
        Algorithm::Crypt,
    ];

    /// Django's `algorithm` attribute of the hasher class, e.g. `"pbkdf2_sha256"`.
    ///
    /// This is the prefix Django writes before the first `$` of a stored password
    /// (except for the unsalted legacy formats, see [`crate::identify`]).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Pbkdf2Sha256 => "pbkdf2_sha256",
            Algorithm::Pbkdf2Sha1 => "pbkdf2_sha1",
            Algorithm::Argon2 => "argon2",
            Algorithm::BcryptSha256 => "bcrypt_sha256",
            Algorithm::Bcrypt => "bcrypt",
            Algorithm::Scrypt => "scrypt",
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::UnsaltedMd5 => "unsalted_md5",
            Algorithm::UnsaltedSha1 => "unsalted_sha1",
            Algorithm::Crypt => "crypt",
        }
    }

    /// The hasher's class name without its module, e.g. `"PBKDF2PasswordHasher"`.
    pub fn class_name(self) -> &'static str {
        match self {
            Algorithm::Pbkdf2Sha256 => "PBKDF2PasswordHasher",
            Algorithm::Pbkdf2Sha1 => "PBKDF2SHA1PasswordHasher",
            Algorithm::Argon2 => "Argon2PasswordHasher",
            Algorithm::BcryptSha256 => "BCryptSHA256PasswordHasher",
            Algorithm::Bcrypt => "BCryptPasswordHasher",
            Algorithm::Scrypt => "ScryptPasswordHasher",
            Algorithm::Md5 => "MD5PasswordHasher",
            Algorithm::Sha1 => "SHA1PasswordHasher",
            Algorithm::UnsaltedMd5 => "UnsaltedMD5PasswordHasher",
            Algorithm::UnsaltedSha1 => "UnsaltedSHA1PasswordHasher",
            Algorithm::Crypt => "CryptPasswordHasher",
        }
    }

    /// Whether Django `version` (e.g. `"5.2"`) still ships this hasher's
    /// class: `CryptPasswordHasher` went in 5.0; `SHA1PasswordHasher`,
    /// `UnsaltedSHA1PasswordHasher` and `UnsaltedMD5PasswordHasher` in 5.1.
    /// `None` for a version that cannot be read.
    pub fn shipped_in(self, version: &str) -> Option<bool> {
        let release = crate::config::parse_major_minor(version)?;
        Some(match self {
            Algorithm::Crypt => release < (5, 0),
            Algorithm::Sha1 | Algorithm::UnsaltedSha1 | Algorithm::UnsaltedMd5 => release < (5, 1),
            _ => true,
        })
    }

    /// The dotted class path as written in `settings.PASSWORD_HASHERS`,
    /// e.g. `"django.contrib.auth.hashers.PBKDF2PasswordHasher"`.
    pub fn class_path(self) -> &'static str {
        match self {
            Algorithm::Pbkdf2Sha256 => "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            Algorithm::Pbkdf2Sha1 => "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
            Algorithm::Argon2 => "django.contrib.auth.hashers.Argon2PasswordHasher",
            Algorithm::BcryptSha256 => "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
            Algorithm::Bcrypt => "django.contrib.auth.hashers.BCryptPasswordHasher",
            Algorithm::Scrypt => "django.contrib.auth.hashers.ScryptPasswordHasher",
            Algorithm::Md5 => "django.contrib.auth.hashers.MD5PasswordHasher",
            Algorithm::Sha1 => "django.contrib.auth.hashers.SHA1PasswordHasher",
            Algorithm::UnsaltedMd5 => "django.contrib.auth.hashers.UnsaltedMD5PasswordHasher",
            Algorithm::UnsaltedSha1 => "django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher",
            Algorithm::Crypt => "django.contrib.auth.hashers.CryptPasswordHasher",
        }
    }

    /// Parses a `PASSWORD_HASHERS` entry: either the dotted class path
    /// (`"django.contrib.auth.hashers.MD5PasswordHasher"`) or the algorithm
    /// name (`"md5"`). Matching is exact and case-sensitive, as in Django;
    /// classes from other modules are not accepted.
    pub fn parse(s: &str) -> Option<Algorithm> {
        if let Some(class) = s.strip_prefix(MODULE) {
            return Algorithm::ALL.into_iter().find(|a| a.class_name() == class);
        }
        Algorithm::from_name(s)
    }

    /// Looks an algorithm up by its exact Django `algorithm` name only.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_path_is_module_plus_class_name() {
        for a in Algorithm::ALL {
            assert_eq!(a.class_path(), format!("{MODULE}{}", a.class_name()));
        }
    }
}
