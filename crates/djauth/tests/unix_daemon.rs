//! The real `djauth serve --unix` binary, driven over its Unix socket with
//! djauth-proto's client, the way mod_djauth drives it.

mod harness;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use djauth_proto::{Client, Reply, Request, Timeouts};
use harness::{ScratchDir, demo_database};
use zeroize::Zeroizing;

/// A daemon on a copy of the demo database; killed on drop.
struct Daemon {
    process: harness::Daemon,
    socket: PathBuf,
}

fn scratch_dir() -> ScratchDir {
    ScratchDir::new("djauth-unix-test")
}

impl Daemon {
    fn start_in(dir: ScratchDir) -> Daemon {
        let db = demo_database(dir.path());
        let database = format!("sqlite://{}", db.display());
        let socket = dir.path().join("djauth.sock");
        let args = [
            OsStr::new("serve"),
            OsStr::new("--database"),
            OsStr::new(&database),
            OsStr::new("--unix"),
            socket.as_os_str(),
        ];
        Daemon::listening(harness::Daemon::spawn(dir, &args, &[]), socket)
    }

    /// Waits until `process` accepts connections on `socket`.
    fn listening(mut process: harness::Daemon, socket: PathBuf) -> Daemon {
        let deadline = Instant::now() + Duration::from_secs(30);
        while UnixStream::connect(&socket).is_err() {
            assert!(!process.exited(), "djauth exited at start");
            assert!(Instant::now() < deadline, "djauth did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon { process, socket }
    }

    fn start() -> Daemon {
        Daemon::start_in(scratch_dir())
    }

    fn ask(&self, client: &Client, request: &Request) -> Reply {
        client
            .call(&self.socket, &Timeouts::default(), request)
            .unwrap()
    }
}

fn authenticate(user: &str, password: &str, requirement: &str) -> Request {
    Request::Authenticate {
        site: String::new(),
        user: user.as_bytes().to_vec(),
        password: Zeroizing::new(password.as_bytes().to_vec()),
        requirement: requirement.into(),
    }
}

fn authorize(user: &str, requirement: &str) -> Request {
    Request::Authorize {
        site: String::new(),
        user: user.as_bytes().to_vec(),
        requirement: requirement.into(),
    }
}

fn denied(reason: &str) -> Reply {
    Reply::Denied {
        reason: reason.into(),
    }
}

#[test]
fn answers_like_the_fastcgi_door() {
    let daemon = Daemon::start();
    let client = Client::new();
    assert_eq!(daemon.ask(&client, &Request::Ping), Reply::Pong);
    match daemon.ask(&client, &authenticate("alice", "alice-pw", "valid-user")) {
        Reply::Granted {
            username, groups, ..
        } => {
            assert_eq!(username, "alice");
            assert_eq!(groups, ["secret-agents"]);
        }
        other => panic!("{other:?}"),
    }
    let cases = [
        (authenticate("ghost", "x", "valid-user"), Reply::NotFound),
        (
            authenticate("alice", "wrong", "valid-user"),
            denied("wrong-password"),
        ),
        (
            authenticate("carol", "carol-pw", "valid-user"),
            denied("inactive"),
        ),
        (
            authenticate("bob", "bob-pw", "group:secret-agents"),
            denied("requirement-not-met"),
        ),
        (
            authorize("bob", "group:secret-agents"),
            denied("requirement-not-met"),
        ),
        (authorize("carol", "valid-user"), denied("inactive")),
        (authorize("ghost", "valid-user"), Reply::NotFound),
        (authorize("", "valid-user"), denied("no-user")),
    ];
    for (request, expected) in cases {
        assert_eq!(daemon.ask(&client, &request), expected, "{request:?}");
    }
    for (user, requirement) in [
        ("erin", "group:\"secret agents\""),
        ("frank", "perm:auth.view_user"),
        ("frank", "staff"),
        ("frank", "superuser"),
        ("alice", "user:alice"),
    ] {
        assert!(
            matches!(
                daemon.ask(&client, &authorize(user, requirement)),
                Reply::Granted { .. }
            ),
            "{user} {requirement}"
        );
    }
    // One persistent connection carried all of it.
    assert_eq!(client.idle_count(), 1);
}

/// A module that hangs up before its answer (Apache's child killed, a
/// timeout) takes its check with it: the password hashes of 20 abandoned
/// requests are not run and not logged as decisions, so they cannot delay
/// everybody else's.
#[test]
fn checks_for_a_module_that_hung_up_are_dropped() {
    let daemon = Daemon::start();
    for n in 0..20 {
        let frame = authenticate("alice", &format!("abandoned-{n}"), "valid-user")
            .encode()
            .unwrap();
        let mut stream = UnixStream::connect(&daemon.socket).unwrap();
        stream.write_all(&frame).unwrap();
    }
    let client = Client::new();
    assert!(matches!(
        daemon.ask(&client, &authenticate("bob", "bob-pw", "valid-user")),
        Reply::Granted { .. }
    ));
    std::thread::sleep(Duration::from_millis(500));
    daemon.process.assert_denials_at_most("alice", 2);
}

#[test]
fn bad_sites_and_requirements_are_errors_not_answers() {
    let daemon = Daemon::start();
    let client = Client::new();
    let unknown_site = Request::Authorize {
        site: "nope".into(),
        user: b"alice".to_vec(),
        requirement: "valid-user".into(),
    };
    assert!(
        matches!(daemon.ask(&client, &unknown_site), Reply::Error { message } if message.contains("nope"))
    );
    assert!(matches!(
        daemon.ask(&client, &authorize("alice", "perm:no_label")),
        Reply::Error { .. }
    ));
    assert_eq!(daemon.ask(&client, &Request::Ping), Reply::Pong);
}

#[test]
fn garbage_gets_an_error_and_a_close_and_the_daemon_goes_on() {
    let daemon = Daemon::start();
    let mut raw = UnixStream::connect(&daemon.socket).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.write_all(b"\0\0\0\x03\x09\x01\x02").unwrap();
    let mut reply = Vec::new();
    raw.read_to_end(&mut reply).unwrap();
    let decoded = Reply::decode(&reply[4..]).unwrap();
    assert!(matches!(decoded, Reply::Error { message } if message.contains("version")));
    // An oversized frame is refused without being read.
    let mut raw = UnixStream::connect(&daemon.socket).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.write_all(b"\x7f\xff\xff\xff").unwrap();
    let mut rest = Vec::new();
    let _ = raw.read_to_end(&mut rest);
    assert!(rest.is_empty());
    assert_eq!(daemon.ask(&Client::new(), &Request::Ping), Reply::Pong);
}

#[test]
fn socket_mode_stale_file_and_cleanup() {
    let dir = scratch_dir();
    // A stale socket from a crashed daemon is replaced.
    let stale = dir.path().join("djauth.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let daemon = Daemon::start_in(dir);
    let meta = std::fs::metadata(&daemon.socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    // A second daemon on the same live socket refuses to start.
    let second = harness::djauth()
        .args(["serve", "--database"])
        .arg(format!(
            "sqlite://{}",
            daemon.process.dir().join("db.sqlite3").display()
        ))
        .arg("--unix")
        .arg(&daemon.socket)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another process"));
    // SIGTERM removes the socket file.
    let socket = daemon.socket.clone();
    let pid = daemon.process.pid();
    assert!(
        Command::new("kill")
            .arg(pid.to_string())
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while is_socket(&socket) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!is_socket(&socket));
    drop(daemon);
}

fn is_socket(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

#[test]
fn idle_connections_are_closed_and_the_client_reconnects() {
    let dir = scratch_dir();
    let db = demo_database(dir.path());
    let socket = dir.path().join("djauth.sock");
    let listeners = format!(
        "[unix]\npath = \"{}\"\nidle_timeout = 0.5\n",
        socket.display()
    );
    let daemon = Daemon::listening(
        harness::Daemon::serve_config(dir, &db, &listeners, &[]),
        socket,
    );
    // A connection that never asks anything is closed after the idle time,
    // so idle connections cannot hold every slot.
    let mut idle = UnixStream::connect(&daemon.socket).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut byte = [0u8; 1];
    assert_eq!(idle.read(&mut byte).unwrap(), 0, "closed without a byte");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // mod_djauth's client keeps connections; one closed while idle is
    // replaced on the next call.
    let client = Client::new();
    assert_eq!(daemon.ask(&client, &Request::Ping), Reply::Pong);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(daemon.ask(&client, &Request::Ping), Reply::Pong);
}
