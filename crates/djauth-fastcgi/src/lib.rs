//! A small, bounded, panic-free, sans-IO FastCGI codec for the application
//! side of the **authorizer** role, as spoken by Apache's stock
//! `mod_authnz_fcgi`.
//!
//! The crate does no I/O. The caller reads bytes from the socket and hands
//! them to [`Connection::feed`], which returns [`Event`]s:
//!
//! * [`Event::Request`]: a complete authorizer request (BEGIN_REQUEST with
//!   role AUTHORIZER, then the whole PARAMS stream). The caller decides and
//!   writes [`encode_response`] for it.
//! * [`Event::Send`]: bytes the codec itself wants written now (answers to
//!   management records, refusals of other roles or of multiplexing).
//! * [`Event::Abort`]: the web server gave up on a request still being
//!   received; the caller writes [`encode_end_request`] for it.
//!
//! At end of file the caller calls [`Connection::finish`], which reports a
//! record or request cut short. After any error the caller closes the
//! connection.
//!
//! Guarantees: no input makes the decoder panic, and the memory it holds is
//! bounded by [`MAX_RECORD_BUFFER`] plus [`Limits::max_params_bytes`]. STDIN and
//! DATA contents are discarded as they arrive (an authorizer has no body), and
//! the PARAMS bytes, which carry `REMOTE_PASSWD`, are kept in one buffer that
//! is zeroized when it is dropped or grown.
//!
//! ```
//! use djauth_fastcgi::{Connection, Event, Limits, encode_response};
//!
//! let mut conn = Connection::new(Limits::default());
//! // BEGIN_REQUEST (id 1, role AUTHORIZER, flags 0), one PARAMS pair, empty PARAMS.
//! let mut wire = vec![1, 1, 0, 1, 0, 8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0];
//! wire.extend_from_slice(&[1, 4, 0, 1, 0, 16, 0, 0, 11, 3]);
//! wire.extend_from_slice(b"REMOTE_USERbob");
//! wire.extend_from_slice(&[1, 4, 0, 1, 0, 0, 0, 0]);
//! let events = conn.feed(&wire).unwrap();
//! let Some(Event::Request(request)) = events.into_iter().next() else { panic!() };
//! assert_eq!(request.params.get("REMOTE_USER"), Some(&b"bob"[..]));
//! let reply = encode_response(request.id, 200, "OK", &[("Variable-DJANGO_USER", b"bob")]);
//! assert!(conn.finish().is_ok());
//! # let _ = reply;
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod connection;
mod error;
mod params;
mod record;
mod response;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use connection::{Connection, MAX_RECORD_BUFFER, VALUE_MAX_CONNS, VALUE_MAX_REQS};
pub use error::{ProtocolError, ResponseError};
pub use params::Params;
pub use response::{ProtocolStatus, encode_end_request, encode_response, try_encode_response};

/// Resource limits applied to each request received on a [`Connection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest total size of one request's PARAMS stream, in bytes, counting
    /// the name-value length prefixes. Default 1 MiB.
    pub max_params_bytes: usize,
    /// Largest number of name-value pairs in one request. Default 1024.
    pub max_pairs: usize,
}

impl Default for Limits {
    /// 1 MiB of PARAMS and 1024 pairs: far above what Apache sends (the
    /// CGI environment plus every request header), far below anything that
    /// could hurt the daemon.
    fn default() -> Self {
        Limits {
            max_params_bytes: 1024 * 1024,
            max_pairs: 1024,
        }
    }
}

/// The role a BEGIN_REQUEST record asks the application to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// FCGI_RESPONDER (1).
    Responder,
    /// FCGI_AUTHORIZER (2): the only role this codec serves.
    Authorizer,
    /// FCGI_FILTER (3).
    Filter,
    /// Any other role code.
    Other(u16),
}

impl Role {
    /// Decodes a role code from a BEGIN_REQUEST body.
    pub fn from_code(code: u16) -> Self {
        match code {
            1 => Role::Responder,
            2 => Role::Authorizer,
            3 => Role::Filter,
            other => Role::Other(other),
        }
    }

    /// The role's wire code.
    pub fn code(self) -> u16 {
        match self {
            Role::Responder => 1,
            Role::Authorizer => 2,
            Role::Filter => 3,
            Role::Other(code) => code,
        }
    }
}

/// One complete authorizer request.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// The FastCGI request id (always 1 from `mod_authnz_fcgi`); pass it to
    /// [`encode_response`].
    pub id: u16,
    /// The requested role; always [`Role::Authorizer`] in a delivered
    /// request, since other roles are refused by the codec.
    pub role: Role,
    /// FCGI_KEEP_CONN: when false (as `mod_authnz_fcgi` always sends), the
    /// caller closes the connection after the reply.
    pub keep_conn: bool,
    /// The request's parameters (the CGI environment).
    pub params: Params,
}

/// What [`Connection::feed`] found in the bytes it was given.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A complete authorizer request: all PARAMS received (empty PARAMS
    /// record seen). The caller computes the answer and sends
    /// [`encode_response`].
    Request(Request),
    /// Bytes the codec itself wants sent now (GET_VALUES_RESULT,
    /// UNKNOWN_TYPE, END_REQUEST with UNKNOWN_ROLE for non-authorizer roles,
    /// CANT_MPX_CONN for a second concurrent request id). Write them in
    /// order with the replies to [`Event::Request`]s.
    Send(Vec<u8>),
    /// The web server aborted request `id` while its PARAMS were still
    /// arriving; the caller answers with END_REQUEST (use
    /// [`encode_end_request`]). An abort that arrives after the request was
    /// delivered is not reported: the reply to the [`Event::Request`] already
    /// ends with END_REQUEST.
    Abort(u16),
}
