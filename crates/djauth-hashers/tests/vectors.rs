//! Every row of `shared/data/django_hash_vectors.tsv` (Django's answers with
//! every hasher enabled) must give `expected_valid`.

use std::path::PathBuf;

use djauth_hashers::{HasherConfig, Hashers, Outcome};

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/django_hash_vectors.tsv")
}

#[test]
fn django_hash_vectors() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("test vectors missing at {}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().expect("header line");
    assert_eq!(header, "hasher\tpassword\tencoded\texpected_valid\tsource");
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let hashers = Hashers::new(HasherConfig::all_enabled()).expect("config");
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let fields: Vec<&str> = row.split('\t').collect();
        assert_eq!(fields.len(), 5, "row {} has {} fields", i + 2, fields.len());
        let (hasher, password, encoded, expected, source) =
            (fields[0], fields[1], fields[2], fields[3], fields[4]);
        let expected = match expected {
            "true" => true,
            "false" => false,
            other => panic!("row {}: bad expected_valid {other:?}", i + 2),
        };
        let outcome = hashers.check(password.as_bytes(), Some(encoded));
        if outcome.is_match() != expected {
            failures.push(format!(
                "line {}: {hasher} {password:?} {encoded:?} expected {expected}, got {outcome:?} ({source})",
                i + 2
            ));
        }
        // Rows Django raises on must come out as Malformed, never as a plain mismatch.
        if source.contains("raises=ValueError") && !expected {
            assert!(
                matches!(outcome, Outcome::Malformed { .. }),
                "line {}: Django raises, got {outcome:?}",
                i + 2
            );
        }
        checked += 1;
    }
    println!("checked {checked} rows of {}", path.display());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, rows.len());
    assert!(
        checked >= 170,
        "the vector file looks truncated: {checked} rows"
    );
}
