//! Cases C12–C16 of `shared/cases/cases.md`, with their exact inputs, plus
//! malformed values that must be denied without panicking.

use djauth_hashers::{Algorithm, HasherConfig, Hashers, Outcome, describe};

fn django_52() -> Hashers {
    Hashers::new(HasherConfig::default()).expect("valid config")
}

fn with_enabled(extra: &[Algorithm]) -> Hashers {
    let mut cfg = HasherConfig::default();
    cfg.enabled.extend_from_slice(extra);
    Hashers::new(cfg).expect("valid config")
}

fn x(n: usize) -> Vec<u8> {
    vec![b'x'; n]
}

const C12_SHA256: &str =
    "bcrypt_sha256$$2b$04$abcdefghijklmnopqrstuuVTgWIlfVafOdCoNj73.S3YIYkZL7g7S";
const C12_BCRYPT: &str = "bcrypt$$2b$04$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i";

#[test]
fn c12_bcrypt_formats() {
    let hashers = with_enabled(&[Algorithm::Bcrypt]);
    assert_eq!(
        hashers.check(&x(80), Some(C12_SHA256)),
        Outcome::Match(Algorithm::BcryptSha256)
    );
    assert_eq!(
        hashers.check(&x(72), Some(C12_SHA256)),
        Outcome::Mismatch(Algorithm::BcryptSha256)
    );
    assert_eq!(
        hashers.check(&x(72), Some(C12_BCRYPT)),
        Outcome::Match(Algorithm::Bcrypt)
    );
    for version in ["$2y$", "$2a$"] {
        let plain = C12_BCRYPT.replace("$2b$", version);
        assert_eq!(
            hashers.check(&x(72), Some(&plain)),
            Outcome::Match(Algorithm::Bcrypt),
            "{plain}"
        );
        assert_eq!(
            hashers.check(&x(71), Some(&plain)),
            Outcome::Mismatch(Algorithm::Bcrypt)
        );
        let sha = C12_SHA256.replace("$2b$", version);
        assert_eq!(
            hashers.check(&x(80), Some(&sha)),
            Outcome::Match(Algorithm::BcryptSha256),
            "{sha}"
        );
    }
    // Versions are preserved, not normalised: a "$2b$" result never equals "$2a$".
    // A plain bcrypt hash wrapped as bcrypt_sha256 does not verify.
    let wrapped = C12_BCRYPT.replace("bcrypt$", "bcrypt_sha256$");
    assert_eq!(
        hashers.check(&x(72), Some(&wrapped)),
        Outcome::Mismatch(Algorithm::BcryptSha256)
    );
    // Django 5.2's default PASSWORD_HASHERS has no plain bcrypt.
    assert_eq!(
        django_52().check(&x(72), Some(C12_BCRYPT)),
        Outcome::Disabled(Algorithm::Bcrypt)
    );
}

#[test]
fn c13_bcrypt_72_byte_limit() {
    let hashers = with_enabled(&[Algorithm::Bcrypt]);
    let check = |password: &[u8]| hashers.check(password, Some(C12_BCRYPT));
    assert_eq!(check(&x(73)), Outcome::Match(Algorithm::Bcrypt));
    let mut x72y = x(72);
    x72y.push(b'y');
    assert_eq!(check(&x72y), Outcome::Match(Algorithm::Bcrypt));
    assert_eq!(check(&x(71)), Outcome::Mismatch(Algorithm::Bcrypt));
    let mut other_prefix = x(73);
    other_prefix[0] = b'y';
    assert_eq!(check(&other_prefix), Outcome::Mismatch(Algorithm::Bcrypt));
    // bcrypt_sha256 is unaffected: 73 bytes are not 72.
    assert_eq!(
        hashers.check(&x(73), Some(C12_SHA256)),
        Outcome::Mismatch(Algorithm::BcryptSha256)
    );
}

