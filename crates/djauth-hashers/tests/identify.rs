//! `identify_hasher` edge cases and `Algorithm::parse`.

use djauth_hashers::{Algorithm, HasherConfig, Hashers, Identified, Outcome, identify};

#[test]
fn any_32_characters_without_dollar_are_unsalted_md5() {
    for s in [
        "88a434c88cca4e900f7874cd98123f43".to_owned(),
        "x".repeat(32),
        "é".repeat(32), // 64 bytes, 32 characters: Django counts characters
        "!".repeat(32),
        " ".repeat(32),
    ] {
        assert_eq!(
            identify(&s),
            Identified::Known(Algorithm::UnsaltedMd5),
            "{s:?}"
        );
    }
    // 32 bytes but 16 characters: not the unsalted form.
    let sixteen = "é".repeat(16);
    assert_eq!(identify(&sixteen), Identified::Unknown(sixteen.as_str()));
    // 31 / 33 characters, or a '$' among the 32: by prefix.
    let thirty_one = "a".repeat(31);
    assert_eq!(
        identify(&thirty_one),
        Identified::Unknown(thirty_one.as_str())
    );
    let with_dollar = format!("md5${}", "a".repeat(28));
    assert_eq!(with_dollar.chars().count(), 32);
    assert_eq!(identify(&with_dollar), Identified::Known(Algorithm::Md5));
}

#[test]
fn md5_and_sha1_empty_salt_forms() {
    let hex32 = "12841e4ba5e37d2fbfc78458c6714ade";
    assert_eq!(
        identify(&format!("md5$${hex32}")),
        Identified::Known(Algorithm::UnsaltedMd5)
    );
    // 37 characters starting with md5$$, even non-hex or non-ASCII.
    assert_eq!(
        identify(&format!("md5$${}", "é".repeat(32))),
        Identified::Known(Algorithm::UnsaltedMd5)
    );
    // Wrong length: salted md5 with an empty salt (malformed when enabled).
    assert_eq!(
        identify(&format!("md5$${}", &hex32[1..])),
        Identified::Known(Algorithm::Md5)
    );
    assert_eq!(identify("md5$$abc"), Identified::Known(Algorithm::Md5));
    let hex40 = "f517ddf1d32a112ff1ad55c66d1b12cb38e7e8f7";
    assert_eq!(
        identify(&format!("sha1$${hex40}")),
        Identified::Known(Algorithm::UnsaltedSha1)
    );
    assert_eq!(
        identify(&format!("sha1$${}", &hex40[1..])),
        Identified::Known(Algorithm::Sha1)
    );
    // A 40-hex-character unsalted SHA-1 without prefix is not identified.
    assert_eq!(identify(hex40), Identified::Unknown(hex40));

    let hashers = Hashers::new(HasherConfig::all_enabled()).expect("config");
    let pw = "pässwörd".as_bytes();
    assert!(hashers.check(pw, Some(&format!("md5$${hex32}"))).is_match());
    assert!(hashers.check(pw, Some(hex32)).is_match());
    assert!(
        hashers
            .check(pw, Some(&format!("sha1$${hex40}")))
            .is_match()
    );
    let short = format!("md5$${}", &hex32[1..]);
    assert!(matches!(
        hashers.check(pw, Some(&short)),
        Outcome::Malformed {
            algorithm: Algorithm::Md5,
            ..
        }
    ));
    // Upper-case hex is identified but never matches.
    let upper = hex32.to_uppercase();
    assert_eq!(
        hashers.check(pw, Some(&upper)),
        Outcome::Mismatch(Algorithm::UnsaltedMd5)
    );
}

