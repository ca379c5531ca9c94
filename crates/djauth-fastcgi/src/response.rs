//! Encoding of the application's replies.

use crate::error::ResponseError;
use crate::record::{END_REQUEST, HEADER_LEN, STDOUT, push_records};

/// The protocolStatus of an END_REQUEST record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolStatus {
    /// FCGI_REQUEST_COMPLETE (0): normal end of request.
    RequestComplete,
    /// FCGI_CANT_MPX_CONN (1): refusing a second concurrent request on the connection.
    CantMpxConn,
    /// FCGI_OVERLOADED (2): out of some resource.
    Overloaded,
    /// FCGI_UNKNOWN_ROLE (3): the role asked for is not served.
    UnknownRole,
}

impl ProtocolStatus {
    /// The status's wire code.
    pub fn code(self) -> u8 {
        match self {
            ProtocolStatus::RequestComplete => 0,
            ProtocolStatus::CantMpxConn => 1,
            ProtocolStatus::Overloaded => 2,
            ProtocolStatus::UnknownRole => 3,
        }
    }
}

/// An END_REQUEST record for request `id`.
pub fn encode_end_request(id: u16, app_status: u32, protocol_status: ProtocolStatus) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + 8);
    push_end_request(&mut out, id, app_status, protocol_status);
    out
}

fn push_end_request(out: &mut Vec<u8>, id: u16, app_status: u32, protocol_status: ProtocolStatus) {
    let [a, b, c, d] = app_status.to_be_bytes();
    push_records(
        out,
        END_REQUEST,
        id,
        &[a, b, c, d, protocol_status.code(), 0, 0, 0],
    );
}

/// A complete reply to an authorizer request: STDOUT record(s) carrying
/// `Status: <code> <reason>\r\n` + the given headers + `\r\n`, an empty
/// STDOUT record, then END_REQUEST(app status 0, REQUEST_COMPLETE).
///
/// Input that [`try_encode_response`] refuses (a CR, LF or NUL in the reason
/// or a value, a name that is not an HTTP token or is `Status`, a status
/// outside 100..=599) never reaches the wire: the whole reply is replaced by
/// `Status: 500 Internal Server Error` with no headers, which Apache turns
/// into a general error, never into access. Callers that want to log the
/// cause call [`try_encode_response`] instead.
pub fn encode_response(id: u16, status: u16, reason: &str, headers: &[(&str, &[u8])]) -> Vec<u8> {
    try_encode_response(id, status, reason, headers).unwrap_or_else(|_| internal_error(id))
}

/// Like [`encode_response`], but returns an error instead of the 500 reply
/// when the status, reason or a header could change the reply's meaning.
///
/// An empty reason gives `Status: <code>\r\n` (Apache then shows "Unknown
/// Reason"; always give one). The STDOUT payload is split into records of at
/// most 65535 bytes; no padding is used.
pub fn try_encode_response(
    id: u16,
    status: u16,
    reason: &str,
    headers: &[(&str, &[u8])],
) -> Result<Vec<u8>, ResponseError> {
    if !(100..=599).contains(&status) {
        return Err(ResponseError::InvalidStatus(status));
    }
    if !field_value_ok(reason.as_bytes()) {
        return Err(ResponseError::InvalidReason);
    }
    let mut payload = Vec::new();
    payload.extend_from_slice(b"Status: ");
    payload.extend_from_slice(status.to_string().as_bytes());
    if !reason.is_empty() {
        payload.push(b' ');
        payload.extend_from_slice(reason.as_bytes());
    }
    payload.extend_from_slice(b"\r\n");
    for &(name, value) in headers {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ResponseError::InvalidHeaderName(name.to_owned()));
        }
        if name.eq_ignore_ascii_case("Status") {
            return Err(ResponseError::StatusHeader);
        }
        if !field_value_ok(value) {
            return Err(ResponseError::InvalidHeaderValue(name.to_owned()));
        }
        payload.extend_from_slice(name.as_bytes());
        payload.extend_from_slice(b": ");
        payload.extend_from_slice(value);
        payload.extend_from_slice(b"\r\n");
    }
    payload.extend_from_slice(b"\r\n");
    Ok(frame(id, &payload))
}

/// STDOUT records for `payload`, the empty STDOUT record, END_REQUEST.
fn frame(id: u16, payload: &[u8]) -> Vec<u8> {
    let records = payload.len().div_ceil(u16::MAX as usize);
    let mut out = Vec::with_capacity(payload.len() + HEADER_LEN * (records + 3));
    push_records(&mut out, STDOUT, id, payload);
    push_records(&mut out, STDOUT, id, &[]);
    push_end_request(&mut out, id, 0, ProtocolStatus::RequestComplete);
    out
}

fn internal_error(id: u16) -> Vec<u8> {
    frame(id, b"Status: 500 Internal Server Error\r\n\r\n")
}

