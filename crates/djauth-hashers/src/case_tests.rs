//! Case tests that look inside a check: which timing defences ran
//! (cases C03 and C04 of `shared/cases/cases.md`).

use crate::algorithm::Algorithm;
use crate::check::{Hashers, Outcome, Trace};
use crate::config::{DjangoDefaults, HasherConfig};
use crate::hashers::Work;

fn django_52() -> Hashers {
    Hashers::new(HasherConfig::default()).expect("valid config")
}

/// C03: `!`-prefixed values never match, whatever the password, and a dummy
/// hash runs so the answer takes as long as a real check.
#[test]
fn c03_unusable_password_never_matches_and_runs_the_dummy() {
    let hashers = django_52();
    let stored = "!h7zex436sP2ocmh1oHFN92KHC8Qq5ioYfRqrUiw0";
    for password in ["", "!", stored] {
        let (outcome, trace) = hashers.check_traced(password.as_bytes(), Some(stored));
        assert_eq!(outcome, Outcome::Unusable, "password {password:?}");
        assert!(trace.dummy, "dummy hash must run for {password:?}");
        assert_eq!(trace.harden, None);
    }
    // A pre-#20079 row holding just "!".
    for password in ["", "!"] {
        let (outcome, trace) = hashers.check_traced(password.as_bytes(), Some("!"));
        assert_eq!(outcome, Outcome::Unusable);
        assert!(trace.dummy);
    }
}

/// The dummy also runs for NULL, unknown, disabled and malformed values, and
/// never for a real verification.
#[test]
fn dummy_runs_exactly_when_django_fakes_the_runtime() {
    let hashers = django_52();
    let dummy = |encoded: Option<&str>| hashers.check_traced(b"secret-42", encoded);
    let (o, t) = dummy(None);
    assert_eq!((o, t.dummy), (Outcome::Null, true));
    let (o, t) = dummy(Some("nonsense"));
    assert_eq!((o, t.dummy), (Outcome::UnknownAlgorithm, true));
    let (o, t) = dummy(Some("md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3"));
    assert_eq!((o, t.dummy), (Outcome::Disabled(Algorithm::Md5), true));
    let (o, t) = dummy(Some("pbkdf2_sha256$abc$salt$hash"));
    assert!(matches!(
        o,
        Outcome::Malformed {
            algorithm: Algorithm::Pbkdf2Sha256,
            ..
        }
    ));
    assert!(t.dummy);
    let stored = "pbkdf2_sha256$1$inventedsalt0002$dd8qQAsvbcfEKlt0M9yOtJqmucmad0eldqOMm9LX/io=";
    let (o, t) = dummy(Some(stored));
    assert_eq!(o, Outcome::Match(Algorithm::Pbkdf2Sha256));
    assert_eq!(t, Trace::default());
}

const C04_PBKDF2: &str =
    "pbkdf2_sha256$260000$inventedsalt0005$UhNHRqgI5CTQXiS6/PoLO/I8IY2SFl0EPHoZ2cpcEpI=";

/// C04: a wrong password on an outdated hash of the preferred algorithm is
/// padded up to the default cost (PBKDF2: default - stored iterations).
#[test]
fn c04_pbkdf2_harden_runtime() {
    let hashers = django_52();
    let (outcome, trace) = hashers.check_traced(b"secret-42", Some(C04_PBKDF2));
    assert_eq!(outcome, Outcome::Match(Algorithm::Pbkdf2Sha256));
    assert_eq!(trace, Trace::default(), "no padding for the right password");

    let expected = Work::Pbkdf2 {
        algorithm: Algorithm::Pbkdf2Sha256,
        iterations: 740_000,
        salt: "inventedsalt0005".to_owned(),
    };
    let (outcome, trace) = hashers.check_traced(b"secret-43", Some(C04_PBKDF2));
    assert_eq!(outcome, Outcome::Mismatch(Algorithm::Pbkdf2Sha256));
    assert!(!trace.dummy);
    assert_eq!(trace.harden, Some(expected.clone()));
    assert_eq!(hashers.harden_work(C04_PBKDF2), Some(expected));
}

/// C04: no padding when the hash's algorithm is not the preferred one, nor
/// when nothing is missing.
#[test]
fn c04_no_harden_when_not_needed() {
    // Preferred argon2: a pbkdf2 hash is not padded (Django doesn't either).
    let cfg = HasherConfig {
        enabled: vec![Algorithm::Argon2, Algorithm::Pbkdf2Sha256],
        ..HasherConfig::default()
    };
    let hashers = Hashers::new(cfg).expect("config");
    let (outcome, trace) = hashers.check_traced(b"wrong", Some(C04_PBKDF2));
    assert_eq!(outcome, Outcome::Mismatch(Algorithm::Pbkdf2Sha256));
    assert_eq!(trace, Trace::default());
    assert_eq!(hashers.harden_work(C04_PBKDF2), None);

    let hashers = django_52();
    // Up to date: default iterations and a 22-character salt.
    let current =
        "pbkdf2_sha256$1000000$hc5acvRKGycxB94IakYDcp$4b4qV9hYgf3dPtD8kqwUC1pjVfgs5WWRIM5UAktYNCs=";
    assert_eq!(hashers.harden_work(current), None);
    // Short salt (must_update) but no iterations missing: nothing to add.
    let short_salt = "pbkdf2_sha256$1000000$seasalt$r1uLUxoxpP2Ued/qxvmje7UH9PUJBkRrvf9gGPL7Cps=";
    assert_eq!(hashers.harden_work(short_salt), None);
    // More iterations than the default: nothing to add.
    let more = "pbkdf2_sha256$1500000$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=";
    assert_eq!(hashers.harden_work(more), None);
}

const C13_BCRYPT: &str = "bcrypt$$2b$04$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i";

/// C04: bcrypt pads with `2^(default_rounds - stored_rounds) - 1` extra hashes
/// at the stored cost and salt.
#[test]
fn c04_bcrypt_harden_runtime() {
    let cfg = HasherConfig {
        enabled: vec![Algorithm::Bcrypt],
        ..HasherConfig::default()
    };
    let hashers = Hashers::new(cfg.clone()).expect("config");
    let Some(Work::Bcrypt {
        algorithm,
        cost,
        hashes,
        ..
    }) = hashers.harden_work(C13_BCRYPT)
    else {
        panic!("expected bcrypt harden work");
    };
    assert_eq!((algorithm, cost, hashes), (Algorithm::Bcrypt, 4, 255));

    // Run it for real with a smaller default (6 rounds: 2^2 - 1 = 3 hashes).
    let cfg = HasherConfig {
        defaults: DjangoDefaults {
            bcrypt_rounds: 6,
            ..DjangoDefaults::default()
        },
        ..cfg
    };
    let hashers = Hashers::new(cfg).expect("config");
    let (outcome, trace) = hashers.check_traced(b"y", Some(C13_BCRYPT));
    assert_eq!(outcome, Outcome::Mismatch(Algorithm::Bcrypt));
    assert!(matches!(
        trace.harden,
        Some(Work::Bcrypt {
            hashes: 3,
            cost: 4,
            ..
        })
    ));
    let (outcome, trace) = hashers.check_traced("x".repeat(72).as_bytes(), Some(C13_BCRYPT));
    assert_eq!(outcome, Outcome::Match(Algorithm::Bcrypt));
    assert_eq!(trace.harden, None);
}