#[test]
fn c14_argon2_variants() {
    let hashers = django_52();
    for stored in [
        "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg",
        "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw",
    ] {
        assert_eq!(
            hashers.check(b"secret", Some(stored)),
            Outcome::Match(Algorithm::Argon2),
            "{stored}"
        );
        assert_eq!(
            hashers.check(b"wrong", Some(stored)),
            Outcome::Mismatch(Algorithm::Argon2),
            "{stored}"
        );
    }
    // The version matters: the v=19 hash read as version 0x10 does not match,
    // nor does the no-v= hash read as 0x13, nor argon2id for argon2i.
    let as_v16 = "argon2$argon2i$v=16$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q";
    assert_eq!(
        hashers.check(b"secret", Some(as_v16)),
        Outcome::Mismatch(Algorithm::Argon2)
    );
    let as_v19 = "argon2$argon2i$v=19$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg";
    assert_eq!(
        hashers.check(b"secret", Some(as_v19)),
        Outcome::Mismatch(Algorithm::Argon2)
    );
    let as_id = "argon2$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q";
    assert_eq!(
        hashers.check(b"secret", Some(as_id)),
        Outcome::Mismatch(Algorithm::Argon2)
    );
}

#[test]
fn argon2_strict_parsing() {
    let hashers = django_52();
    let good = "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q";
    assert!(hashers.check(b"secret", Some(good)).is_match());
    for bad in [
        // leading zero, parameter order, extra parameter, padding, url-safe
        // alphabet, nonzero trailing bits, salt < 8 bytes, m < 8*p, t = 0,
        // unknown version, trailing junk, non-ASCII, unknown type.
        "argon2$argon2i$v=19$m=08,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=019$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$t=1,m=8,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$m=8,t=1,p=1,k=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ=$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q==",
        "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9-jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHR$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdA$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$m=8,t=1,p=2$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$m=8,t=0,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=20$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q$",
        "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Qé",
        "argon2$argon2x$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2$argon2i$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        "argon2",
        "argon2$",
    ] {
        let outcome = hashers.check(b"secret", Some(bad));
        assert!(
            matches!(
                outcome,
                Outcome::Malformed {
                    algorithm: Algorithm::Argon2,
                    ..
                }
            ),
            "{bad}: {outcome:?}"
        );
    }
    // Over the memory cap: refused without allocating.
    let cfg = HasherConfig {
        argon2_max_memory_kib: 1024,
        ..HasherConfig::default()
    };
    let capped = Hashers::new(cfg).expect("config");
    let big = "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw";
    assert!(matches!(
        capped.check(b"secret", Some(big)),
        Outcome::Malformed { .. }
    ));
}

const C15_LEGACY: [(&str, &str, Algorithm); 4] = [
    (
        "lètmein",
        "sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8",
        Algorithm::Sha1,
    ),
    (
        "lètmein",
        "88a434c88cca4e900f7874cd98123f43",
        Algorithm::UnsaltedMd5,
    ),
    (
        "lètmein",
        "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3",
        Algorithm::Md5,
    ),
    ("lètmei", "crypt$$ab1Hv2Lg7ltQo", Algorithm::Crypt),
];

#[test]
fn c15_default_hashers_deny_every_legacy_vector() {
    let hashers = django_52();
    for (password, stored, algorithm) in C15_LEGACY {
        assert_eq!(
            hashers.check(password.as_bytes(), Some(stored)),
            Outcome::Disabled(algorithm)
        );
    }
    // With MD5PasswordHasher allowed, the md5 vector matches (and only it).
    let md5 = with_enabled(&[Algorithm::Md5]);
    for (password, stored, algorithm) in C15_LEGACY {
        let expected = if algorithm == Algorithm::Md5 {
            Outcome::Match(algorithm)
        } else {
            Outcome::Disabled(algorithm)
        };
        assert_eq!(
            md5.check(password.as_bytes(), Some(stored)),
            expected,
            "{stored}"
        );
    }
    // With the legacy hashers explicitly enabled, all match.
    let legacy = with_enabled(&[
        Algorithm::Sha1,
        Algorithm::UnsaltedMd5,
        Algorithm::Md5,
        Algorithm::Crypt,
    ]);
    for (password, stored, algorithm) in C15_LEGACY {
        assert_eq!(
            legacy.check(password.as_bytes(), Some(stored)),
            Outcome::Match(algorithm)
        );
        assert_eq!(
            legacy.check(b"wrong", Some(stored)),
            Outcome::Mismatch(algorithm)
        );
    }
}

