//! Decoder tests against hand-built wire bytes, and helpers shared with the
//! other test modules.

use crate::record::{
    ABORT_REQUEST, BEGIN_REQUEST, DATA, END_REQUEST, GET_VALUES, PARAMS, STDIN, STDOUT,
    UNKNOWN_TYPE,
};
use crate::*;

/// One name-value pair, lengths in the 1-byte form below 128, else 4-byte.
pub(crate) fn nv(name: &[u8], value: &[u8]) -> Vec<u8> {
    nv_forced(name, value, (false, false))
}

/// Like [`nv`], but `long` forces the 4-byte length form for name and/or value.
pub(crate) fn nv_forced(name: &[u8], value: &[u8], long: (bool, bool)) -> Vec<u8> {
    let mut out = Vec::new();
    for (len, force) in [(name.len(), long.0), (value.len(), long.1)] {
        if len < 128 && !force {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&(len as u32 | 0x8000_0000).to_be_bytes());
        }
    }
    out.extend_from_slice(name);
    out.extend_from_slice(value);
    out
}

/// One record with the given padding length (padding bytes are 0xEE).
pub(crate) fn record_padded(record_type: u8, id: u16, content: &[u8], padding: u8) -> Vec<u8> {
    assert!(content.len() <= 65535);
    let [id_hi, id_lo] = id.to_be_bytes();
    let [len_hi, len_lo] = (content.len() as u16).to_be_bytes();
    let mut out = vec![1, record_type, id_hi, id_lo, len_hi, len_lo, padding, 0];
    out.extend_from_slice(content);
    out.extend(std::iter::repeat_n(0xEE, usize::from(padding)));
    out
}

pub(crate) fn record(record_type: u8, id: u16, content: &[u8]) -> Vec<u8> {
    record_padded(record_type, id, content, 0)
}

pub(crate) fn begin(id: u16, role: u16, flags: u8) -> Vec<u8> {
    let [r_hi, r_lo] = role.to_be_bytes();
    record(BEGIN_REQUEST, id, &[r_hi, r_lo, flags, 0, 0, 0, 0, 0])
}

/// A minimal authorizer request with the given params in one PARAMS record.
pub(crate) fn simple_request(id: u16, flags: u8, pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let stream: Vec<u8> = pairs.iter().flat_map(|(n, v)| nv(n, v)).collect();
    [
        begin(id, 2, flags),
        record(PARAMS, id, &stream),
        record(PARAMS, id, &[]),
    ]
    .concat()
}

fn conn() -> Connection {
    Connection::new(Limits::default())
}

fn feed_bytewise(conn: &mut Connection, bytes: &[u8]) -> Result<Vec<Event>, ProtocolError> {
    let mut events = Vec::new();
    for b in bytes {
        events.extend(conn.feed(std::slice::from_ref(b))?);
    }
    Ok(events)
}

fn only_request(events: Vec<Event>) -> Request {
    match <[Event; 1]>::try_from(events) {
        Ok([Event::Request(r)]) => r,
        other => panic!("expected one request, got {other:?}"),
    }
}

/// The exchange as mod_authnz_fcgi writes it for an AuthBasicProvider check,
/// spelled out byte for byte. The PARAMS stream is cut into three records:
/// the first cut falls inside the REMOTE_PASSWD pair, the second inside the
/// 4-byte value length of HTTP_COOKIE.
fn apache_exchange() -> Vec<u8> {
    let cookie = [b'c'; 200];
    let stream = [
        &[9, 10][..],
        b"FCGI_ROLE",
        b"AUTHORIZER",
        &[16, 13],
        b"FCGI_APACHE_ROLE",
        b"AUTHENTICATOR",
        &[11, 5],
        b"REMOTE_USER",
        b"alice",
        &[13, 13],
        b"REMOTE_PASSWD",
        b"correct horse",
        &[11, 0x80, 0x00, 0x00, 0xC8],
        b"HTTP_COOKIE",
        &cookie,
        &[11, 9],
        b"REQUEST_URI",
        b"/secret/x",
    ]
    .concat();
    assert_eq!(stream.len(), 336);
    assert_eq!(&stream[70..72], [13, 13]); // REMOTE_PASSWD pair starts at 70
    assert_eq!(&stream[99..103], [0x80, 0, 0, 0xC8]); // cookie value length
    [
        // BEGIN_REQUEST: version 1, type 1, id 1, length 8; role 2, flags 0.
        &[1, 1, 0, 1, 0, 8, 0, 0][..],
        &[0, 2, 0, 0, 0, 0, 0, 0],
        // PARAMS, 80 bytes.
        &[1, 4, 0, 1, 0, 80, 0, 0],
        &stream[..80],
        // PARAMS, 21 bytes.
        &[1, 4, 0, 1, 0, 21, 0, 0],
        &stream[80..101],
        // PARAMS, 235 bytes.
        &[1, 4, 0, 1, 0, 235, 0, 0],
        &stream[101..],
        // Empty PARAMS ends the stream; no STDIN follows.
        &[1, 4, 0, 1, 0, 0, 0, 0],
    ]
    .concat()
}

