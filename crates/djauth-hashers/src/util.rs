//! Small helpers that reproduce Python/Django behaviour byte for byte.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

/// `secrets.compare_digest` on the UTF-8 bytes: constant time for equal
/// lengths (a length difference is not hidden, as in Python).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Python's `len(str)`: the number of code points.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Django's `must_update_salt`: fewer than 128 bits of entropy at
/// log2(62) bits per character, i.e. fewer than 22 characters.
pub(crate) fn salt_too_short(salt_chars: usize) -> bool {
    // len * log2(62) < 128  <=>  len < 21.49..., and 21 * 5.954 = 125.04.
    salt_chars < 22
}

/// Lowercase hexadecimal, as Python's `hexdigest()` / `binascii.hexlify`.
pub(crate) fn hex_lower(bytes: &[u8]) -> Zeroizing<String> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Zeroizing::new(String::with_capacity(bytes.len() * 2));
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Python's `base64.b64encode(x).decode("ascii")`: standard alphabet, padded.
pub(crate) fn b64_standard(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(STANDARD.encode(bytes))
}

/// Whether `s` is exactly what Python's `b64encode` gives for `len` bytes.
pub(crate) fn is_canonical_b64(s: &str, len: usize) -> bool {
    STANDARD
        .decode(s)
        .is_ok_and(|bytes| bytes.len() == len && STANDARD.encode(&bytes) == s)
}

/// A value accepted by Python's `int(str)`, saturated to the `i128` range
/// (anything that large is out of every range Django accepts anyway).
pub(crate) type PyInt = i128;

/// Python's `int(s)` (base 10): surrounding whitespace, an optional sign,
/// ASCII digits with single underscores between them. Returns `None` where
/// Python raises `ValueError`.
///
/// Deviation: non-ASCII decimal digits (which Python also accepts) are
/// refused; such a value can only ever mismatch in Django, here it is
/// reported malformed instead. Both deny.
pub(crate) fn py_int(s: &str) -> Option<PyInt> {
    let t = s.trim_matches(py_isspace);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?),
        Some(b'+') => (false, t.get(1..)?),
        _ => (false, t),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    let mut value: i128 = 0;
    let mut previous_underscore = false;
    for b in digits.bytes() {
        match b {
            b'_' if !previous_underscore => previous_underscore = true,
            b'0'..=b'9' => {
                previous_underscore = false;
                value = value
                    .saturating_mul(10)
                    .saturating_add(i128::from(b - b'0'));
            }
            _ => return None,
        }
    }
    Some(if negative { -value } else { value })
}

/// Python's `str.isspace()` for one character (close approximation: Unicode
/// `White_Space` plus the ASCII information separators U+001C..U+001F).
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int() {
        assert_eq!(py_int("1000"), Some(1000));
        assert_eq!(py_int("01000"), Some(1000));
        assert_eq!(py_int(" +1_000\n"), Some(1000));
        assert_eq!(py_int("-1"), Some(-1));
        assert_eq!(py_int("0"), Some(0));
        for bad in [
            "", " ", "abc", "1__0", "_1", "1_", "+", "-", "1.0", "0x10", "+-1", "1 0", "１",
        ] {
            assert_eq!(py_int(bad), None, "{bad:?}");
        }
        assert_eq!(py_int(&"9".repeat(100)), Some(i128::MAX));
    }

    #[test]
    fn hex_and_salt() {
        assert_eq!(hex_lower(&[0x00, 0xab, 0xff]).as_str(), "00abff");
        assert!(salt_too_short(21));
        assert!(!salt_too_short(22));
    }
}