/// No byte that ends a line for Apache's CGI header parser (CR, LF) or a C
/// string (NUL).
fn field_value_ok(value: &[u8]) -> bool {
    !value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_request_layout() {
        assert_eq!(
            encode_end_request(0x0102, 0x0a0b_0c0d, ProtocolStatus::UnknownRole),
            [1, 3, 1, 2, 0, 8, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d, 3, 0, 0, 0]
        );
        assert_eq!(
            encode_end_request(1, 0, ProtocolStatus::RequestComplete),
            [1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(ProtocolStatus::CantMpxConn.code(), 1);
        assert_eq!(ProtocolStatus::Overloaded.code(), 2);
    }

    #[test]
    fn response_layout_byte_for_byte() {
        let got = encode_response(1, 200, "OK", &[("Variable-DJANGO_USER", b"alice")]);
        let text = b"Status: 200 OK\r\nVariable-DJANGO_USER: alice\r\n\r\n";
        assert_eq!(text.len(), 47);
        let mut want = vec![1, 6, 0, 1, 0, 47, 0, 0];
        want.extend_from_slice(text);
        want.extend_from_slice(&[1, 6, 0, 1, 0, 0, 0, 0]);
        want.extend_from_slice(&[1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(got, want);
    }

    #[test]
    fn denial_without_headers() {
        let got = encode_response(1, 401, "Unauthorized", &[]);
        let text = b"Status: 401 Unauthorized\r\n\r\n";
        let mut want = vec![1, 6, 0, 1, 0, text.len() as u8, 0, 0];
        want.extend_from_slice(text);
        want.extend_from_slice(&[1, 6, 0, 1, 0, 0, 0, 0]);
        want.extend_from_slice(&encode_end_request(1, 0, ProtocolStatus::RequestComplete));
        assert_eq!(got, want);
    }

    #[test]
    fn empty_reason_omits_the_space() {
        let got = encode_response(3, 403, "", &[]);
        assert_eq!(&got[..8], [1, 6, 0, 3, 0, 15, 0, 0]);
        assert_eq!(&got[8..23], b"Status: 403\r\n\r\n");
    }

    #[test]
    fn values_may_hold_any_other_byte() {
        let value = [b'a', b'\t', 0x01, 0x7f, 0xc3, 0xa9, b':', b' '];
        let got = try_encode_response(1, 200, "OK", &[("Variable-X", &value)]).unwrap();
        let text = [&b"Status: 200 OK\r\nVariable-X: "[..], &value, b"\r\n\r\n"].concat();
        assert_eq!(&got[8..8 + text.len()], text);
    }

    fn internal_error_reply(id: u16) -> Vec<u8> {
        let text = b"Status: 500 Internal Server Error\r\n\r\n";
        let [hi, lo] = id.to_be_bytes();
        let mut want = vec![1, 6, hi, lo, 0, text.len() as u8, 0, 0];
        want.extend_from_slice(text);
        want.extend_from_slice(&[1, 6, hi, lo, 0, 0, 0, 0]);
        want.extend_from_slice(&[1, 3, hi, lo, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        want
    }

    #[test]
    fn cr_lf_nul_are_refused() {
        let bad_values: [&[u8]; 5] = [
            b"alice\r\nVariable-DJANGO_GROUPS: admin",
            b"alice\nX: y",
            b"alice\r",
            b"\n",
            b"alice\0bob",
        ];
        for value in bad_values {
            assert_eq!(
                try_encode_response(9, 200, "OK", &[("Variable-DJANGO_USER", value)]),
                Err(ResponseError::InvalidHeaderValue(
                    "Variable-DJANGO_USER".into()
                ))
            );
            assert_eq!(
                encode_response(9, 200, "OK", &[("Variable-DJANGO_USER", value)]),
                internal_error_reply(9)
            );
        }
        for name in ["X\r\nStatus", "X\nY", "X: Y", "", "Variable X", "Ä"] {
            assert_eq!(
                try_encode_response(9, 200, "OK", &[(name, b"v")]),
                Err(ResponseError::InvalidHeaderName(name.into()))
            );
            assert_eq!(
                encode_response(9, 200, "OK", &[(name, b"v")]),
                internal_error_reply(9)
            );
        }
        for reason in ["OK\r\nVariable-X: 1", "OK\n", "O\0K"] {
            assert_eq!(
                try_encode_response(9, 200, reason, &[]),
                Err(ResponseError::InvalidReason)
            );
            assert_eq!(
                encode_response(9, 200, reason, &[]),
                internal_error_reply(9)
            );
        }
    }

    #[test]
    fn status_header_and_bad_codes_are_refused() {
        assert_eq!(
            try_encode_response(1, 403, "Forbidden", &[("status", b"200 OK")]),
            Err(ResponseError::StatusHeader)
        );
        assert_eq!(
            encode_response(1, 403, "Forbidden", &[("Status", b"200 OK")]),
            internal_error_reply(1)
        );
        for code in [0, 99, 600, 1000, u16::MAX] {
            assert_eq!(
                try_encode_response(1, code, "X", &[]),
                Err(ResponseError::InvalidStatus(code))
            );
            assert_eq!(encode_response(1, code, "X", &[]), internal_error_reply(1));
        }
    }

    #[test]
    fn large_payload_is_split_across_records() {
        let value = vec![b'g'; 70_000];
        let got = encode_response(1, 200, "OK", &[("Variable-DJANGO_GROUPS", &value)]);
        let payload = [
            &b"Status: 200 OK\r\nVariable-DJANGO_GROUPS: "[..],
            &value,
            b"\r\n\r\n",
        ]
        .concat();
        let rest_len = payload.len() - 65535;
        assert_eq!(got[..8], [1, 6, 0, 1, 0xff, 0xff, 0, 0]);
        assert_eq!(got[8..8 + 65535], payload[..65535]);
        let second = 8 + 65535;
        let [hi, lo] = (rest_len as u16).to_be_bytes();
        assert_eq!(got[second..second + 8], [1, 6, 0, 1, hi, lo, 0, 0]);
        assert_eq!(got[second + 8..second + 8 + rest_len], payload[65535..]);
        let tail = second + 8 + rest_len;
        assert_eq!(got[tail..tail + 8], [1, 6, 0, 1, 0, 0, 0, 0]);
        assert_eq!(
            got[tail + 8..],
            encode_end_request(1, 0, ProtocolStatus::RequestComplete)
        );
    }
}