#[test]
fn empty_unusable_and_case_sensitive_names() {
    assert_eq!(identify(""), Identified::Unknown(""));
    assert_eq!(identify("!"), Identified::Unknown("!"));
    for name in [
        "PBKDF2_SHA256",
        "Pbkdf2_sha256",
        "MD5",
        "Argon2",
        "BCRYPT",
        "SCRYPT",
        "Crypt",
    ] {
        let s = format!("{name}$1000$salt$hash");
        assert_eq!(identify(&s), Identified::Unknown(name), "{s}");
    }
    assert_eq!(
        identify("pbkdf2_sha256"),
        Identified::Known(Algorithm::Pbkdf2Sha256)
    );
    assert_eq!(
        identify("argon2$argon2id$..."),
        Identified::Known(Algorithm::Argon2)
    );
    // A dotted class path is not an algorithm name.
    let path = "django.contrib.auth.hashers.MD5PasswordHasher$salt$hash";
    assert!(matches!(identify(path), Identified::Unknown(_)));

    let hashers = Hashers::new(HasherConfig::all_enabled()).expect("config");
    assert_eq!(hashers.check(b"", Some("")), Outcome::UnknownAlgorithm);
    assert_eq!(
        hashers.check(b"x", Some("PBKDF2_SHA256$1000$salt$hash")),
        Outcome::UnknownAlgorithm
    );
    assert_eq!(hashers.check(b"!", Some("!")), Outcome::Unusable);
    // A 32-character unusable value is still unusable, not unsalted md5.
    assert_eq!(
        hashers.check(b"x", Some(&"!".repeat(32))),
        Outcome::Unusable
    );
}

#[test]
fn algorithm_parse_accepts_class_paths_and_names() {
    let expected = [
        (
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "pbkdf2_sha256",
            Algorithm::Pbkdf2Sha256,
        ),
        (
            "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
            "pbkdf2_sha1",
            Algorithm::Pbkdf2Sha1,
        ),
        (
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            "argon2",
            Algorithm::Argon2,
        ),
        (
            "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
            "bcrypt_sha256",
            Algorithm::BcryptSha256,
        ),
        (
            "django.contrib.auth.hashers.BCryptPasswordHasher",
            "bcrypt",
            Algorithm::Bcrypt,
        ),
        (
            "django.contrib.auth.hashers.ScryptPasswordHasher",
            "scrypt",
            Algorithm::Scrypt,
        ),
        (
            "django.contrib.auth.hashers.MD5PasswordHasher",
            "md5",
            Algorithm::Md5,
        ),
        (
            "django.contrib.auth.hashers.SHA1PasswordHasher",
            "sha1",
            Algorithm::Sha1,
        ),
        (
            "django.contrib.auth.hashers.UnsaltedMD5PasswordHasher",
            "unsalted_md5",
            Algorithm::UnsaltedMd5,
        ),
        (
            "django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher",
            "unsalted_sha1",
            Algorithm::UnsaltedSha1,
        ),
        (
            "django.contrib.auth.hashers.CryptPasswordHasher",
            "crypt",
            Algorithm::Crypt,
        ),
    ];
    assert_eq!(expected.len(), Algorithm::ALL.len());
    for (path, name, algorithm) in expected {
        assert_eq!(Algorithm::parse(path), Some(algorithm));
        assert_eq!(Algorithm::parse(name), Some(algorithm));
        assert_eq!(algorithm.class_path(), path);
        assert_eq!(algorithm.name(), name);
        assert_eq!(algorithm.to_string(), name);
        assert!(Algorithm::ALL.contains(&algorithm));
    }
    for bad in [
        "",
        "PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.pbkdf2passwordhasher",
        "myapp.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.",
        "django.contrib.auth.hashers.md5",
        "MD5",
        " md5",
        "md5 ",
    ] {
        assert_eq!(Algorithm::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn config_validation() {
    let empty = HasherConfig {
        enabled: vec![],
        ..HasherConfig::default()
    };
    assert!(Hashers::new(empty).is_err());
    let mut bad = HasherConfig::default();
    bad.defaults.bcrypt_rounds = 3;
    assert!(Hashers::new(bad).is_err());
    let hashers = Hashers::new(HasherConfig::default()).expect("config");
    assert_eq!(hashers.preferred(), Algorithm::Pbkdf2Sha256);
    assert!(hashers.is_enabled(Algorithm::Scrypt));
    assert!(!hashers.is_enabled(Algorithm::Md5));
    let cfg = HasherConfig::for_django("3.2").expect("3.2");
    assert_eq!(cfg.defaults.pbkdf2_iterations, 260_000);
    assert!(!cfg.enabled.contains(&Algorithm::Scrypt));
}
