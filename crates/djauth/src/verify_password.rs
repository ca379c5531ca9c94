//! `djauth verify-password`: one password against one stored hash, as Django would.

use std::io::Read;
use std::process::ExitCode;

use djauth_hashers::{HasherConfig, Hashers, Outcome};
use zeroize::Zeroizing;

use crate::cli::VerifyPasswordArgs;
use crate::config::parse_hasher_list;

/// Exit code 0 when the password matches, 1 when it does not, 2 on usage errors.
pub fn run(args: VerifyPasswordArgs) -> ExitCode {
    let config = match hasher_config(args.hashers.as_deref()) {
        Ok(config) => config,
        Err(e) => return usage(&e),
    };
    let hashers = match Hashers::new(config) {
        Ok(hashers) => hashers,
        Err(e) => return usage(&e.to_string()),
    };
    let mut input = Zeroizing::new(Vec::new());
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        return usage(&format!("cannot read the password from stdin: {e}"));
    }
    let password = strip_one_newline(&input);
    let password = djauth_policy::decode_password(password);
    let outcome = hashers.check(password.as_bytes(), Some(&args.encoded));
    println!("{}", explain(&outcome));
    if outcome.is_match() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `all`, or a comma-separated PASSWORD_HASHERS list; default Django 5.2's.
fn hasher_config(list: Option<&str>) -> Result<HasherConfig, String> {
    match list {
        None => Ok(HasherConfig::default()),
        Some("all") => Ok(HasherConfig::all_enabled()),
        Some(list) => {
            let names: Vec<&str> = list.split(',').collect();
            Ok(HasherConfig {
                enabled: parse_hasher_list(&names)?,
                ..HasherConfig::default()
            })
        }
    }
}

/// `echo pw | djauth verify-password` sends one trailing newline; drop it.
fn strip_one_newline(input: &[u8]) -> &[u8] {
    let input = input.strip_suffix(b"\n").unwrap_or(input);
    input.strip_suffix(b"\r").unwrap_or(input)
}

/// One line for the operator.
fn explain(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Match(algorithm) => format!("{}: match", algorithm.name()),
        Outcome::Mismatch(algorithm) => format!("{}: no match", algorithm.name()),
        Outcome::Unusable => "unusable password (starts with '!'): never matches".into(),
        Outcome::Null => "no stored password: never matches".into(),
        Outcome::UnknownAlgorithm => "unknown algorithm: never matches".into(),
        Outcome::Disabled(algorithm) => format!(
            "{}: not among the enabled hashers ({}): never matches",
            algorithm.name(),
            algorithm.class_path()
        ),
        Outcome::Malformed { algorithm, reason } => {
            format!(
                "{}: malformed hash ({reason}): never matches",
                algorithm.name()
            )
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("djauth verify-password: {message}");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_trailing_newline_is_removed() {
        assert_eq!(strip_one_newline(b"pw\n"), b"pw");
        assert_eq!(strip_one_newline(b"pw\r\n"), b"pw");
        assert_eq!(strip_one_newline(b"pw\n\n"), b"pw\n");
        assert_eq!(strip_one_newline(b" pw "), b" pw ");
    }

    #[test]
    fn hasher_lists() {
        assert_eq!(
            hasher_config(Some("md5,django.contrib.auth.hashers.PBKDF2PasswordHasher"))
                .unwrap()
                .enabled,
            [
                djauth_hashers::Algorithm::Md5,
                djauth_hashers::Algorithm::Pbkdf2Sha256
            ]
        );
        assert_eq!(
            hasher_config(Some("all")).unwrap().enabled.len(),
            djauth_hashers::Algorithm::ALL.len()
        );
        assert!(hasher_config(Some("md5,nope")).is_err());
    }
}