fn check_apache_request(request: &Request) {
    assert_eq!(request.id, 1);
    assert_eq!(request.role, Role::Authorizer);
    assert!(!request.keep_conn);
    let p = &request.params;
    assert_eq!(p.len(), 6);
    assert_eq!(p.get("FCGI_ROLE"), Some(&b"AUTHORIZER"[..]));
    assert_eq!(p.get("FCGI_APACHE_ROLE"), Some(&b"AUTHENTICATOR"[..]));
    assert_eq!(p.get("REMOTE_USER"), Some(&b"alice"[..]));
    assert_eq!(p.get("REMOTE_PASSWD"), Some(&b"correct horse"[..]));
    assert_eq!(p.get("HTTP_COOKIE"), Some(&[b'c'; 200][..]));
    assert_eq!(p.get("REQUEST_URI"), Some(&b"/secret/x"[..]));
    assert_eq!(p.get("remote_user"), None);
}

#[test]
fn apache_exchange_in_one_piece() {
    let mut c = conn();
    let request = only_request(c.feed(&apache_exchange()).unwrap());
    check_apache_request(&request);
    assert!(c.finish().is_ok());
}

#[test]
fn apache_exchange_one_byte_at_a_time() {
    let mut whole = conn();
    let expected = whole.feed(&apache_exchange()).unwrap();
    let mut c = conn();
    let events = feed_bytewise(&mut c, &apache_exchange()).unwrap();
    assert_eq!(events, expected);
    check_apache_request(&only_request(events));
    assert!(c.finish().is_ok());
}

#[test]
fn apache_exchange_in_every_two_way_split() {
    let wire = apache_exchange();
    for cut in 0..=wire.len() {
        let mut c = conn();
        let mut events = c.feed(&wire[..cut]).unwrap();
        if 0 < cut && cut < wire.len() {
            assert!(c.finish().is_err(), "cut {cut}");
        }
        events.extend(c.feed(&wire[cut..]).unwrap());
        check_apache_request(&only_request(events));
        assert!(c.finish().is_ok());
    }
}

#[test]
fn padding_is_skipped() {
    let stream = [nv(b"REMOTE_USER", b"bob"), nv(b"X", b"y")].concat();
    let wire = [
        record_padded(BEGIN_REQUEST, 1, &[0, 2, 0, 0, 0, 0, 0, 0], 3),
        record_padded(PARAMS, 1, &stream[..5], 255),
        record_padded(PARAMS, 1, &stream[5..], 1),
        record_padded(PARAMS, 1, &[], 7),
    ]
    .concat();
    let mut c = conn();
    let r = only_request(feed_bytewise(&mut c, &wire).unwrap());
    assert_eq!(r.params.get("REMOTE_USER"), Some(&b"bob"[..]));
    assert_eq!(r.params.get("X"), Some(&b"y"[..]));
    assert!(c.finish().is_ok());
}

#[test]
fn stdin_and_data_are_discarded_not_buffered() {
    let big = vec![b'z'; 65535];
    let wire = [
        begin(1, 2, 0),
        record(STDIN, 1, &big),
        record(DATA, 1, &big),
        record(PARAMS, 1, &nv(b"A", b"1")),
        record(STDIN, 1, &big),
        record(PARAMS, 1, &[]),
        // Late stream ends for the delivered request are skipped too.
        record(STDIN, 1, &big),
        record(STDIN, 1, &[]),
        record(DATA, 1, &[]),
    ]
    .concat();
    let mut c = conn();
    let mut events = Vec::new();
    for chunk in wire.chunks(1000) {
        events.extend(c.feed(chunk).unwrap());
        assert!(c.buffered_bytes() < 1000, "{}", c.buffered_bytes());
    }
    let r = only_request(events);
    assert_eq!(r.params.get("A"), Some(&b"1"[..]));
    assert!(c.finish().is_ok());
}

