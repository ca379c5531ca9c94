use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use zeroize::Zeroizing;

use crate::wire::HEADER_LEN;
use crate::*;

fn payload(frame: &[u8]) -> &[u8] {
    let len = frame_len(frame[..HEADER_LEN].try_into().unwrap()).unwrap();
    assert_eq!(frame.len(), HEADER_LEN + len);
    &frame[HEADER_LEN..]
}

fn authenticate() -> Request {
    Request::Authenticate {
        site: "demo".into(),
        user: b"j\xf3zef".to_vec(),
        password: Zeroizing::new(b"P\xc3\xa4ss:w\x00rd".to_vec()),
        requirement: "group:\"secret agents\"".into(),
    }
}

#[test]
fn requests_round_trip() {
    for request in [
        authenticate(),
        Request::Authorize {
            site: String::new(),
            user: b"alice".to_vec(),
            requirement: "perm:auth.view_user staff".into(),
        },
        Request::Ping,
    ] {
        let frame = request.encode().unwrap();
        assert_eq!(Request::decode(payload(&frame)).unwrap(), request);
    }
}

/// A request's frame is allocated once at its final size: growing it would
/// free an unwiped copy of the password.
#[test]
fn a_request_frame_never_moves_its_password() {
    for length in [0, 100, 1_000, 60_000] {
        let request = Request::Authenticate {
            site: "demo".into(),
            user: b"alice".to_vec(),
            password: Zeroizing::new(vec![b'p'; length]),
            requirement: "valid-user".into(),
        };
        let frame = request.encode().unwrap();
        let fields = 4 + "alice".len() + 4 + length + 2 + "valid-user".len() + 2;
        assert_eq!(frame.capacity(), HEADER_LEN + 2 + fields + 64, "{length}");
    }
}

#[test]
fn replies_round_trip() {
    for reply in [
        Reply::Granted {
            username: "józef".into(),
            user_id: -7,
            groups: vec!["secret agents".into(), String::new(), "a,b".into()],
            reuse_ms: 4_999,
        },
        Reply::NotFound,
        Reply::Denied {
            reason: "inactive".into(),
        },
        Reply::Error {
            message: "database is down".into(),
        },
        Reply::Pong,
    ] {
        let frame = reply.encode().unwrap();
        assert_eq!(Reply::decode(payload(&frame)).unwrap(), reply);
    }
}

#[test]
fn the_layout_is_fixed() {
    let frame = Request::Authorize {
        site: "s".into(),
        user: b"u".to_vec(),
        requirement: "staff".into(),
    }
    .encode()
    .unwrap();
    assert_eq!(
        &frame[..],
        b"\0\0\0\x0f\x02\x02\0\x01s\0\x01u\0\x05staff".as_slice()
    );
    assert_eq!(&Reply::NotFound.encode().unwrap(), b"\0\0\0\x02\x02\x82");
    let granted = Reply::Granted {
        username: "u".into(),
        user_id: 258,
        groups: vec!["g".into()],
        reuse_ms: 5000,
    };
    assert_eq!(
        &granted.encode().unwrap()[..],
        b"\0\0\0\x16\x02\x81\0\x01u\0\0\0\0\0\0\x01\x02\0\x01\0\x01g\0\0\x13\x88".as_slice()
    );
}

#[test]
fn bad_payloads_are_errors() {
    let good = Reply::Denied {
        reason: "wrong-password".into(),
    }
    .encode()
    .unwrap();
    let good = payload(&good);
    assert_eq!(Reply::decode(&[]), Err(WireError::Truncated));
    // Version 1 (before grants carried a reuse time) is refused, not misread.
    assert_eq!(Reply::decode(&[1, 0x82]), Err(WireError::Version(1)));
    assert_eq!(Reply::decode(&[3, 0x82]), Err(WireError::Version(3)));
    assert_eq!(Reply::decode(&[2, 0x7f]), Err(WireError::Tag(0x7f)));
    // A request tag is not a reply, and a reply tag is not a request.
    assert_eq!(Reply::decode(&[2, 0x03]), Err(WireError::Tag(0x03)));
    assert_eq!(Request::decode(&[2, 0x82]), Err(WireError::Tag(0x82)));
    for cut in 0..good.len() {
        assert_eq!(
            Reply::decode(&good[..cut]),
            Err(WireError::Truncated),
            "{cut}"
        );
    }
    let mut long = good.to_vec();
    long.push(0);
    assert_eq!(Reply::decode(&long), Err(WireError::Trailing));
    assert_eq!(
        Reply::decode(&[2, 0x83, 0, 2, 0xff, 0xfe]),
        Err(WireError::NotUtf8)
    );
}

