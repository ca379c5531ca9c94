//! The real `djauth serve` binary, driven over TCP with hand-made FastCGI
//! records the way Apache's mod_authnz_fcgi sends them, plus broken streams
//! that must neither crash nor stall it.

mod harness;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use harness::{ScratchDir, demo_database, edit_database};

/// A running daemon on a copy of the demo database; killed on drop.
struct Daemon {
    process: harness::Daemon,
    addr: SocketAddr,
}

impl Daemon {
    /// Starts `djauth serve` on port 0 with one listener that fixes nothing,
    /// plus `extra_listener` (a `[[fastcgi]]` table body without `listen`) if
    /// given; returns the daemon and the extra listener's address.
    fn start_with(extra_listener: Option<&str>) -> (Daemon, Option<SocketAddr>) {
        Daemon::start_on(extra_listener, &[], &[])
    }

    /// Like `start_with`, after setting the stored password of some users
    /// (`(username, encoded)`) and running `statements` in the copied demo database.
    fn start_on(
        extra_listener: Option<&str>,
        passwords: &[(&str, &str)],
        statements: &[&str],
    ) -> (Daemon, Option<SocketAddr>) {
        let dir = ScratchDir::new("djauth-daemon-test");
        let db = demo_database(dir.path());
        edit_database(&db, passwords, statements);
        let mut listeners = String::from("[[fastcgi]]\nlisten = \"127.0.0.1:0\"\n");
        if let Some(extra) = extra_listener {
            listeners.push_str(&format!("[[fastcgi]]\nlisten = \"127.0.0.1:0\"\n{extra}\n"));
        }
        let process = harness::Daemon::serve_config(dir, &db, &listeners, &[]);
        let wanted = 1 + usize::from(extra_listener.is_some());
        let addrs: Vec<SocketAddr> = process
            .listen_addresses("FastCGI authorizer listening", wanted)
            .iter()
            .map(|addr| addr.parse().unwrap())
            .collect();
        let daemon = Daemon {
            process,
            addr: addrs[0],
        };
        (daemon, addrs.get(1).copied())
    }

    fn start() -> Daemon {
        Daemon::start_with(None).0
    }

    fn connect(&self) -> TcpStream {
        harness::connect(self.addr)
    }

    /// Sends one authorizer request and returns the CGI status code and the headers.
    fn ask(&self, params: &[(&str, &[u8])]) -> (u16, Vec<(String, Vec<u8>)>) {
        let mut stream = self.connect();
        stream.write_all(&authorizer_request(1, params)).unwrap();
        read_reply(&mut stream)
    }

    fn authn(&self, user: &[u8], password: &[u8], extra: &[(&str, &[u8])]) -> u16 {
        let mut params: Vec<(&str, &[u8])> = vec![
            ("FCGI_ROLE", b"AUTHORIZER"),
            ("FCGI_APACHE_ROLE", b"AUTHENTICATOR"),
            ("REMOTE_USER", user),
            ("REMOTE_PASSWD", password),
            ("REMOTE_ADDR", b"127.0.0.1"),
        ];
        params.extend_from_slice(extra);
        self.ask(&params).0
    }

    fn authz(&self, user: Option<&[u8]>, require: &[u8]) -> u16 {
        let mut params: Vec<(&str, &[u8])> = vec![
            ("FCGI_ROLE", b"AUTHORIZER"),
            ("FCGI_APACHE_ROLE", b"AUTHORIZER"),
            ("DJANGO_REQUIRE", require),
        ];
        if let Some(user) = user {
            params.push(("REMOTE_USER", user));
        }
        self.ask(&params).0
    }
}

fn record(kind: u8, id: u16, body: &[u8]) -> Vec<u8> {
    let mut out = vec![1, kind, (id >> 8) as u8, id as u8];
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(body);
    out
}

fn name_value(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for len in [name.len(), value.len()] {
        if len < 128 {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&((len as u32) | 0x8000_0000).to_be_bytes());
        }
    }
    out.extend_from_slice(name);
    out.extend_from_slice(value);
    out
}

