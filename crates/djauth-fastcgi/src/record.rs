//! Record framing: the 8-byte header and the record types.

/// FCGI_VERSION_1, the only version there is.
pub(crate) const VERSION_1: u8 = 1;
/// Size of a record header.
pub(crate) const HEADER_LEN: usize = 8;
/// Largest record content (contentLength is a u16).
pub(crate) const MAX_CONTENT_LEN: usize = u16::MAX as usize;

pub(crate) const BEGIN_REQUEST: u8 = 1;
pub(crate) const ABORT_REQUEST: u8 = 2;
pub(crate) const END_REQUEST: u8 = 3;
pub(crate) const PARAMS: u8 = 4;
pub(crate) const STDIN: u8 = 5;
pub(crate) const STDOUT: u8 = 6;
pub(crate) const STDERR: u8 = 7;
pub(crate) const DATA: u8 = 8;
pub(crate) const GET_VALUES: u8 = 9;
pub(crate) const GET_VALUES_RESULT: u8 = 10;
pub(crate) const UNKNOWN_TYPE: u8 = 11;

/// FCGI_KEEP_CONN bit of the BEGIN_REQUEST flags.
pub(crate) const FLAG_KEEP_CONN: u8 = 1;

/// Human-readable name of a record type, for error messages.
pub(crate) fn record_type_name(record_type: u8) -> &'static str {
    match record_type {
        BEGIN_REQUEST => "BEGIN_REQUEST",
        ABORT_REQUEST => "ABORT_REQUEST",
        END_REQUEST => "END_REQUEST",
        PARAMS => "PARAMS",
        STDIN => "STDIN",
        STDOUT => "STDOUT",
        STDERR => "STDERR",
        DATA => "DATA",
        GET_VALUES => "GET_VALUES",
        GET_VALUES_RESULT => "GET_VALUES_RESULT",
        UNKNOWN_TYPE => "UNKNOWN_TYPE",
        _ => "unknown-type",
    }
}

/// A decoded record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) version: u8,
    pub(crate) record_type: u8,
    pub(crate) request_id: u16,
    pub(crate) content_length: u16,
    pub(crate) padding_length: u8,
}

impl Header {
    /// Splits the 8 header bytes into fields (the reserved byte is ignored).
    pub(crate) fn parse(bytes: [u8; HEADER_LEN]) -> Self {
        let [
            version,
            record_type,
            id_hi,
            id_lo,
            len_hi,
            len_lo,
            padding_length,
            _reserved,
        ] = bytes;
        Header {
            version,
            record_type,
            request_id: u16::from_be_bytes([id_hi, id_lo]),
            content_length: u16::from_be_bytes([len_hi, len_lo]),
            padding_length,
        }
    }
}

/// Appends `content` as records of `record_type` for `request_id`, split into
/// pieces of at most 65535 bytes, without padding. Empty `content` yields one
/// empty record (the end-of-stream marker).
pub(crate) fn push_records(out: &mut Vec<u8>, record_type: u8, request_id: u16, content: &[u8]) {
    if content.is_empty() {
        push_one(out, record_type, request_id, 0, &[]);
        return;
    }
    for piece in content.chunks(MAX_CONTENT_LEN) {
        // `chunks` never yields more than MAX_CONTENT_LEN bytes.
        let len = u16::try_from(piece.len()).unwrap_or(u16::MAX);
        push_one(out, record_type, request_id, len, piece);
    }
}

fn push_one(out: &mut Vec<u8>, record_type: u8, request_id: u16, len: u16, content: &[u8]) {
    let [id_hi, id_lo] = request_id.to_be_bytes();
    let [len_hi, len_lo] = len.to_be_bytes();
    out.extend_from_slice(&[VERSION_1, record_type, id_hi, id_lo, len_hi, len_lo, 0, 0]);
    out.extend_from_slice(content);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields() {
        let h = Header::parse([1, 4, 0x12, 0x34, 0xff, 0xfe, 7, 9]);
        assert_eq!(
            h,
            Header {
                version: 1,
                record_type: PARAMS,
                request_id: 0x1234,
                content_length: 0xfffe,
                padding_length: 7,
            }
        );
    }

    #[test]
    fn empty_content_gives_one_empty_record() {
        let mut out = Vec::new();
        push_records(&mut out, STDOUT, 1, &[]);
        assert_eq!(out, [1, 6, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn long_content_is_split_at_65535() {
        let content = vec![b'x'; 65535 + 10];
        let mut out = Vec::new();
        push_records(&mut out, STDOUT, 0x0102, &content);
        assert_eq!(out.len(), 8 + 65535 + 8 + 10);
        assert_eq!(out[..8], [1, 6, 1, 2, 0xff, 0xff, 0, 0]);
        assert_eq!(out[8 + 65535..8 + 65535 + 8], [1, 6, 1, 2, 0, 10, 0, 0]);
        assert!(out[8..8 + 65535].iter().all(|&b| b == b'x'));
    }

    #[test]
    fn exactly_65535_is_one_record() {
        let content = vec![0; 65535];
        let mut out = Vec::new();
        push_records(&mut out, STDOUT, 1, &content);
        assert_eq!(out.len(), 8 + 65535);
    }
}
