//! Values djauth hands to web servers in headers and variables.

/// The value as bytes if it is safe in a header, i.e. has no control characters.
pub fn plain_value(value: &str) -> Option<Vec<u8>> {
    if value.chars().any(char::is_control) {
        None
    } else {
        Some(value.as_bytes().to_vec())
    }
}

/// Group names joined with commas; `%`, `,` and control characters in a
/// name are percent-encoded so the list can always be split again.
pub fn encode_groups(groups: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        for &byte in group.as_bytes() {
            if byte == b'%' || byte == b',' || byte < 0x20 || byte == 0x7f {
                out.extend_from_slice(format!("%{byte:02X}").as_bytes());
            } else {
                out.push(byte);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(plain_value("józef").unwrap(), "józef".as_bytes());
        assert!(plain_value("evil\r\nX-Injected: 1").is_none());
    }

    #[test]
    fn groups_are_comma_separated_and_escaped() {
        let groups = ["secret agents".to_string(), "a,b".into(), "50%\n".into()];
        assert_eq!(encode_groups(&groups), b"secret agents,a%2Cb,50%25%0A");
        assert_eq!(encode_groups(&[]), b"");
    }
}