#[test]
fn get_values_answered() {
    let body = [
        nv(b"FCGI_MAX_CONNS", b""),
        nv(b"FCGI_UNKNOWN_THING", b""),
        nv(b"FCGI_MPXS_CONNS", b""),
        nv(b"FCGI_MAX_REQS", b""),
        nv(b"FCGI_MPXS_CONNS", b""),
    ]
    .concat();
    let mut c = conn();
    let events = c.feed(&record(GET_VALUES, 0, &body)).unwrap();
    let answer = [
        nv(b"FCGI_MAX_CONNS", VALUE_MAX_CONNS.as_bytes()),
        nv(b"FCGI_MPXS_CONNS", b"0"),
        nv(b"FCGI_MAX_REQS", VALUE_MAX_REQS.as_bytes()),
    ]
    .concat();
    assert_eq!(events, [Event::Send(record(10, 0, &answer))]);
    // Nothing asked, nothing answered (but still a reply).
    assert_eq!(
        c.feed(&record(GET_VALUES, 0, &[])).unwrap(),
        [Event::Send(vec![1, 10, 0, 0, 0, 0, 0, 0])]
    );
    // Management records may come before a request on the same connection.
    let r = only_request(
        c.feed(&simple_request(1, 0, &[(b"REMOTE_USER", b"u")]))
            .unwrap(),
    );
    assert_eq!(r.params.get("REMOTE_USER"), Some(&b"u"[..]));
    assert!(c.finish().is_ok());
}

#[test]
fn malformed_get_values_is_an_error() {
    let mut c = conn();
    assert_eq!(
        c.feed(&record(GET_VALUES, 0, &[14, 0, b'F'])).unwrap_err(),
        ProtocolError::MalformedNameValue {
            stream: "GET_VALUES",
            offset: 0
        }
    );
}

#[test]
fn unknown_management_type() {
    let mut c = conn();
    let wire = [
        record_padded(200, 0, b"whatever", 4),
        record(STDOUT, 0, &[]),
        // A BEGIN_REQUEST with the null request id is a management record of a
        // type that is not a management type.
        record(BEGIN_REQUEST, 0, &[0, 2, 0, 0, 0, 0, 0, 0]),
    ]
    .concat();
    let events = feed_bytewise(&mut c, &wire).unwrap();
    assert_eq!(
        events,
        [
            Event::Send(vec![
                1,
                UNKNOWN_TYPE,
                0,
                0,
                0,
                8,
                0,
                0,
                200,
                0,
                0,
                0,
                0,
                0,
                0,
                0
            ]),
            Event::Send(vec![
                1,
                UNKNOWN_TYPE,
                0,
                0,
                0,
                8,
                0,
                0,
                6,
                0,
                0,
                0,
                0,
                0,
                0,
                0
            ]),
            Event::Send(vec![
                1,
                UNKNOWN_TYPE,
                0,
                0,
                0,
                8,
                0,
                0,
                1,
                0,
                0,
                0,
                0,
                0,
                0,
                0
            ]),
        ]
    );
    assert!(c.finish().is_ok());
}

#[test]
fn other_roles_get_unknown_role() {
    for role in [1, 3, 0, 4, 0xffff] {
        let mut c = conn();
        let wire = [
            begin(1, role, 0),
            // The server may send the refused request's streams before it reads
            // our END_REQUEST: they are skipped.
            record(PARAMS, 1, &nv(b"A", b"1")),
            record(PARAMS, 1, &[]),
            record(STDIN, 1, b"body"),
            record(STDIN, 1, &[]),
        ]
        .concat();
        let events = c.feed(&wire).unwrap();
        assert_eq!(
            events,
            [Event::Send(vec![
                1,
                END_REQUEST,
                0,
                1,
                0,
                8,
                0,
                0,
                0,
                0,
                0,
                0,
                3,
                0,
                0,
                0
            ])],
            "role {role}"
        );
        assert!(c.finish().is_ok());
        // The id can then be used for an authorizer request.
        let r = only_request(c.feed(&simple_request(1, 0, &[(b"K", b"V")])).unwrap());
        assert_eq!(r.params.get("K"), Some(&b"V"[..]));
    }
}

