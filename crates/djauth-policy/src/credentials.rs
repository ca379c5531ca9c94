//! Turning the raw bytes a web server hands over into Django strings.

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// Decodes bytes as UTF-8, or as Latin-1 when they are not valid UTF-8.
///
/// Browsers, curl and svn send UTF-8; a few legacy clients send Latin-1,
/// whose non-ASCII bytes are never valid UTF-8 in practice.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// The username to look up: decoded, then NFKC-normalised as Django's login form does.
pub fn decode_username(bytes: &[u8]) -> String {
    decode(bytes).nfkc().collect()
}

/// The password as Django would hash it: decoded, never normalised; wiped on drop.
pub fn decode_password(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(decode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_taken_as_is() {
        assert_eq!(decode_username("józef".as_bytes()), "józef");
        assert_eq!(*decode_password("Pässwörd-123".as_bytes()), "Pässwörd-123");
    }

    #[test]
    fn invalid_utf8_falls_back_to_latin1() {
        assert_eq!(decode_username(b"j\xf3zef"), "józef");
        assert_eq!(*decode_password(b"P\xe4ssw\xf6rd-123"), "Pässwörd-123");
        assert_eq!(*decode_password(b"\xff\xfe"), "\u{ff}\u{fe}");
    }

    #[test]
    fn usernames_are_nfkc_normalised_passwords_are_not() {
        // "jo" + combining acute + "zef" (NFD) becomes the NFC spelling.
        assert_eq!(decode_username("jo\u{301}zef".as_bytes()), "józef");
        // Fullwidth letters fold to ASCII under NFKC.
        assert_eq!(decode_username("ａｌｉｃｅ".as_bytes()), "alice");
        assert_eq!(*decode_password("o\u{301}".as_bytes()), "o\u{301}");
    }
}