#[test]
fn sizes_are_bounded() {
    assert_eq!(frame_len([0, 1, 0, 0]), Ok(MAX_FRAME));
    assert_eq!(
        frame_len([0, 1, 0, 1]),
        Err(WireError::TooLarge(MAX_FRAME + 1))
    );
    assert_eq!(
        frame_len([0xff; 4]),
        Err(WireError::TooLarge(u32::MAX as usize))
    );
    let huge = Request::Authorize {
        site: String::new(),
        user: vec![b'a'; 70_000],
        requirement: "valid-user".into(),
    };
    assert_eq!(huge.encode().unwrap_err(), WireError::FieldTooLong);
    let too_many = Reply::Granted {
        username: "u".into(),
        user_id: 1,
        groups: vec!["g".repeat(60_000), "g".repeat(60_000)],
        reuse_ms: 0,
    };
    assert!(matches!(
        too_many.encode().unwrap_err(),
        WireError::TooLarge(_)
    ));
}

#[test]
fn passwords_stay_out_of_debug_output() {
    let shown = format!("{:?}", authenticate());
    assert!(!shown.contains("ss:w"), "{shown}");
    assert!(shown.contains("<hidden>"));
}

#[test]
fn groups_are_comma_separated_and_escaped() {
    let groups = ["secret agents".to_string(), "a,b".into(), "50%\n".into()];
    assert_eq!(encode_groups(&groups), b"secret agents,a%2Cb,50%25%0A");
    assert_eq!(encode_groups(&[]), b"");
}

fn arb_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(".{0,40}").unwrap()
}

fn arb_request() -> impl Strategy<Value = Request> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        (arb_text(), bytes(), bytes(), arb_text()).prop_map(
            |(site, user, password, requirement)| {
                Request::Authenticate {
                    site,
                    user,
                    password: Zeroizing::new(password),
                    requirement,
                }
            }
        ),
        (arb_text(), bytes(), arb_text()).prop_map(|(site, user, requirement)| {
            Request::Authorize {
                site,
                user,
                requirement,
            }
        }),
        Just(Request::Ping),
    ]
}

fn arb_reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        (
            arb_text(),
            any::<i64>(),
            proptest::collection::vec(arb_text(), 0..8),
            any::<u32>()
        )
            .prop_map(|(username, user_id, groups, reuse_ms)| Reply::Granted {
                username,
                user_id,
                groups,
                reuse_ms,
            }),
        Just(Reply::NotFound),
        arb_text().prop_map(|reason| Reply::Denied { reason }),
        arb_text().prop_map(|message| Reply::Error { message }),
        Just(Reply::Pong),
    ]
}

proptest! {
    #[test]
    fn any_bytes_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Request::decode(&bytes);
        let _ = Reply::decode(&bytes);
        if bytes.len() >= HEADER_LEN {
            let _ = frame_len(bytes[..HEADER_LEN].try_into().unwrap());
        }
    }

    #[test]
    fn versioned_garbage_decodes_without_panicking(
        tag in any::<u8>(),
        rest in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let mut bytes = vec![VERSION, tag];
        bytes.extend_from_slice(&rest);
        let _ = Request::decode(&bytes);
        let _ = Reply::decode(&bytes);
    }

    #[test]
    fn requests_round_trip_prop(request in arb_request()) {
        let frame = request.encode().unwrap();
        prop_assert_eq!(Request::decode(payload(&frame)).unwrap(), request);
    }

    #[test]
    fn replies_round_trip_prop(reply in arb_reply()) {
        let frame = reply.encode().unwrap();
        prop_assert_eq!(Reply::decode(payload(&frame)).unwrap(), reply);
    }

    #[test]
    fn truncated_frames_never_decode(reply in arb_reply(), cut in any::<prop::sample::Index>()) {
        let frame = reply.encode().unwrap();
        let body = payload(&frame);
        let cut = cut.index(body.len());
        prop_assert!(Reply::decode(&body[..cut]).is_err());
    }
}

// --- the blocking client against a real Unix socket --------------------------

fn socket_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("djauth-proto-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("s.sock")
}

fn read_request(stream: &mut UnixStream) -> Option<Request> {
    let mut header = [0u8; HEADER_LEN];
    stream.read_exact(&mut header).ok()?;
    let mut body = vec![0u8; frame_len(header).ok()?];
    stream.read_exact(&mut body).ok()?;
    Request::decode(&body).ok()
}

