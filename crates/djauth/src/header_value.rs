//! Values djauth hands to web servers in headers and variables, and writes to logs.

use std::fmt;

/// Longest name written to a log line (Django usernames have at most 150 characters).
const LOGGED_NAME_MAX: usize = 150;

/// Client-supplied bytes (a typed username, an address) for a log line:
/// always one double-quoted token, with quotes, backslashes, control and
/// non-UTF-8 bytes escaped and long values cut, so a client can neither
/// forge fields or lines nor flood the log.
pub struct LoggedName<'a>(pub &'a [u8]);

impl fmt::Display for LoggedName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = String::from_utf8_lossy(self.0);
        let mut shown: String = text.chars().take(LOGGED_NAME_MAX).collect();
        if text.chars().count() > LOGGED_NAME_MAX {
            shown.push('…');
        }
        write!(f, "{shown:?}")
    }
}

pub use djauth_proto::encode_groups;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_names_cannot_forge_fields_or_lines() {
        let shown = LoggedName(b"x client=203.0.113.7 reason=\"ok\"\n\x1b[2J").to_string();
        assert_eq!(shown, r#""x client=203.0.113.7 reason=\"ok\"\n\u{1b}[2J""#);
        assert!(!shown.contains('\n'));
        let long = LoggedName(&[b'a'; 10_000]).to_string();
        assert_eq!(long.chars().count(), 150 + 3);
        assert_eq!(LoggedName(b"j\xf3zef").to_string(), "\"j\u{fffd}zef\"");
    }
}
