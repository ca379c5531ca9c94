//! Error types.

use crate::record::record_type_name;

/// Why the byte stream from the web server cannot be decoded. After any of
/// these the connection must be closed; the web server then reports an
/// error (HTTP 500) for the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A record header carries a version other than FCGI_VERSION_1.
    #[error("bad FastCGI record version {version} (expected 1)")]
    BadVersion {
        /// The version byte received.
        version: u8,
    },
    /// The stream ended in the middle of a record.
    #[error("connection closed in the middle of a FastCGI record (truncated stream)")]
    TruncatedRecord,
    /// The stream ended before a request's PARAMS stream was complete.
    #[error("connection closed before the PARAMS of request {request_id} were complete")]
    TruncatedRequest {
        /// The request that was being received.
        request_id: u16,
    },
    /// A request's PARAMS stream grew beyond [`crate::Limits::max_params_bytes`].
    #[error("PARAMS of request {request_id} exceed the limit of {limit} bytes")]
    ParamsTooLarge {
        /// The request being received.
        request_id: u16,
        /// The configured limit.
        limit: usize,
    },
    /// A request carries more name-value pairs than [`crate::Limits::max_pairs`].
    #[error("PARAMS of request {request_id} have more than {limit} name-value pairs")]
    TooManyPairs {
        /// The request being received.
        request_id: u16,
        /// The configured limit.
        limit: usize,
    },
    /// A name-value pair's length prefix is cut short, or a length points
    /// past the end of its stream.
    #[error(
        "malformed name-value pair at byte {offset} of the {stream} stream: a length is truncated or points past the end"
    )]
    MalformedNameValue {
        /// `"PARAMS"` or `"GET_VALUES"`.
        stream: &'static str,
        /// Byte offset of the pair within the stream.
        offset: usize,
    },
    /// A record names a request id that was never begun on this connection.
    #[error("{name} record for unknown request id {request_id}", name = record_type_name(*.record_type))]
    UnknownRequestId {
        /// The record type.
        record_type: u8,
        /// The unknown id.
        request_id: u16,
    },
    /// A BEGIN_REQUEST record's body is not the 8 bytes the specification
    /// defines (too short to hold role and flags, or oversized).
    #[error("BEGIN_REQUEST body is {len} bytes, expected 8")]
    BeginRequestLength {
        /// The content length received.
        len: u16,
    },
    /// A BEGIN_REQUEST record repeats the id of the request being received.
    #[error("BEGIN_REQUEST for request id {request_id}, which is already active")]
    DuplicateBeginRequest {
        /// The repeated id.
        request_id: u16,
    },
    /// A record type a web server never sends to an application (STDOUT,
    /// END_REQUEST, ...), or an unknown type, for a non-zero request id.
    #[error("unexpected {name} record (type {record_type}) for request id {request_id}", name = record_type_name(*.record_type))]
    UnexpectedRecordType {
        /// The record type.
        record_type: u8,
        /// The request id.
        request_id: u16,
    },
}

/// Why [`crate::try_encode_response`] refused to build a reply. Each of
/// these would let a value change the meaning of the reply (header
/// injection), so the reply is never built from such input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The status code is not in 100..=599.
    #[error("status code {0} is not in 100..=599")]
    InvalidStatus(u16),
    /// The reason phrase contains CR, LF or NUL.
    #[error("reason phrase contains CR, LF or NUL")]
    InvalidReason,
    /// A header name is empty or not an HTTP token (letters, digits and
    /// ``!#$%&'*+-.^_`|~``).
    #[error("header name {0:?} is not an HTTP token")]
    InvalidHeaderName(String),
    /// A header is named `Status`, which would override the reply's status.
    #[error("a header named Status would override the reply's status")]
    StatusHeader,
    /// A header value contains CR, LF or NUL.
    #[error("value of header {0:?} contains CR, LF or NUL")]
    InvalidHeaderValue(String),
}