/// Answers `per_connection` requests on each accepted connection, then
/// closes it; stops after `connections` connections.
fn serve(
    listener: UnixListener,
    connections: usize,
    per_connection: usize,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            for _ in 0..per_connection {
                let Some(request) = read_request(&mut stream) else {
                    break;
                };
                let reply = match request {
                    Request::Ping => Reply::Pong,
                    Request::Authorize { user, .. } => Reply::Granted {
                        username: String::from_utf8_lossy(&user).into_owned(),
                        user_id: 1,
                        groups: vec![],
                        reuse_ms: 0,
                    },
                    Request::Authenticate { .. } => Reply::NotFound,
                };
                stream.write_all(&reply.encode().unwrap()).unwrap();
            }
        }
    })
}

#[test]
fn connections_are_reused() {
    let path = socket_path("reuse");
    let listener = UnixListener::bind(&path).unwrap();
    let server = serve(listener, 1, 3);
    let client = Client::new();
    let timeouts = Timeouts::default();
    for _ in 0..3 {
        assert_eq!(
            client.call(&path, &timeouts, &Request::Ping).unwrap(),
            Reply::Pong
        );
    }
    assert_eq!(client.idle_count(), 1);
    server.join().unwrap();
}

#[test]
fn a_broken_connection_is_replaced_once() {
    let path = socket_path("reconnect");
    let listener = UnixListener::bind(&path).unwrap();
    // The first connection is closed after one answer (a daemon restart).
    let server = serve(listener, 2, 1);
    let client = Client::new();
    let timeouts = Timeouts::default();
    assert_eq!(
        client.call(&path, &timeouts, &Request::Ping).unwrap(),
        Reply::Pong
    );
    assert_eq!(
        client.call(&path, &timeouts, &authenticate()).unwrap(),
        Reply::NotFound
    );
    server.join().unwrap();
}

#[test]
fn a_missing_daemon_is_a_connect_error() {
    let path = socket_path("missing");
    let err = Client::new()
        .call(&path, &Timeouts::default(), &Request::Ping)
        .unwrap_err();
    assert!(matches!(err, ClientError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("s.sock"), "{err}");
}

#[test]
fn a_silent_daemon_times_out() {
    let path = socket_path("silent");
    let listener = UnixListener::bind(&path).unwrap();
    let holder = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_millis(800));
        drop(stream);
    });
    let timeouts = Timeouts {
        read: Duration::from_millis(200),
        ..Timeouts::default()
    };
    let start = Instant::now();
    let err = Client::new()
        .call(&path, &timeouts, &Request::Ping)
        .unwrap_err();
    assert!(matches!(err, ClientError::Timeout), "{err:?}");
    assert!(start.elapsed() < Duration::from_millis(700));
    holder.join().unwrap();
}

#[test]
fn a_garbage_reply_is_a_protocol_error() {
    let path = socket_path("garbage");
    let listener = UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&mut stream).unwrap();
        stream.write_all(b"\xff\xff\xff\xff").unwrap();
    });
    let err = Client::new()
        .call(&path, &Timeouts::default(), &Request::Ping)
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Wire(WireError::TooLarge(_))),
        "{err:?}"
    );
    server.join().unwrap();
}

#[test]
fn require_lines_become_requirements() {
    let req = |kind: RequireKind, args: &[&str]| {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        kind.requirement(&args)
    };
    assert_eq!(
        req(RequireKind::Group, &["secret agents", "a\"b\\"]).unwrap(),
        r#"group:"secret agents" group:"a\"b\\""#
    );
    assert_eq!(
        req(RequireKind::Perm, &["auth.view_user"]).unwrap(),
        r#"perm:"auth.view_user""#
    );
    assert_eq!(
        req(RequireKind::User, &["józef"]).unwrap(),
        "user:\"józef\""
    );
    assert_eq!(req(RequireKind::Staff, &[]).unwrap(), "staff");
    assert_eq!(req(RequireKind::Superuser, &[]).unwrap(), "superuser");
    for (kind, args, needle) in [
        (RequireKind::Group, &[][..], "at least one"),
        (RequireKind::Perm, &["view_user"][..], "app_label.codename"),
        (RequireKind::Perm, &[".x"][..], "app_label.codename"),
        (RequireKind::Staff, &["x"][..], "no arguments"),
        (RequireKind::User, &["a\nb"][..], "control"),
    ] {
        let err = req(kind, args).unwrap_err();
        assert!(err.contains(needle), "{err}");
    }
    assert!(RequireKind::User.requirement(&[b"\xff"]).is_err());
}

