//! The real `djauth serve` binary behind its HTTP forward-auth listener,
//! driven with raw HTTP/1.1 the way nginx, Traefik and Caddy call it, plus
//! malformed and oversized requests that must neither crash nor stall it.

mod harness;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use harness::{ScratchDir, demo_database, edit_database};

const ALICE: &str = "Basic YWxpY2U6YWxpY2UtcHc="; // alice:alice-pw
const ALICE_WRONG: &str = "Basic YWxpY2U6d3Jvbmc="; // alice:wrong
const BOB: &str = "Basic Ym9iOmJvYi1wdw=="; // bob:bob-pw
const CAROL: &str = "Basic Y2Fyb2w6Y2Fyb2wtcHc="; // carol:carol-pw (inactive)

/// A running daemon on a copy of the demo database; killed on drop.
struct Daemon {
    process: harness::Daemon,
    addr: Option<SocketAddr>,
    listen: String,
}

/// A parsed response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Daemon {
    /// `djauth serve` with one `[[http]]` listener on port 0 (`extra` keys added to it).
    fn start(extra: &str) -> Daemon {
        Daemon::start_listening("127.0.0.1:0", extra)
    }

    /// `djauth serve` with one `[[http]]` listener on `listen` (`{dir}` is
    /// replaced by the daemon's temporary directory).
    fn start_listening(listen: &str, extra: &str) -> Daemon {
        Daemon::start_edited(listen, extra, &[])
    }

    /// The same, on a demo database changed by the SQL `edits` first.
    fn start_edited(listen: &str, extra: &str, edits: &[&str]) -> Daemon {
        let dir = ScratchDir::new("djauth-http-test");
        let db = demo_database(dir.path());
        edit_database(&db, &[], edits);
        let listen = listen.replace("{dir}", &dir.path().display().to_string());
        let listener = format!("[[http]]\nlisten = \"{listen}\"\n{extra}\n");
        let process = harness::Daemon::serve_config(dir, &db, &listener, &[("DJAUTH_LOG", "info")]);
        let listen = process
            .listen_addresses("HTTP forward-auth listening", 1)
            .remove(0);
        Daemon {
            addr: listen.parse().ok(),
            listen,
            process,
        }
    }

    fn connect(&self) -> TcpStream {
        harness::connect(self.addr.expect("a TCP listener"))
    }

    /// One GET of `path` with `headers` on a new connection.
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut stream = self.connect();
        send(&mut stream, path, headers);
        read_reply(&mut BufReader::new(stream))
    }
}

fn send(stream: &mut TcpStream, path: &str, headers: &[(&str, &str)]) {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: djauth\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
}

fn read_reply<R: Read>(reader: &mut BufReader<R>) -> Reply {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let mut reply = Reply {
        status,
        headers,
        body: String::new(),
    };
    let length: usize = reply
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    reply.body = String::from_utf8(body).unwrap();
    reply
}

#[test]
fn grants_carry_the_stored_user_and_denials_the_challenge() {
    let daemon = Daemon::start("realm = \"Staff only\"");
    let challenge = "Basic realm=\"Staff only\", charset=\"UTF-8\"";

    // Case C23: without credentials and with wrong ones, 401 with the challenge.
    let missing = daemon.get("/auth", &[]);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("www-authenticate"), Some(challenge));
    let wrong = daemon.get("/auth/demo", &[("Authorization", ALICE_WRONG)]);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.header("www-authenticate"), Some(challenge));
    assert_eq!(wrong.header("x-django-user"), None);

    let ok = daemon.get(
        "/auth/demo?require=group:secret-agents",
        &[("Authorization", ALICE)],
    );
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.header("x-django-user"), Some("alice"));
    assert_eq!(ok.header("x-django-user-id"), Some("1"));
    assert_eq!(ok.header("x-django-groups"), Some("secret-agents"));
    assert_eq!(ok.header("www-authenticate"), None);

    // Authenticated, but not in the group: 403, no challenge.
    let forbidden = daemon.get(
        "/auth?require=group:secret-agents",
        &[("Authorization", BOB)],
    );
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.header("www-authenticate"), None);
    // A quoted requirement with a space, percent-encoded.
    let spaced = daemon.get(
        "/auth?require=group:%22secret%20agents%22%20user:bob",
        &[("Authorization", BOB)],
    );
    assert_eq!(spaced.status, 200);

    // An inactive user with the right password: 401.
    let inactive = daemon.get("/auth", &[("Authorization", CAROL)]);
    assert_eq!(inactive.status, 401);
    assert_eq!(inactive.header("www-authenticate"), Some(challenge));

    let log = daemon.process.log_with("reason=\"inactive\"");
    assert!(log.contains("denied door=\"http\" site=\"demo\" user=\"alice\" client=\"127.0.0.1\" reason=\"wrong-password\""), "{log}");
    assert!(
        log.contains("site=\"demo\" user=\"carol\" client=\"127.0.0.1\" reason=\"inactive\""),
        "{log}"
    );
    assert!(!log.contains("alice-pw") && !log.contains(ALICE), "{log}");
}