#[test]
fn c15_malformed_values_are_denied() {
    let hashers = django_52();
    let pw = "lètmein".as_bytes();
    for stored in ["pbkdf2_sha256$abc$salt$hash", "pbkdf2_sha256$1000$salt"] {
        let outcome = hashers.check(pw, Some(stored));
        assert!(
            matches!(
                outcome,
                Outcome::Malformed {
                    algorithm: Algorithm::Pbkdf2Sha256,
                    ..
                }
            ),
            "{stored}: {outcome:?}"
        );
        assert!(!outcome.is_match());
    }
    assert_eq!(hashers.check(pw, Some("")), Outcome::UnknownAlgorithm);
    assert_eq!(
        hashers.check(pw, Some("nonsense")),
        Outcome::UnknownAlgorithm
    );
    assert_eq!(hashers.check(pw, None), Outcome::Null);
}

#[test]
fn malformed_values_of_every_algorithm() {
    // A cheap dummy hash: what is tested here is the answer, not the timing.
    let mut cfg = HasherConfig::all_enabled();
    cfg.defaults.pbkdf2_iterations = 1000;
    let hashers = Hashers::new(cfg).expect("config");
    let cases: &[(&str, Algorithm)] = &[
        ("pbkdf2_sha256", Algorithm::Pbkdf2Sha256),
        ("pbkdf2_sha256$-1$salt$hash", Algorithm::Pbkdf2Sha256),
        ("pbkdf2_sha256$1000$$hash", Algorithm::Pbkdf2Sha256),
        (
            "pbkdf2_sha256$99999999999999999999999$salt$hash",
            Algorithm::Pbkdf2Sha256,
        ),
        (
            "pbkdf2_sha256$2147483648$salt$hash",
            Algorithm::Pbkdf2Sha256,
        ),
        ("pbkdf2_sha1$1_0_0$", Algorithm::Pbkdf2Sha1),
        ("bcrypt_sha256$", Algorithm::BcryptSha256),
        ("bcrypt_sha256$$2b$04$short", Algorithm::BcryptSha256),
        (
            "bcrypt_sha256$$2c$04$abcdefghijklmnopqrstuuVTgWIlfVafOdCoNj73.S3YIYkZL7g7S",
            Algorithm::BcryptSha256,
        ),
        (
            "bcrypt_sha256$$2b$03$abcdefghijklmnopqrstuuVTgWIlfVafOdCoNj73.S3YIYkZL7g7S",
            Algorithm::BcryptSha256,
        ),
        (
            "bcrypt_sha256$$2b$32$abcdefghijklmnopqrstuuVTgWIlfVafOdCoNj73.S3YIYkZL7g7S",
            Algorithm::BcryptSha256,
        ),
        (
            "bcrypt_sha256$$2b$04$abcdefghijklmnopqrstuvVTgWIlfVafOdCoNj73.S3YIYkZL7g7S",
            Algorithm::BcryptSha256,
        ),
        (
            "bcrypt$$2b$04$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0é",
            Algorithm::Bcrypt,
        ),
        (
            "bcrypt$$2b$04$abcdefghij$klmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i",
            Algorithm::Bcrypt,
        ),
        ("scrypt$16384$salt$8$1", Algorithm::Scrypt),
        ("scrypt$16384$salt$8$1$hash$extra", Algorithm::Scrypt),
        ("scrypt$1000$salt$8$1$hash", Algorithm::Scrypt),
        ("scrypt$1$salt$8$1$hash", Algorithm::Scrypt),
        ("scrypt$-16384$salt$8$1$hash", Algorithm::Scrypt),
        ("scrypt$16384$$8$1$hash", Algorithm::Scrypt),
        ("scrypt$32768$salt$8$1$hash", Algorithm::Scrypt),
        ("scrypt$65536$salt$1$1$hash", Algorithm::Scrypt),
        ("scrypt$1024$salt$8$1073741823$hash", Algorithm::Scrypt),
        ("md5$$abc", Algorithm::Md5),
        ("md5$salt", Algorithm::Md5),
        ("sha1$$abc", Algorithm::Sha1),
        ("crypt$$$1$abc$def", Algorithm::Crypt),
        ("crypt$$_J9..abcd", Algorithm::Crypt),
        ("crypt$abc", Algorithm::Crypt),
        ("crypt$$ab\0Hv2Lg7ltQo", Algorithm::Crypt),
    ];
    for (stored, algorithm) in cases {
        let outcome = hashers.check(b"password", Some(stored));
        assert!(
            matches!(outcome, Outcome::Malformed { algorithm: a, .. } if a == *algorithm),
            "{stored:?}: {outcome:?}"
        );
        let d = describe(stored, hashers.config());
        assert!(d.malformed.is_some(), "{stored:?}: {d:?}");
    }
    // A NUL in the password is refused by Python's crypt.
    let outcome = hashers.check(b"l\0tmei", Some("crypt$$ab1Hv2Lg7ltQo"));
    assert!(matches!(
        outcome,
        Outcome::Malformed {
            algorithm: Algorithm::Crypt,
            ..
        }
    ));
}

