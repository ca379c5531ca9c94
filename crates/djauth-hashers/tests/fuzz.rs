//! Arbitrary stored values (and passwords) never make a check panic.

use djauth_hashers::{Algorithm, Argon2Variant, DjangoDefaults, HasherConfig, Hashers, describe};
use proptest::prelude::*;

/// Every hasher enabled, with caps and defaults that keep arbitrary input cheap.
fn cheap_config(preferred: Algorithm) -> HasherConfig {
    let mut enabled = vec![preferred];
    enabled.extend(Algorithm::ALL.into_iter().filter(|a| *a != preferred));
    HasherConfig {
        enabled,
        defaults: DjangoDefaults {
            pbkdf2_iterations: 2,
            argon2: (Argon2Variant::Argon2id, 1, 8, 1, 16),
            bcrypt_rounds: 5,
            scrypt: (4, 1, 1),
            salt_entropy_check: true,
        },
        scrypt_max_memory: 64 * 1024,
        argon2_max_memory_kib: 64,
        argon2_max_time_cost: 2,
        pbkdf2_max_iterations: 2_000,
        bcrypt_max_cost: 5,
    }
}

/// Pieces that steer generated values into every parser's corners.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("$".to_owned()),
        Just("2b".to_owned()),
        Just("2y".to_owned()),
        Just("04".to_owned()),
        Just("4".to_owned()),
        Just("12".to_owned()),
        Just("argon2id".to_owned()),
        Just("argon2i".to_owned()),
        Just("argon2d".to_owned()),
        Just("v=19".to_owned()),
        Just("v=16".to_owned()),
        Just("m=8,t=1,p=1".to_owned()),
        Just("m=64,t=2,p=8".to_owned()),
        Just("c2FsdHNhbHQ".to_owned()),
        Just("YC9+jJCrQhs5R6db7LlN8Q".to_owned()),
        Just("abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i".to_owned()),
        Just("abcdefghijklmnopqrstuu".to_owned()),
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("1000".to_owned()),
        Just("1_0".to_owned()),
        Just("99999999999999999999999999999999999999999".to_owned()),
        Just("2".to_owned()),
        Just("16".to_owned()),
        Just("1".to_owned()),
        Just("=".to_owned()),
        Just("é".to_owned()),
        Just("\0".to_owned()),
        "[a-zA-Z0-9./+=_-]{0,24}",
        "\\PC{0,8}",
    ]
}

fn structured() -> impl Strategy<Value = String> {
    let names = prop::sample::select(
        Algorithm::ALL
            .iter()
            .map(|a| a.name().to_owned())
            .chain([
                "!".to_owned(),
                String::new(),
                "md5$".to_owned(),
                "sha1$".to_owned(),
            ])
            .collect::<Vec<_>>(),
    );
    (names, prop::collection::vec(piece(), 0..8)).prop_map(|(name, pieces)| {
        let mut s = name;
        for p in pieces {
            s.push('$');
            s.push_str(&p);
        }
        s
    })
}

fn password() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..100)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(encoded in "\\PC{0,160}", pw in password(), which in 0usize..11) {
        let preferred = Algorithm::ALL[which];
        let hashers = Hashers::new(cheap_config(preferred)).expect("config");
        let outcome = hashers.check(&pw, Some(&encoded));
        let _ = describe(&encoded, hashers.config());
        prop_assert!(!outcome.is_match() || outcome.algorithm().is_some());
    }

    #[test]
    fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..160), pw in password()) {
        let encoded = String::from_utf8_lossy(&raw);
        let hashers = Hashers::new(cheap_config(Algorithm::Pbkdf2Sha256)).expect("config");
        let _ = hashers.check(&pw, Some(&encoded));
        let _ = describe(&encoded, hashers.config());
    }

    #[test]
    fn structured_values_never_panic(encoded in structured(), pw in password(), which in 0usize..11) {
        let preferred = Algorithm::ALL[which];
        let hashers = Hashers::new(cheap_config(preferred)).expect("config");
        let _ = hashers.check(&pw, Some(&encoded));
        let d = describe(&encoded, hashers.config());
        prop_assert!(!d.summary.is_empty());
    }
}