/// Case C01 with its own stored hash: józef's password `Pässwörd-123` sent
/// as UTF-8 (A) and as Latin-1 (B) is granted; invalid bytes (C) and the
/// Latin-1 reading of the UTF-8 bytes (what mod_wsgi hands Django) are not.
#[test]
fn c01_non_ascii_credentials_in_either_encoding() {
    let hash = "pbkdf2_sha256$1000$saltA1000$B8H88bNLmC2FWv++9KWzHWHlMn3wn6txryw8ASvqRgs=";
    let edit = format!("UPDATE auth_user SET password = '{hash}' WHERE username = 'józef'");
    let daemon = Daemon::start_edited("127.0.0.1:0", "", &[&edit]);
    for (what, credentials) in [
        ("A, UTF-8", "Basic asOzemVmOlDDpHNzd8O2cmQtMTIz"),
        ("B, Latin-1", "Basic avN6ZWY6UORzc3f2cmQtMTIz"),
    ] {
        let reply = daemon.get("/auth", &[("Authorization", credentials)]);
        assert_eq!(reply.status, 200, "{what}: {reply:?}");
        assert_eq!(reply.header("x-django-user"), Some("józef"), "{what}");
    }
    let mojibake = format!("Basic {}", STANDARD.encode("józef:PÃ¤sswÃ¶rd-123"));
    let invalid = format!("Basic {}", STANDARD.encode(b"\xff\xfe:\xc3"));
    for (what, credentials) in [("C, invalid bytes", invalid), ("mojibake", mojibake)] {
        let reply = daemon.get("/auth", &[("Authorization", &credentials)]);
        assert_eq!(reply.status, 401, "{what}: {reply:?}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Basic realm=\"Django\", charset=\"UTF-8\""),
            "{what}"
        );
    }
}

#[test]
fn client_identity_headers_are_never_believed() {
    let daemon = Daemon::start("");
    let spoof = daemon.get(
        "/auth",
        &[
            ("X-Django-User", "frank"),
            ("X-Remote-User", "frank"),
            ("Remote-User", "frank"),
        ],
    );
    assert_eq!(spoof.status, 401);
    assert_eq!(spoof.header("x-django-user"), None);
    // Another scheme or broken Basic values are no credentials at all.
    for value in [
        "Bearer abc",
        "Basic !!!",
        "Basic YWxpY2U=",
        "Digest username=alice",
    ] {
        let reply = daemon.get("/auth", &[("Authorization", value)]);
        assert_eq!(reply.status, 401, "{value}");
        assert!(reply.header("www-authenticate").is_some());
    }
    // Without trusted_proxies, X-Forwarded-For is not the client.
    daemon.get(
        "/auth",
        &[
            ("Authorization", ALICE_WRONG),
            ("X-Forwarded-For", "203.0.113.9"),
        ],
    );
    let log = daemon.process.log_with("reason=\"wrong-password\"");
    assert!(
        log.contains("client=\"127.0.0.1\" reason=\"wrong-password\""),
        "{log}"
    );
    assert!(!log.contains("203.0.113.9"), "{log}");
}

#[test]
fn trusted_proxies_name_the_client_and_forwarded_request() {
    let daemon = Daemon::start("trusted_proxies = [\"127.0.0.1\"]");
    daemon.get(
        "/auth",
        &[
            ("Authorization", ALICE_WRONG),
            ("X-Forwarded-For", "192.0.2.1, 203.0.113.9"),
            ("X-Forwarded-Method", "PUT"),
            ("X-Forwarded-Uri", "/private/report.pdf"),
            ("X-Forwarded-Host", "files.example"),
        ],
    );
    let log = daemon.process.log_with("reason=\"wrong-password\"");
    assert!(
        log.contains("client=\"203.0.113.9\" reason=\"wrong-password\""),
        "{log}"
    );
    assert!(
        log.contains("method=\"PUT\" uri=\"/private/report.pdf\" host=\"files.example\""),
        "{log}"
    );
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let daemon = Daemon::start("");
    let stream = daemon.connect();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for (auth, status) in [(ALICE, 200), (ALICE_WRONG, 401), (ALICE, 200), (BOB, 200)] {
        send(&mut writer, "/auth", &[("Authorization", auth)]);
        assert_eq!(read_reply(&mut reader).status, status);
    }
}