#[test]
fn non_canonical_values_mismatch_like_django() {
    // Django re-encodes and compares whole strings: these can never match,
    // but Django returns False rather than raising.
    let hashers = Hashers::new(HasherConfig::all_enabled()).expect("config");
    let pw = "Pässwörd-123".as_bytes();
    let sha1 = "pbkdf2_sha1$1000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=";
    assert!(hashers.check(pw, Some(sha1)).is_match());
    for stored in [
        "pbkdf2_sha1$01000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=",
        "pbkdf2_sha1$+1000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=",
        "pbkdf2_sha1$1_000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=",
        "pbkdf2_sha1$ 1000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=",
        "pbkdf2_sha1$1000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs",
        "pbkdf2_sha1$1000$saltE1000$_GTSCtTtVmTcVAj4V3ySWdIuJRs=",
        "pbkdf2_sha1$1000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=\n",
        "pbkdf2_sha1$1000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=$",
    ] {
        assert_eq!(
            hashers.check(pw, Some(stored)),
            Outcome::Mismatch(Algorithm::Pbkdf2Sha1),
            "{stored:?}"
        );
    }
    // Iterations 0: Django substitutes its default, so the string differs.
    let zero = "pbkdf2_sha1$0$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=";
    let mut cfg = HasherConfig::all_enabled();
    cfg.defaults.pbkdf2_iterations = 1000;
    let cheap = Hashers::new(cfg).expect("config");
    assert_eq!(
        cheap.check(pw, Some(zero)),
        Outcome::Mismatch(Algorithm::Pbkdf2Sha1)
    );
    // scrypt with 0 fields likewise (defaults substituted, then mismatch).
    let scrypt = "scrypt$1024$saltF$8$1$8niTWH0gIuAW4Th5MdmDNGYKQbCShuuk2Q0SHKAD/eKeVa9SrokFhpTgjHFZnT4vLWVXhoUONdi5CKqbvKrtuQ==";
    assert!(hashers.check(pw, Some(scrypt)).is_match());
    let scrypt_padless = scrypt.trim_end_matches('=');
    assert_eq!(
        hashers.check(pw, Some(scrypt_padless)),
        Outcome::Mismatch(Algorithm::Scrypt)
    );
    let scrypt_plus = scrypt.replace("$8$1$", "$+8$1$");
    assert_eq!(
        hashers.check(pw, Some(&scrypt_plus)),
        Outcome::Mismatch(Algorithm::Scrypt)
    );
    // bcrypt: a one-digit cost parses but re-encodes as "04".
    let bcrypt = "bcrypt$$2b$4$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i";
    assert_eq!(
        hashers.check(&x(72), Some(bcrypt)),
        Outcome::Mismatch(Algorithm::Bcrypt)
    );
    // Upper-case hex never matches the lowercase digest.
    let upper = "md5$seasalt$3F86D0D3D465B7B458C231BF3555C0E3";
    assert_eq!(
        hashers.check("lètmein".as_bytes(), Some(upper)),
        Outcome::Mismatch(Algorithm::Md5)
    );
    // Crypt with a salt outside the DES alphabet: libxcrypt's failure token.
    assert_eq!(
        hashers.check(b"x", Some("crypt$$!!1Hv2Lg7ltQo")),
        Outcome::Mismatch(Algorithm::Crypt)
    );
}