#[test]
fn abort_while_receiving() {
    let mut c = conn();
    let wire = [
        begin(1, 2, 0),
        record(PARAMS, 1, &nv(b"REMOTE_PASSWD", b"pw")),
        record(ABORT_REQUEST, 1, &[]),
    ]
    .concat();
    assert_eq!(c.feed(&wire).unwrap(), [Event::Abort(1)]);
    assert_eq!(c.buffered_bytes(), 8, "aborted params are dropped");
    assert!(c.finish().is_ok());
    // Late records for the aborted request are skipped, a second abort too.
    let late = [record(PARAMS, 1, &[]), record(ABORT_REQUEST, 1, &[])].concat();
    assert_eq!(c.feed(&late).unwrap(), []);
    assert_eq!(
        encode_end_request(1, 0, ProtocolStatus::RequestComplete),
        [1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn abort_after_delivery_is_not_reported() {
    let mut c = conn();
    let mut wire = simple_request(1, 1, &[(b"A", b"B")]);
    wire.extend(record(ABORT_REQUEST, 1, &[]));
    let events = c.feed(&wire).unwrap();
    assert!(
        matches!(events.as_slice(), [Event::Request(_)]),
        "{events:?}"
    );
}

#[test]
fn abort_for_unknown_id_is_an_error() {
    let mut c = conn();
    assert_eq!(
        c.feed(&record(ABORT_REQUEST, 5, &[])).unwrap_err(),
        ProtocolError::UnknownRequestId {
            record_type: ABORT_REQUEST,
            request_id: 5
        }
    );
}

#[test]
fn keep_conn_second_request() {
    let mut c = conn();
    let first = only_request(
        c.feed(&simple_request(1, 1, &[(b"REMOTE_USER", b"a")]))
            .unwrap(),
    );
    assert!(first.keep_conn);
    assert_eq!(first.params.get("REMOTE_USER"), Some(&b"a"[..]));
    assert!(c.finish().is_ok());
    // Same id again, then another id.
    let second = only_request(
        c.feed(&simple_request(1, 1, &[(b"REMOTE_USER", b"b")]))
            .unwrap(),
    );
    assert_eq!(second.id, 1);
    assert_eq!(second.params.get("REMOTE_USER"), Some(&b"b"[..]));
    let third = only_request(
        c.feed(&simple_request(7, 0, &[(b"REMOTE_USER", b"c")]))
            .unwrap(),
    );
    assert_eq!(third.id, 7);
    assert!(!third.keep_conn);
    assert_eq!(third.params.get("REMOTE_USER"), Some(&b"c"[..]));
    assert!(c.finish().is_ok());
}

#[test]
fn second_concurrent_request_gets_cant_mpx_conn() {
    let mut c = conn();
    let wire = [
        begin(1, 2, 1),
        record(PARAMS, 1, &nv(b"WHO", b"one")),
        begin(2, 2, 1),
        record(PARAMS, 2, &nv(b"WHO", b"two")),
        record(PARAMS, 2, &[]),
        record(PARAMS, 1, &[]),
    ]
    .concat();
    let events = feed_bytewise(&mut c, &wire).unwrap();
    let [Event::Send(refusal), Event::Request(r)] = <[Event; 2]>::try_from(events).unwrap() else {
        panic!("wrong events");
    };
    assert_eq!(
        refusal,
        encode_end_request(2, 0, ProtocolStatus::CantMpxConn)
    );
    assert_eq!(refusal[12], 1);
    assert_eq!(r.id, 1);
    assert_eq!(r.params.get("WHO"), Some(&b"one"[..]));
    assert!(c.finish().is_ok());
}

#[test]
fn truncated_streams() {
    let wire = simple_request(1, 0, &[(b"REMOTE_USER", b"alice")]);
    // Every strict prefix fails at EOF: mid-record or mid-request.
    for cut in 1..wire.len() {
        let mut c = conn();
        let events = c.feed(&wire[..cut]).unwrap();
        assert!(events.is_empty());
        let err = c.finish().unwrap_err();
        let boundary = [16, wire.len() - 8].contains(&cut);
        if boundary {
            assert_eq!(
                err,
                ProtocolError::TruncatedRequest { request_id: 1 },
                "cut {cut}"
            );
        } else {
            assert_eq!(err, ProtocolError::TruncatedRecord, "cut {cut}");
        }
    }
    // Cut inside padding.
    let mut c = conn();
    c.feed(&record_padded(GET_VALUES, 0, &[], 4)[..10]).unwrap();
    assert_eq!(c.finish().unwrap_err(), ProtocolError::TruncatedRecord);
    // Nothing at all is fine.
    assert!(conn().finish().is_ok());
}

#[test]
fn params_too_large() {
    let limits = Limits {
        max_params_bytes: 100,
        max_pairs: 1024,
    };
    let exactly = nv(b"N", &[b'v'; 97]);
    assert_eq!(exactly.len(), 100);
    let mut c = Connection::new(limits);
    let wire = [
        begin(1, 2, 0),
        record(PARAMS, 1, &exactly),
        record(PARAMS, 1, &[]),
    ]
    .concat();
    only_request(c.feed(&wire).unwrap());

    let mut c = Connection::new(limits);
    let wire = [
        begin(1, 2, 0),
        record(PARAMS, 1, &exactly[..60]),
        record(PARAMS, 1, &exactly[60..]),
        record(PARAMS, 1, b"x"),
    ]
    .concat();
    assert_eq!(
        c.feed(&wire).unwrap_err(),
        ProtocolError::ParamsTooLarge {
            request_id: 1,
            limit: 100
        }
    );
    // The error is sticky.
    assert!(c.feed(&[]).is_err());
    assert!(c.finish().is_err());
}

#[test]
fn params_too_large_with_default_limit() {
    let mut c = conn();
    let big = vec![0u8; 65535];
    c.feed(&begin(1, 2, 0)).unwrap();
    // 16 full records: 1,048,560 bytes, just under 1 MiB.
    for _ in 0..16 {
        c.feed(&record(PARAMS, 1, &big)).unwrap();
        assert!(c.buffered_bytes() <= MAX_RECORD_BUFFER + Limits::default().max_params_bytes);
    }
    let err = c.feed(&record(PARAMS, 1, &big[..17])).unwrap_err();
    assert_eq!(
        err,
        ProtocolError::ParamsTooLarge {
            request_id: 1,
            limit: 1 << 20
        }
    );
    assert_eq!(
        err.to_string(),
        "PARAMS of request 1 exceed the limit of 1048576 bytes"
    );
}

#[test]
fn too_many_pairs() {
    let limits = Limits {
        max_params_bytes: 1 << 20,
        max_pairs: 3,
    };
    let pairs: [(&[u8], &[u8]); 4] = [(b"A", b"1"), (b"B", b"2"), (b"C", b"3"), (b"D", b"4")];
    let mut c = Connection::new(limits);
    assert_eq!(
        only_request(c.feed(&simple_request(1, 0, &pairs[..3])).unwrap())
            .params
            .len(),
        3
    );
    let mut c = Connection::new(limits);
    assert_eq!(
        c.feed(&simple_request(1, 0, &pairs)).unwrap_err(),
        ProtocolError::TooManyPairs {
            request_id: 1,
            limit: 3
        }
    );
    // Default limit: 1024 pairs pass, 1025 do not.
    let names: Vec<String> = (0..1025).map(|i| format!("N{i}")).collect();
    let pairs: Vec<(&[u8], &[u8])> = names.iter().map(|n| (n.as_bytes(), &b""[..])).collect();
    assert_eq!(
        only_request(conn().feed(&simple_request(1, 0, &pairs[..1024])).unwrap())
            .params
            .len(),
        1024
    );
    assert!(matches!(
        conn().feed(&simple_request(1, 0, &pairs)),
        Err(ProtocolError::TooManyPairs { limit: 1024, .. })
    ));
}

fn error_of(wire: &[u8]) -> ProtocolError {
    let mut whole = conn();
    let err = whole.feed(wire).unwrap_err();
    let mut bytewise = conn();
    assert_eq!(feed_bytewise(&mut bytewise, wire).unwrap_err(), err);
    err
}

#[test]
fn garbage_is_refused() {
    // Bad versions.
    assert_eq!(
        error_of(&[0, 1, 0, 1, 0, 8, 0, 0]),
        ProtocolError::BadVersion { version: 0 }
    );
    assert_eq!(
        error_of(b"GET / HTTP/1.1\r\n"),
        ProtocolError::BadVersion { version: b'G' }
    );
    // BEGIN_REQUEST with a 0-byte body (panics tokio-fastcgi), a short and a long one.
    assert_eq!(
        error_of(&record(BEGIN_REQUEST, 1, &[])),
        ProtocolError::BeginRequestLength { len: 0 }
    );
    assert_eq!(
        error_of(&record(BEGIN_REQUEST, 1, &[0, 2, 0])),
        ProtocolError::BeginRequestLength { len: 3 }
    );
    assert_eq!(
        error_of(&[1, 1, 0, 1, 0xff, 0xff, 0, 0]),
        ProtocolError::BeginRequestLength { len: 65535 }
    );
    // Nonsense name-value lengths: a 4-byte length pointing past the stream,
    // a 1-byte length past the end, a truncated 4-byte length.
    for stream in [
        &[
            0x80, 0, 0, 5, 0x7f, 0xff, 0xff, 0xff, b'N', b'A', b'M', b'E', b'!',
        ][..],
        &[0xff, 0xff, 0xff, 0xff, 0][..],
        &[3, 3, b'a', b'b', b'c', b'd'][..],
        &[0x80, 0, 0][..],
    ] {
        let wire = [
            begin(1, 2, 0),
            record(PARAMS, 1, stream),
            record(PARAMS, 1, &[]),
        ]
        .concat();
        assert_eq!(
            error_of(&wire),
            ProtocolError::MalformedNameValue {
                stream: "PARAMS",
                offset: 0
            },
            "{stream:?}"
        );
    }
    // Records for requests never begun.
    for record_type in [PARAMS, STDIN, DATA] {
        assert_eq!(
            error_of(&record(record_type, 3, b"x")),
            ProtocolError::UnknownRequestId {
                record_type,
                request_id: 3
            }
        );
    }
    // Types a web server never sends, and unknown types, on a request id.
    for record_type in [
        STDOUT,
        7,
        END_REQUEST,
        GET_VALUES,
        10,
        UNKNOWN_TYPE,
        12,
        255,
    ] {
        let wire = [begin(1, 2, 0), record(record_type, 1, &[])].concat();
        assert_eq!(
            error_of(&wire),
            ProtocolError::UnexpectedRecordType {
                record_type,
                request_id: 1
            }
        );
    }
    // BEGIN_REQUEST repeated for the active id.
    assert_eq!(
        error_of(&[begin(1, 2, 0), begin(1, 2, 0)].concat()),
        ProtocolError::DuplicateBeginRequest { request_id: 1 }
    );
}

#[test]
fn error_messages_are_clear() {
    let cases = [
        (
            ProtocolError::BadVersion { version: 71 },
            "bad FastCGI record version 71 (expected 1)",
        ),
        (
            ProtocolError::TruncatedRecord,
            "connection closed in the middle of a FastCGI record (truncated stream)",
        ),
        (
            ProtocolError::UnknownRequestId {
                record_type: STDIN,
                request_id: 4,
            },
            "STDIN record for unknown request id 4",
        ),
        (
            ProtocolError::UnexpectedRecordType {
                record_type: 99,
                request_id: 1,
            },
            "unexpected unknown-type record (type 99) for request id 1",
        ),
        (
            ProtocolError::BeginRequestLength { len: 0 },
            "BEGIN_REQUEST body is 0 bytes, expected 8",
        ),
    ];
    for (err, text) in cases {
        assert_eq!(err.to_string(), text);
    }
}

#[test]
fn role_codes_round_trip() {
    for code in [0, 1, 2, 3, 4, 0xffff] {
        assert_eq!(Role::from_code(code).code(), code);
    }
    assert_eq!(Role::from_code(2), Role::Authorizer);
    assert_eq!(Role::from_code(9), Role::Other(9));
}

#[test]
fn garbage_after_a_request_is_an_error_and_sticks() {
    let mut c = conn();
    only_request(c.feed(&simple_request(1, 0, &[(b"A", b"1")])).unwrap());
    let err = ProtocolError::BadVersion { version: 9 };
    assert_eq!(c.feed(&[9, 1, 0, 1, 0, 0, 0, 0]).unwrap_err(), err);
    assert_eq!(c.feed(&begin(2, 2, 0)).unwrap_err(), err);
    assert_eq!(c.finish().unwrap_err(), err);
}