#[test]
fn bad_requests_are_refused_and_the_daemon_keeps_answering() {
    let daemon = Daemon::start("");
    // Configuration mistakes of the proxy are errors, never a guess.
    for path in [
        "/auth/nosuchsite",
        "/auth?requir=group:x",
        "/auth?require=perm:commit_repo",
        "/auth?require=group:a&require=group:b",
        "/auth/demo?site=demo",
        "/auth?require=%zz",
        "/auth/demo/extra",
    ] {
        let reply = daemon.get(path, &[("Authorization", ALICE)]);
        assert_eq!(reply.status, 500, "{path}: {reply:?}");
        assert_eq!(reply.header("x-django-user"), None);
    }
    assert_eq!(daemon.get("/", &[]).status, 404);
    assert_eq!(daemon.get("/authx", &[]).status, 404);

    // A head larger than 16 KiB: 431, connection closed.
    let huge = "x".repeat(20_000);
    assert_eq!(daemon.get("/auth", &[("X-Padding", &huge)]).status, 431);
    // Too many header fields.
    let mut stream = daemon.connect();
    let mut request = String::from("GET /auth HTTP/1.1\r\nHost: x\r\n");
    for i in 0..150 {
        request.push_str(&format!("X-H{i}: v\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_reply(&mut BufReader::new(stream)).status, 431);
    // Garbage instead of a request line.
    let mut stream = daemon.connect();
    stream.write_all(b"\x00\x01 garbage\r\n\r\n").unwrap();
    assert_eq!(read_reply(&mut BufReader::new(stream)).status, 400);
    // A client that stops mid-request does not hold the daemon up.
    let mut slow = daemon.connect();
    slow.write_all(b"GET /auth HTTP/1.1\r\nHost").unwrap();

    let ok = daemon.get("/auth", &[("Authorization", ALICE)]);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("x-django-user"), Some("alice"));
}

#[test]
fn health_readiness_and_metrics() {
    let daemon = Daemon::start("");
    let health = daemon.get("/healthz", &[]);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let ready = daemon.get("/readyz", &[]);
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));

    for auth in [ALICE, ALICE, ALICE_WRONG, CAROL] {
        daemon.get("/auth", &[("Authorization", auth)]);
    }
    daemon.get(
        "/auth?require=group:secret-agents",
        &[("Authorization", BOB)],
    );
    let metrics = daemon.get("/metrics", &[]);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert_has_lines(
        &metrics,
        &[
            "djauth_decisions_total{door=\"http\",site=\"demo\",result=\"granted\"} 2",
            "djauth_decisions_total{door=\"http\",site=\"demo\",result=\"wrong-password\"} 1",
            "djauth_decisions_total{door=\"http\",site=\"demo\",result=\"inactive\"} 1",
            "djauth_decisions_total{door=\"http\",site=\"demo\",result=\"requirement-not-met\"} 1",
            "djauth_database_errors_total{site=\"demo\"} 0",
            "djauth_db_pool_max_connections{site=\"demo\"} 8",
            // alice twice wrong-or-new (the second alice-pw is remembered), bob once.
            "djauth_kdf_seconds_count{algorithm=\"pbkdf2_sha256\"} 2",
            "djauth_kdf_seconds_count{algorithm=\"argon2\"} 1",
            // carol is inactive: the equal-cost dummy hash.
            "djauth_kdf_seconds_count{algorithm=\"dummy\"} 1",
        ],
    );
    let post = {
        let mut stream = daemon.connect();
        stream
            .write_all(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        read_reply(&mut BufReader::new(stream))
    };
    assert_eq!(post.status, 405);
}

/// A stored username with control characters cannot travel in
/// `X-Django-User`: the right password gets 401 with the challenge, counted
/// and logged as the refusal `bad-user-row`, never as a grant.
#[test]
fn a_stored_username_with_control_characters_is_a_counted_refusal() {
    let daemon = Daemon::start_edited(
        "127.0.0.1:0",
        "",
        &["UPDATE auth_user SET username = 'er' || char(9) || 'in' WHERE username = 'erin'"],
    );
    let erin = "Basic ZXIJaW46ZXJpbi1wdw=="; // "er\tin:erin-pw"
    let reply = daemon.get("/auth", &[("Authorization", erin)]);
    assert_eq!(reply.status, 401);
    assert!(reply.header("www-authenticate").is_some());
    assert_eq!(reply.header("x-django-user"), None);
    let metrics = daemon.get("/metrics", &[]);
    assert_has_lines(
        &metrics,
        &["djauth_decisions_total{door=\"http\",site=\"demo\",result=\"bad-user-row\"} 1"],
    );
    assert!(
        !metrics.body.contains("result=\"granted\""),
        "{}",
        metrics.body
    );
}

#[test]
fn unix_socket_listener() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixStream;

    let daemon = Daemon::start_listening(
        "unix:{dir}/http.sock",
        "mode = \"0600\"\ntrusted_proxies = [\"unix\"]",
    );
    let path = daemon.listen.strip_prefix("unix:").unwrap().to_string();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let mut stream = UnixStream::connect(&path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let request = format!(
        "GET /auth/demo HTTP/1.1\r\nHost: x\r\nAuthorization: {ALICE_WRONG}\r\nX-Forwarded-For: 198.51.100.4\r\n\r\nGET /auth HTTP/1.1\r\nHost: x\r\nAuthorization: {ALICE}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let first = read_reply(&mut reader);
    assert_eq!(first.status, 401);
    let second = read_reply(&mut reader);
    assert_eq!(
        (second.status, second.header("x-django-user")),
        (200, Some("alice"))
    );
    let log = daemon.process.log_with("reason=\"wrong-password\"");
    assert!(
        log.contains("client=\"198.51.100.4\" reason=\"wrong-password\""),
        "{log}"
    );
}

#[test]
fn fifty_concurrent_requests_with_new_credentials_run_one_hash() {
    // Case C17 through the whole daemon: erin's credentials are new to it;
    // 50 requests in flight at once share one PBKDF2 run (1M iterations),
    // counted by the daemon's own KDF histogram.
    const ERIN: &str = "Basic ZXJpbjplcmluLXB3"; // erin:erin-pw
    let daemon = Daemon::start("");
    let statuses = all_at_once(&daemon, &vec![ERIN.to_string(); 50]);
    assert_eq!(statuses, vec![200; 50]);
    let metrics = daemon.get("/metrics", &[]);
    assert_has_lines(
        &metrics,
        &[
            "djauth_kdf_seconds_count{algorithm=\"pbkdf2_sha256\"} 1",
            "djauth_decisions_total{door=\"http\",site=\"demo\",result=\"granted\"} 50",
        ],
    );
}

#[test]
fn concurrent_argon2_checks_hold_at_most_kdf_workers_blocks_of_memory() {
    // Case C14: an argon2id hash at Django's parameters (m = 102400 KiB, so
    // 100 MiB per check while it runs, p = 8) stored for alice, then 8 wrong
    // passwords at once (never cached, so 8 real checks). The test daemon has
    // kdf_workers = 2: its peak RSS grows by two checks' memory, not eight.
    const C14: &str =
        "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw";
    const CHECK_MIB: u64 = 100;
    let edit = format!("UPDATE auth_user SET password = '{C14}' WHERE username = 'alice'");
    let daemon = Daemon::start_edited("127.0.0.1:0", "", &[&edit]);
    // A first check (PBKDF2) opens the pool and warms everything but argon2.
    let erin = format!("Basic {}", STANDARD.encode("erin:erin-pw"));
    assert_eq!(daemon.get("/auth", &[("Authorization", &erin)]).status, 200);
    let before = proc_status_mib(daemon.process.pid(), "VmHWM:");

    let wrong: Vec<String> = (0..8)
        .map(|i| format!("Basic {}", STANDARD.encode(format!("alice:wrong-{i}"))))
        .collect();
    let statuses = all_at_once(&daemon, &wrong);
    assert_eq!(statuses, vec![401; 8]);
    let right = format!("Basic {}", STANDARD.encode("alice:secret"));
    assert_eq!(
        daemon.get("/auth", &[("Authorization", &right)]).status,
        200
    );

    let metrics = daemon.get("/metrics", &[]);
    assert_has_lines(
        &metrics,
        &["djauth_kdf_seconds_count{algorithm=\"argon2\"} 9"],
    );
    let grown = proc_status_mib(daemon.process.pid(), "VmHWM:").saturating_sub(before);
    assert!(
        (CHECK_MIB * 3 / 2..CHECK_MIB * 3).contains(&grown),
        "peak RSS grew by {grown} MiB: two argon2 checks at once hold about {} MiB",
        2 * CHECK_MIB
    );
}

/// Sends one `/auth` request per `Authorization` value, each on its own
/// connection, released together; returns the statuses in the same order.
fn all_at_once(daemon: &Daemon, authorizations: &[String]) -> Vec<u16> {
    let barrier = std::sync::Barrier::new(authorizations.len());
    std::thread::scope(|scope| {
        let workers: Vec<_> = authorizations
            .iter()
            .map(|authorization| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut stream = daemon.connect();
                    barrier.wait();
                    send(&mut stream, "/auth", &[("Authorization", authorization)]);
                    read_reply(&mut BufReader::new(stream)).status
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    })
}

/// A `/proc/PID/status` field given in kB (`VmRSS:`, `VmHWM:`), in MiB.
fn proc_status_mib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib / 1024
}

/// Panics unless every one of `lines` is a whole line of the reply's body.
fn assert_has_lines(reply: &Reply, lines: &[&str]) {
    for line in lines {
        assert!(
            reply.body.lines().any(|l| l == *line),
            "{line} missing from\n{}",
            reply.body
        );
    }
}