/// BEGIN_REQUEST (role AUTHORIZER, no keep-conn), PARAMS, empty PARAMS: what Apache sends.
fn authorizer_request(id: u16, params: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = record(1, id, &[0, 2, 0, 0, 0, 0, 0, 0]);
    let body: Vec<u8> = params
        .iter()
        .flat_map(|(n, v)| name_value(n.as_bytes(), v))
        .collect();
    for chunk in body.chunks(1000) {
        out.extend(record(4, id, chunk));
    }
    out.extend(record(4, id, &[]));
    out
}

/// Reads STDOUT records until END_REQUEST; returns the status and headers.
fn read_reply(stream: &mut TcpStream) -> (u16, Vec<(String, Vec<u8>)>) {
    let mut stdout = Vec::new();
    loop {
        let mut header = [0u8; 8];
        stream.read_exact(&mut header).unwrap();
        let len = u16::from_be_bytes([header[4], header[5]]) as usize + header[6] as usize;
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).unwrap();
        body.truncate(u16::from_be_bytes([header[4], header[5]]) as usize);
        match header[1] {
            6 => stdout.extend(body),
            3 => break,
            other => panic!("unexpected record type {other}"),
        }
    }
    let text = stdout;
    let mut status = 0;
    let mut headers = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':').unwrap();
        let name = String::from_utf8(line[..colon].to_vec()).unwrap();
        let value = line[colon + 1..]
            .strip_prefix(b" ")
            .unwrap_or(&line[colon + 1..]);
        if name == "Status" {
            status = std::str::from_utf8(&value[..3]).unwrap().parse().unwrap();
        } else {
            headers.push((name, value.to_vec()));
        }
    }
    (status, headers)
}

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &headers.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn authentication_answers_like_django() {
    let daemon = Daemon::start();
    assert_eq!(daemon.authn(b"alice", b"alice-pw", &[]), 200);
    assert_eq!(daemon.authn(b"alice", b"wrong", &[]), 401);
    assert_eq!(daemon.authn(b"ghost", b"alice-pw", &[]), 401);
    // C07: inactive with the right password.
    assert_eq!(daemon.authn(b"carol", b"carol-pw", &[]), 401);
    // C03: unusable password, whatever is typed.
    assert_eq!(daemon.authn(b"dave", b"", &[]), 401);
    assert_eq!(daemon.authn(b"dave", b"!", &[]), 401);
    // C01: UTF-8 and Latin-1 spellings of the same credentials.
    assert_eq!(
        daemon.authn("józef".as_bytes(), "Pässwörd-123".as_bytes(), &[]),
        200
    );
    assert_eq!(daemon.authn(b"j\xf3zef", b"P\xe4ssw\xf6rd-123", &[]), 200);
    assert_eq!(daemon.authn(b"\xff\xfe", b"\xc3", &[]), 401);
    assert_eq!(daemon.authn(b"alice\0", b"alice-pw", &[]), 401);
    // NFKC: the NFD spelling of józef finds the NFC row.
    assert_eq!(
        daemon.authn("jo\u{301}zef".as_bytes(), "Pässwörd-123".as_bytes(), &[]),
        200
    );
}

#[test]
fn a_grant_carries_the_stored_identity() {
    let daemon = Daemon::start();
    let (status, headers) = daemon.ask(&[
        ("FCGI_APACHE_ROLE", b"AUTHENTICATOR"),
        ("REMOTE_USER", "jo\u{301}zef".as_bytes()),
        ("REMOTE_PASSWD", "Pässwörd-123".as_bytes()),
    ]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "Variable-DJANGO_USER"), "józef".as_bytes());
    assert_eq!(header(&headers, "Variable-DJANGO_USER_ID"), b"4");
    let (status, headers) = daemon.ask(&[
        ("FCGI_APACHE_ROLE", b"AUTHENTICATOR"),
        ("REMOTE_USER", b"alice"),
        ("REMOTE_PASSWD", b"alice-pw"),
    ]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "Variable-DJANGO_GROUPS"), b"secret-agents");
    assert!(headers.iter().all(|(n, _)| n.starts_with("Variable-")));
}

