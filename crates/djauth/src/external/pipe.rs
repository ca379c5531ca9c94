//! mod_authnz_external's `pipe` protocol: the program's stdin holds exactly
//! two lines, each ended by `\n`, then end of file. For authentication they
//! are the username and the password; for `Require external-group` they are
//! the username and the rest of the `Require` line.
//!
//! The module writes the values as C strings (no NUL inside) and nothing
//! else, so anything that is not exactly two terminated lines (a missing
//! newline, a third line, a NUL byte, more than [`MAX_INPUT`] bytes) is
//! refused as malformed. Bytes are kept exactly as sent: a `\r` before the
//! `\n` belongs to the value.

use std::fmt;
use std::io::{self, Read};

use zeroize::Zeroizing;

/// Most bytes accepted on stdin: more than any request header Apache
/// accepts (8 KiB by default) or any `Require` line needs.
pub const MAX_INPUT: usize = 16 * 1024;

/// The two lines, without their newlines. The second may be a password:
/// it is wiped when dropped, and so is the whole input it came from.
pub struct TwoLines {
    /// Line 1: the username as Apache has it (`r->user`).
    pub first: Vec<u8>,
    /// Line 2: the password, or the `Require external-group` arguments.
    pub second: Zeroizing<Vec<u8>>,
}

/// Why stdin is not what mod_authnz_external sends.
#[derive(Debug)]
pub enum PipeError {
    /// Reading stdin failed.
    Read(io::Error),
    /// More than [`MAX_INPUT`] bytes.
    TooLarge,
    /// Fewer than two lines, or the last one has no newline.
    Truncated,
    /// Bytes after the second line.
    ExtraLine,
    /// A NUL byte, which the module can never send.
    Nul,
}

impl fmt::Display for PipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipeError::Read(e) => write!(f, "cannot read stdin: {e}"),
            PipeError::TooLarge => write!(f, "more than {MAX_INPUT} bytes on stdin"),
            PipeError::Truncated => f.write_str("stdin ended before two newline-terminated lines"),
            PipeError::ExtraLine => f.write_str("more than two lines on stdin"),
            PipeError::Nul => f.write_str("a NUL byte on stdin"),
        }
    }
}

/// Reads stdin (or any reader) to its end and splits it into the two lines.
pub fn read_two_lines(reader: impl Read) -> Result<TwoLines, PipeError> {
    // Room for all that may be read, so the buffer never moves and leaves an
    // unwiped copy of the password behind. One byte over the limit tells
    // "too large" from "exactly the limit".
    let mut input = Zeroizing::new(Vec::with_capacity(MAX_INPUT + 1));
    reader
        .take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut input)
        .map_err(PipeError::Read)?;
    if input.len() > MAX_INPUT {
        return Err(PipeError::TooLarge);
    }
    let (first, second) = split_two_lines(&input)?;
    Ok(TwoLines {
        first: first.to_vec(),
        second: Zeroizing::new(second.to_vec()),
    })
}

/// `first\nsecond\n` → (`first`, `second`); anything else is an error.
fn split_two_lines(input: &[u8]) -> Result<(&[u8], &[u8]), PipeError> {
    if input.contains(&0) {
        return Err(PipeError::Nul);
    }
    let (first, rest) = split_line(input)?;
    let (second, rest) = split_line(rest)?;
    if !rest.is_empty() {
        return Err(PipeError::ExtraLine);
    }
    Ok((first, second))
}

/// One `\n`-terminated line and what follows it.
fn split_line(input: &[u8]) -> Result<(&[u8], &[u8]), PipeError> {
    let end = input
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(PipeError::Truncated)?;
    Ok((&input[..end], &input[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Result<(Vec<u8>, Vec<u8>), PipeError> {
        read_two_lines(input).map(|l| (l.first, l.second.to_vec()))
    }

    #[test]
    fn two_lines_are_user_and_second_value() {
        let (user, second) = lines(b"alice\nalice-pw\n").unwrap();
        assert_eq!(user, b"alice");
        assert_eq!(second, b"alice-pw");
        let (user, second) = lines(b"alice\ngroup:\"secret agents\" perm:svn.commit\n").unwrap();
        assert_eq!(user, b"alice");
        assert_eq!(second, b"group:\"secret agents\" perm:svn.commit");
    }

    #[test]
    fn bytes_are_kept_exactly() {
        // UTF-8, Latin-1, a colon and spaces in the password: untouched.
        let (user, password) = lines("józef\nPä:ss wörd \n".as_bytes()).unwrap();
        assert_eq!(user, "józef".as_bytes());
        assert_eq!(password, "Pä:ss wörd ".as_bytes());
        let (user, _) = lines(b"j\xf3zef\npw\n").unwrap();
        assert_eq!(user, b"j\xf3zef");
    }

    #[test]
    fn empty_values_are_lines_too() {
        let (user, password) = lines(b"\n\n").unwrap();
        assert!(user.is_empty() && password.is_empty());
    }

    #[test]
    fn crlf_is_not_trimmed() {
        // The module never sends CR; if one arrives it is part of the value,
        // so "alice\r" is not alice (a refusal, never a widened match).
        let (user, password) = lines(b"alice\r\nalice-pw\r\n").unwrap();
        assert_eq!(user, b"alice\r");
        assert_eq!(password, b"alice-pw\r");
    }

    #[test]
    fn truncated_input_is_refused() {
        for input in [&b""[..], b"alice", b"alice\n", b"alice\nalice-pw", b"\n"] {
            assert!(
                matches!(lines(input), Err(PipeError::Truncated)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn a_third_line_is_refused() {
        // A line break inside a value would make the lines ambiguous.
        for input in [
            &b"alice\npw\n\n"[..],
            b"alice\npw\nextra",
            b"alice\npw\nx\n",
        ] {
            assert!(
                matches!(lines(input), Err(PipeError::ExtraLine)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn nul_bytes_are_refused() {
        for input in [
            &b"alice\0\npw\n"[..],
            b"alice\npw\0\n",
            b"alice\npw\n\0",
            b"\0",
        ] {
            assert!(matches!(lines(input), Err(PipeError::Nul)), "{input:?}");
        }
    }

    #[test]
    fn huge_input_is_refused_without_reading_it_all() {
        let mut input = b"alice\n".to_vec();
        input.resize(MAX_INPUT - 1, b'x');
        input.push(b'\n');
        assert_eq!(lines(&input).unwrap().1.len(), MAX_INPUT - 7);
        input.insert(0, b'a');
        assert!(matches!(lines(&input), Err(PipeError::TooLarge)));
        // An endless stream stops at the limit.
        let endless = std::io::repeat(b'a');
        assert!(matches!(read_two_lines(endless), Err(PipeError::TooLarge)));
    }

    #[test]
    fn read_errors_are_reported() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("boom"))
            }
        }
        let error = read_two_lines(Broken).err().unwrap();
        assert_eq!(error.to_string(), "cannot read stdin: boom");
    }
}