#[test]
fn c16_low_iteration_vectors_match() {
    let hashers = django_52();
    let cases = [
        (
            "secret-42",
            "pbkdf2_sha256$1$inventedsalt0002$dd8qQAsvbcfEKlt0M9yOtJqmucmad0eldqOMm9LX/io=",
            Algorithm::Pbkdf2Sha256,
        ),
        (
            "Pässwörd-123",
            "pbkdf2_sha1$1000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=",
            Algorithm::Pbkdf2Sha1,
        ),
        (
            "Pässwörd-123",
            "scrypt$1024$saltF$8$1$8niTWH0gIuAW4Th5MdmDNGYKQbCShuuk2Q0SHKAD/eKeVa9SrokFhpTgjHFZnT4vLWVXhoUONdi5CKqbvKrtuQ==",
            Algorithm::Scrypt,
        ),
    ];
    for (password, stored, algorithm) in cases {
        assert_eq!(
            hashers.check(password.as_bytes(), Some(stored)),
            Outcome::Match(algorithm)
        );
        // Django would upgrade each of them on login (we never write).
        assert_eq!(
            describe(stored, hashers.config()).must_update,
            Some(true),
            "{stored}"
        );
    }
}

#[test]
fn describe_summaries() {
    let cfg = HasherConfig::default();
    let d = describe(
        "pbkdf2_sha256$1000000$hc5acvRKGycxB94IakYDcp$4b4qV9hYgf3dPtD8kqwUC1pjVfgs5WWRIM5UAktYNCs=",
        &cfg,
    );
    assert_eq!(
        d.summary,
        "pbkdf2_sha256, 1000000 iterations, salt 22 chars"
    );
    assert_eq!(
        (d.algorithm, d.enabled, d.must_update),
        (Some(Algorithm::Pbkdf2Sha256), true, Some(false))
    );
    let d = describe(
        "argon2$argon2id$v=19$m=102400,t=2,p=8$ZUlvT0phWnFWT2ExekRBY2ptS1QzdQ$hi6sRyJP4FXSWZym7+PVu3JPLzyoMTmZjaHBQO0ecjM",
        &cfg,
    );
    assert!(
        d.summary.starts_with("argon2id v=19 m=102400 t=2 p=8"),
        "{}",
        d.summary
    );
    assert_eq!(
        d.must_update,
        Some(true),
        "argon2 is not the preferred hasher"
    );
    let argon_first = HasherConfig {
        enabled: vec![Algorithm::Argon2],
        ..HasherConfig::default()
    };
    let d = describe(
        "argon2$argon2id$v=19$m=102400,t=2,p=8$ZUlvT0phWnFWT2ExekRBY2ptS1QzdQ$hi6sRyJP4FXSWZym7+PVu3JPLzyoMTmZjaHBQO0ecjM",
        &argon_first,
    );
    assert_eq!(
        d.must_update,
        Some(false),
        "22-byte salt, default parameters"
    );
    let d = describe(
        "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg",
        &argon_first,
    );
    assert_eq!(d.must_update, Some(true));
    let d = describe(C12_BCRYPT, &cfg);
    assert_eq!(
        (d.summary.as_str(), d.enabled, d.must_update),
        ("bcrypt $2b$ cost 4", false, None)
    );
    let d = describe("!h7zex436sP2ocmh1oHFN92KHC8Qq5ioYfRqrUiw0", &cfg);
    assert!(!d.usable);
    let d = describe("6d138ca3ae545631b3abd71a4f076ce759c5700b", &cfg);
    assert_eq!(d.algorithm, None);
    assert!(
        !d.summary.contains("6d138c"),
        "never echo a possible hash: {}",
        d.summary
    );
    let d = describe("lolcat$salt$hash", &cfg);
    assert!(d.summary.contains("\"lolcat\""), "{}", d.summary);
    assert!(d.to_string().contains(&d.summary));
}

/// Rows that ask for days of work are refused at once under the default caps
/// (found by attacking the daemon with them).
#[test]
fn hostile_cost_parameters_are_refused_quickly() {
    let hashers = Hashers::new(HasherConfig::all_enabled()).expect("config");
    for hostile in [
        "argon2$argon2id$v=19$m=8,t=4294967295,p=1$c29tZXNhbHQ$TMa6A8fPJhCAUXRhJXCXdw",
        "bcrypt_sha256$$2b$31$abcdefghijklmnopqrstuuVTgWIlfVafOdCoNj73.S3YIYkZL7g7S",
        "bcrypt$$2b$17$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i",
        "pbkdf2_sha256$2000000000$salt$8ZPFyRsWlAkpavfiZnqXkbQn/L8n0AOKy5VnbWdKWcg=",
    ] {
        let outcome = hashers.check(b"secret", Some(hostile));
        assert!(
            matches!(outcome, Outcome::Malformed { .. }),
            "{hostile}: {outcome:?}"
        );
    }
}