#[test]
fn threads_never_see_each_others_answers() {
    let path = socket_path("threads");
    let listener = UnixListener::bind(&path).unwrap();
    // One server thread per connection, answering until the client goes away.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                while let Some(request) = read_request(&mut stream) {
                    let Request::Authorize { user, .. } = request else {
                        return;
                    };
                    let reply = Reply::Granted {
                        username: String::from_utf8_lossy(&user).into_owned(),
                        user_id: user.len() as i64,
                        groups: vec![],
                        reuse_ms: 0,
                    };
                    if stream.write_all(&reply.encode().unwrap()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let client = std::sync::Arc::new(Client::new());
    let workers: Vec<_> = (0..8)
        .map(|t| {
            let (client, path) = (client.clone(), path.clone());
            std::thread::spawn(move || {
                for i in 0..25 {
                    let user = format!("user-{t}-{i}");
                    let request = Request::Authorize {
                        site: String::new(),
                        user: user.clone().into_bytes(),
                        requirement: "valid-user".into(),
                    };
                    match client.call(&path, &Timeouts::default(), &request).unwrap() {
                        Reply::Granted { username, .. } => assert_eq!(username, user),
                        other => panic!("{other:?}"),
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    // At most one connection per thread was ever opened, and all are idle again.
    assert!(
        (1..=8).contains(&client.idle_count()),
        "{}",
        client.idle_count()
    );
}

mod reuse {
    use std::path::Path;
    use std::time::Duration;

    use zeroize::Zeroizing;

    use crate::{Reply, Request, Reuse};

    fn login(password: &str) -> Request {
        Request::Authenticate {
            site: "demo".into(),
            user: b"alice".to_vec(),
            password: Zeroizing::new(password.as_bytes().to_vec()),
            requirement: "valid-user".into(),
        }
    }

    fn grant(reuse_ms: u32) -> Reply {
        Reply::Granted {
            username: "alice".into(),
            user_id: 1,
            groups: vec!["secret-agents".into()],
            reuse_ms,
        }
    }

    const SOCKET: &str = "/run/djauth/djauth.sock";

    #[test]
    fn a_reusable_grant_answers_only_the_same_question_on_the_same_socket() {
        let reuse = Reuse::new();
        let socket = Path::new(SOCKET);
        assert_eq!(reuse.get(socket, &login("alice-pw")), None);
        reuse.keep(socket, &login("alice-pw"), &grant(60_000));
        assert_eq!(reuse.get(socket, &login("alice-pw")), Some(grant(60_000)));
        assert_eq!(reuse.get(socket, &login("alice-pw!")), None);
        assert_eq!(
            reuse.get(Path::new("/other.sock"), &login("alice-pw")),
            None
        );
        let authorize = Request::Authorize {
            site: "demo".into(),
            user: b"alice".to_vec(),
            requirement: "group:secret-agents".into(),
        };
        assert_eq!(reuse.get(socket, &authorize), None);
        reuse.reset();
        assert_eq!(reuse.get(socket, &login("alice-pw")), None);
    }

    #[test]
    fn refusals_errors_and_unmarked_grants_are_never_kept() {
        let reuse = Reuse::new();
        let socket = Path::new(SOCKET);
        for reply in [
            grant(0),
            Reply::NotFound,
            Reply::Denied {
                reason: "wrong-password".into(),
            },
            Reply::Error {
                message: "database down".into(),
            },
        ] {
            reuse.keep(socket, &login("alice-pw"), &reply);
            assert_eq!(reuse.get(socket, &login("alice-pw")), None, "{reply:?}");
        }
        assert!(reuse.is_empty());
    }

    #[test]
    fn a_grant_expires_after_its_reuse_time() {
        let reuse = Reuse::new();
        let socket = Path::new(SOCKET);
        reuse.keep(socket, &login("alice-pw"), &grant(50));
        assert!(reuse.get(socket, &login("alice-pw")).is_some());
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(reuse.get(socket, &login("alice-pw")), None);
        assert!(reuse.is_empty());
    }

    #[test]
    fn the_number_of_kept_grants_is_bounded() {
        let reuse = Reuse::new();
        let socket = Path::new(SOCKET);
        for i in 0..10_000 {
            reuse.keep(socket, &login(&format!("pw{i}")), &grant(60_000));
            assert!(reuse.len() <= 4096);
        }
        assert!(reuse.get(socket, &login("pw9999")).is_some());
    }
}