#[test]
fn authorization_by_requirement() {
    let daemon = Daemon::start();
    assert_eq!(daemon.authz(Some(b"alice"), b"group:secret-agents"), 200);
    assert_eq!(daemon.authz(Some(b"bob"), b"group:secret-agents"), 403);
    assert_eq!(
        daemon.authz(Some(b"erin"), br#"group:"secret agents""#),
        200
    );
    assert_eq!(
        daemon.authz(Some(b"alice"), br#"group:"secret agents""#),
        403
    );
    assert_eq!(daemon.authz(Some(b"alice"), b"group:Secret-Agents"), 403);
    assert_eq!(
        daemon.authz(Some(b"bob"), b"user:bob group:secret-agents"),
        200
    );
    assert_eq!(daemon.authz(Some(b"carol"), b"valid-user"), 401);
    assert_eq!(daemon.authz(Some(b"ghost"), b"valid-user"), 401);
    // C05 (c): the authz provider is asked before any user is known.
    assert_eq!(daemon.authz(None, b"valid-user"), 401);
    assert_eq!(daemon.authz(Some(b""), b"valid-user"), 401);
    // A broken requirement is the operator's error: 500, never a grant.
    assert_eq!(daemon.authz(Some(b"alice"), b"group:"), 500);
    assert_eq!(daemon.authz(Some(b"frank"), b"perm:view_user"), 500);
}

#[test]
fn permissions_staff_and_superuser() {
    let daemon = Daemon::start();
    // frank: staff and superuser, and auth.view_user through his group.
    assert_eq!(daemon.authz(Some(b"frank"), b"perm:auth.view_user"), 200);
    assert_eq!(daemon.authz(Some(b"alice"), b"perm:auth.view_user"), 403);
    assert_eq!(daemon.authz(Some(b"alice"), b"perm:auth.View_user"), 403);
    // An active superuser has every permission, even one that does not exist.
    assert_eq!(daemon.authz(Some(b"frank"), b"perm:svn.commit_repo"), 200);
    assert_eq!(daemon.authz(Some(b"frank"), b"staff"), 200);
    assert_eq!(daemon.authz(Some(b"frank"), b"superuser"), 200);
    assert_eq!(daemon.authz(Some(b"alice"), b"staff"), 403);
    assert_eq!(daemon.authz(Some(b"alice"), b"superuser"), 403);
    assert_eq!(
        daemon.authz(Some(b"alice"), b"superuser group:secret-agents"),
        200
    );
    // Inactive users meet nothing.
    assert_eq!(daemon.authz(Some(b"carol"), b"perm:auth.view_user"), 401);
}

#[test]
fn the_requirement_also_binds_authentication() {
    let daemon = Daemon::start();
    let bob = daemon.authn(
        b"bob",
        b"bob-pw",
        &[("DJANGO_REQUIRE", b"group:secret-agents")],
    );
    assert_eq!(bob, 403);
    let alice = daemon.authn(
        b"alice",
        b"alice-pw",
        &[("DJANGO_REQUIRE", b"group:secret-agents")],
    );
    assert_eq!(alice, 200);
}

#[test]
fn a_listener_can_fix_site_and_requirement() {
    let (daemon, fixed) =
        Daemon::start_with(Some("site = \"demo\"\nrequire = 'group:\"secret agents\"'"));
    let fixed = fixed.unwrap();
    let ask = |user: &[u8], require: &[u8]| {
        let mut stream = TcpStream::connect(fixed).unwrap();
        stream
            .write_all(&authorizer_request(
                1,
                &[
                    ("FCGI_APACHE_ROLE", b"AUTHORIZER"),
                    ("REMOTE_USER", user),
                    ("DJANGO_REQUIRE", require),
                    ("DJANGO_SITE", b"elsewhere"),
                ],
            ))
            .unwrap();
        read_reply(&mut stream).0
    };
    assert_eq!(ask(b"erin", b"valid-user"), 200);
    // The port's own requirement wins over the variable.
    assert_eq!(ask(b"bob", b"valid-user"), 403);
    drop(daemon);
}

#[test]
fn unknown_site_is_an_error_not_a_grant() {
    let daemon = Daemon::start();
    let status = daemon.authn(b"alice", b"alice-pw", &[("DJANGO_SITE", b"nope")]);
    assert_eq!(status, 500);
}

#[test]
fn get_values_is_answered() {
    let daemon = Daemon::start();
    let mut stream = daemon.connect();
    let body = [
        name_value(b"FCGI_MPXS_CONNS", b""),
        name_value(b"FCGI_MAX_CONNS", b""),
    ]
    .concat();
    stream.write_all(&record(9, 0, &body)).unwrap();
    let mut header = [0u8; 8];
    stream.read_exact(&mut header).unwrap();
    assert_eq!(header[1], 10, "GET_VALUES_RESULT");
    let mut reply =
        vec![0u8; u16::from_be_bytes([header[4], header[5]]) as usize + header[6] as usize];
    stream.read_exact(&mut reply).unwrap();
    assert!(reply.windows(16).any(|w| w == b"FCGI_MPXS_CONNS0"));
}

#[test]
fn broken_streams_neither_crash_nor_stall_the_daemon() {
    let daemon = Daemon::start();
    let valid = authorizer_request(
        1,
        &[
            ("FCGI_APACHE_ROLE", b"AUTHORIZER"),
            ("REMOTE_USER", b"alice"),
        ],
    );
    // A client that connects and says nothing must not block others.
    let _silent = daemon.connect();
    // Half a record, then hang up.
    let mut half = daemon.connect();
    half.write_all(&valid[..5]).unwrap();
    drop(half);
    // Every truncation of a valid request, closed early.
    for cut in 0..valid.len() {
        let mut stream = daemon.connect();
        stream.write_all(&valid[..cut]).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        assert!(rest.is_empty() || rest.len() >= 8, "cut {cut}");
    }
    // Garbage of several shapes, including the 0-byte BEGIN_REQUEST that
    // panics other FastCGI libraries and an HTTP request on the wrong port.
    let garbage: Vec<Vec<u8>> = vec![
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        record(1, 1, &[]),
        vec![0xff; 4096],
        [
            record(1, 1, &[0, 2, 0, 0, 0, 0, 0, 0]),
            vec![1, 4, 0, 1, 0xff, 0xff, 0, 0],
            vec![0x80; 100],
        ]
        .concat(),
        [
            record(1, 1, &[0, 2, 0, 0, 0, 0, 0, 0]),
            record(4, 1, &[0xff, 0xff, 0xff, 0xff, 1]),
        ]
        .concat(),
    ];
    for bytes in &garbage {
        let mut stream = daemon.connect();
        stream.write_all(bytes).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    }
    // Oversized parameters (over the 1 MiB bound): refused, connection closed.
    let mut big = daemon.connect();
    let huge = vec![b'x'; 60_000];
    let mut bytes = record(1, 1, &[0, 2, 0, 0, 0, 0, 0, 0]);
    for _ in 0..20 {
        bytes.extend(record(4, 1, &name_value(b"HTTP_X", &huge)));
    }
    let _ = big.write_all(&bytes);
    let mut rest = Vec::new();
    let _ = big.read_to_end(&mut rest);
    // And the daemon still answers, promptly.
    let started = Instant::now();
    let mut stream = daemon.connect();
    stream.write_all(&valid).unwrap();
    assert_eq!(read_reply(&mut stream).0, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn bad_hashes_in_the_database_are_denials_with_a_log_line_never_errors() {
    let rows = [
        ("alice", "pbkdf2_sha256$abc$salt$hash"),
        ("bob", "pbkdf2_sha256$1000$salt"),
        (
            "erin",
            "bcrypt_sha256$$2b$99$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i",
        ),
        ("frank", "scrypt$16384$salt$8$1"),
    ];
    // A known but disabled algorithm is a plain denial, not a malformed row.
    let planted: Vec<(&str, &str)> = rows.iter().copied().chain([("dave", "md5$$abc")]).collect();
    let (daemon, _) = Daemon::start_on(None, &planted, &[]);
    for (user, _) in rows {
        assert_eq!(
            daemon.authn(user.as_bytes(), b"anything", &[]),
            401,
            "{user}"
        );
    }
    assert_eq!(daemon.authn(b"dave", b"anything", &[]), 401);
    let log = daemon.process.log_with("reason=\"hasher-not-enabled\"");
    for (user, _) in rows {
        let line = log
            .lines()
            .find(|l| l.contains("malformed") && l.contains(&format!("user=\"{user}\" ")))
            .unwrap_or_else(|| panic!("no malformed-hash log line for {user} in:\n{log}"));
        assert!(
            !line.contains("anything"),
            "a password reached the log: {line}"
        );
    }
    assert!(log.contains("reason=\"hasher-not-enabled\""), "{log}");
}

#[test]
fn values_of_the_wrong_type_are_refusals_not_errors() {
    let (daemon, _) = Daemon::start_on(
        None,
        &[],
        &[
            "UPDATE auth_user SET password = 12345 WHERE username = 'alice'",
            "UPDATE auth_user SET is_active = 'yes' WHERE username = 'bob'",
        ],
    );
    assert_eq!(daemon.authn(b"alice", b"alice-pw", &[]), 401);
    assert_eq!(daemon.authn(b"bob", b"bob-pw", &[]), 401);
    assert_eq!(daemon.authz(Some(b"bob"), b"valid-user"), 401);
    // Other users are unaffected.
    assert_eq!(daemon.authn(b"erin", b"erin-pw", &[]), 200);
    let log = daemon.process.log_with("reason=\"bad-user-row\"");
    assert!(log.contains("reason=\"bad-user-row\""), "{log}");
}

#[test]
fn a_stored_username_with_control_characters_is_refused_as_a_bad_row() {
    let (daemon, _) = Daemon::start_on(
        None,
        &[],
        &["UPDATE auth_user SET username = 'er' || char(9) || 'in' WHERE username = 'erin'"],
    );
    // The password is right, but the name cannot travel in DJANGO_USER.
    assert_eq!(daemon.authn(b"er\tin", b"erin-pw", &[]), 401);
    let log = daemon.process.log_with("reason=\"bad-user-row\"");
    assert!(log.contains("control characters; refused"), "{log}");
    assert_eq!(daemon.authn(b"alice", b"alice-pw", &[]), 200);
}

/// A web server that hangs up before its answer takes the check with it:
/// 20 abandoned requests are not decided (nor their hashes queued ahead of
/// everybody else's).
#[test]
fn checks_for_a_web_server_that_hung_up_are_dropped() {
    let (daemon, _) = Daemon::start_on(None, &[], &[]);
    for n in 0..20 {
        let password = format!("abandoned-{n}");
        let params: [(&str, &[u8]); 5] = [
            ("FCGI_ROLE", b"AUTHORIZER"),
            ("FCGI_APACHE_ROLE", b"AUTHENTICATOR"),
            ("REMOTE_USER", b"alice"),
            ("REMOTE_PASSWD", password.as_bytes()),
            ("REMOTE_ADDR", b"127.0.0.1"),
        ];
        let mut stream = daemon.connect();
        stream.write_all(&authorizer_request(1, &params)).unwrap();
    }
    assert_eq!(daemon.authn(b"bob", b"bob-pw", &[]), 200);
    std::thread::sleep(Duration::from_millis(500));
    daemon.process.assert_denials_at_most("alice", 2);
}

#[test]
fn a_silent_connection_is_closed_after_the_request_deadline() {
    let daemon = Daemon::start();
    let mut silent = daemon.connect();
    let mut byte = [0u8; 1];
    // The daemon closes it (read returns 0) rather than waiting forever.
    assert_eq!(silent.read(&mut byte).unwrap(), 0);
    // Meanwhile and afterwards the daemon answers normally.
    assert_eq!(daemon.authz(Some(b"alice"), b"valid-user"), 200);
}
