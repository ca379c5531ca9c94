//! `djauth external`: the program Apache's mod_authnz_external runs for each
//! check, in `pipe` mode (`DefineExternalAuth` for passwords,
//! `DefineExternalGroup` for `Require external-group RULES`).
//!
//! It reads the two lines on stdin ([`pipe`]), asks the running daemon over
//! its Unix socket with djauth-proto's blocking client, and answers with its
//! exit status ([`Verdict`]). It never opens the database and starts no
//! async runtime: Apache forks it once per check.

mod pipe;

use std::io::Read;
use std::process::ExitCode;

use djauth_proto::{Client, Reply, Request, Timeouts};

use crate::cli::{ExternalArgs, ExternalCheck};
use crate::header_value::LoggedName;

/// The answer, as an exit status. mod_authnz_external grants on 0 and
/// refuses on anything else; the other values only tell the error log
/// (its "Failed (N)" line) why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 0: the password is right (and the rule met) / the user meets the rule.
    Granted,
    /// 1: djauth refused (unknown user, wrong password, inactive, rule not met).
    Refused,
    /// 2: stdin or the arguments are not what mod_authnz_external sends.
    BadInput,
    /// 3: djauth could not answer (not running, timed out, database down,
    /// unknown site, invalid rule).
    Error,
}

impl Verdict {
    /// The process exit status.
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Verdict::Granted => 0,
            Verdict::Refused => 1,
            Verdict::BadInput => 2,
            Verdict::Error => 3,
        })
    }
}

/// Runs one check; stderr (Apache's error log) gets one line unless granted.
pub fn run(args: ExternalArgs) -> ExitCode {
    let (verdict, message) = check(&args, std::io::stdin().lock());
    if let Some(message) = message {
        eprintln!("djauth external: {message}");
    }
    verdict.exit_code()
}

/// The verdict for the pipe input, and the line for the error log.
fn check(args: &ExternalArgs, stdin: impl Read) -> (Verdict, Option<String>) {
    let lines = match pipe::read_two_lines(stdin) {
        Ok(lines) => lines,
        Err(e) => {
            return (
                Verdict::BadInput,
                Some(format!("error: bad input from mod_authnz_external: {e}")),
            );
        }
    };
    let user = lines.first;
    let site = args.site.clone().unwrap_or_default();
    let request = match args.check {
        ExternalCheck::Auth => Request::Authenticate {
            site,
            user: user.clone(),
            password: lines.second,
            requirement: "valid-user".into(),
        },
        ExternalCheck::Group => match String::from_utf8(lines.second.to_vec()) {
            Ok(requirement) => Request::Authorize {
                site,
                user: user.clone(),
                requirement,
            },
            Err(_) => {
                return (
                    Verdict::BadInput,
                    Some("error: the Require external-group arguments are not UTF-8".into()),
                );
            }
        },
    };
    let reply = Client::new().call(&args.socket, &Timeouts::default(), &request);
    let user = LoggedName(&user);
    match reply {
        Ok(Reply::Granted { .. }) => (Verdict::Granted, None),
        Ok(Reply::NotFound) => (
            Verdict::Refused,
            Some(format!("refused {user}: unknown-user")),
        ),
        Ok(Reply::Denied { reason }) => (
            Verdict::Refused,
            Some(format!("refused {user}: {}", one_line(&reason))),
        ),
        Ok(Reply::Error { message }) => (
            Verdict::Error,
            Some(format!(
                "error: djauth could not decide for {user}: {}",
                one_line(&message)
            )),
        ),
        Ok(Reply::Pong) => (
            Verdict::Error,
            Some("error: djauth answered a check with a pong".into()),
        ),
        Err(e) => (Verdict::Error, Some(format!("error: {e}"))),
    }
}

/// The daemon's text with control characters escaped: one log line, always.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn args(check: ExternalCheck) -> ExternalArgs {
        ExternalArgs {
            socket: PathBuf::from("/nonexistent/djauth-external-test.sock"),
            site: Some("demo".into()),
            check,
        }
    }

    #[test]
    fn bad_input_is_refused_before_asking() {
        let (verdict, message) = check(&args(ExternalCheck::Auth), &b"alice\nsecret-pw"[..]);
        assert_eq!(verdict, Verdict::BadInput);
        let message = message.unwrap();
        assert!(message.starts_with("error: bad input"), "{message}");
        assert!(!message.contains("secret-pw"), "{message}");
    }

    #[test]
    fn a_group_line_that_is_not_utf8_is_bad_input() {
        let (verdict, _) = check(
            &args(ExternalCheck::Group),
            &b"alice\ngroup:j\xc3\xb3zef\n"[..],
        );
        assert_eq!(verdict, Verdict::Error, "UTF-8 reaches the (absent) daemon");
        let (verdict, message) = check(&args(ExternalCheck::Group), &b"alice\ngroup:\xff\n"[..]);
        assert_eq!(verdict, Verdict::BadInput);
        assert!(message.unwrap().contains("not UTF-8"));
    }

    #[test]
    fn an_unreachable_daemon_is_an_error_never_a_grant() {
        for mode in [ExternalCheck::Auth, ExternalCheck::Group] {
            let (verdict, message) = check(&args(mode), &b"alice\nsecret-pw\n"[..]);
            assert_eq!(verdict, Verdict::Error);
            let message = message.unwrap();
            assert!(
                message.starts_with("error: cannot connect to djauth at /nonexistent/"),
                "{message}"
            );
            assert!(!message.contains("secret-pw"), "{message}");
        }
    }

    #[test]
    fn daemon_text_stays_on_one_line() {
        assert_eq!(one_line("site \"x\"\nforged"), "site \"x\"\\nforged");
    }

    #[test]
    fn exit_codes_are_distinct_and_only_a_grant_is_zero() {
        let codes = [
            Verdict::Granted,
            Verdict::Refused,
            Verdict::BadInput,
            Verdict::Error,
        ]
        .map(|v| format!("{:?}", v.exit_code()));
        assert_eq!(codes[0], format!("{:?}", ExitCode::SUCCESS));
        for (i, a) in codes.iter().enumerate() {
            for b in &codes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
