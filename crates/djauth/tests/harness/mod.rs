//! What the integration tests of the `djauth` binary share: a scratch
//! directory with a copy of the demo database, and a running `djauth` whose
//! stderr is kept line by line, echoed to the test's output, and killed when
//! the test drops it.
//!
//! Included with `mod harness;` from each test file.

// Each test file includes the whole module but uses only part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a daemon may take to announce its listeners.
pub const STARTUP: Duration = Duration::from_secs(20);

/// A fresh, empty directory under the temp dir, removed with its contents on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// `<temp>/<prefix>-<pid>-<n>`, with `n` counting up within the test binary;
    /// a leftover of a crashed run with the same name is emptied first.
    pub fn new(prefix: &str) -> ScratchDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies `examples/demo/db.sqlite3` to `dir/db.sqlite3` and returns that path.
pub fn demo_database(dir: &Path) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/db.sqlite3");
    let db = dir.join("db.sqlite3");
    std::fs::copy(&demo, &db).unwrap();
    db
}

/// Plants stored password values and other bad data in a copy of the demo database.
pub fn edit_database(path: &Path, passwords: &[(&str, &str)], statements: &[&str]) {
    if passwords.is_empty() && statements.is_empty() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .connect()
            .await
            .unwrap();
        for (username, encoded) in passwords {
            let done = sqlx::query("UPDATE auth_user SET password = ? WHERE username = ?")
                .bind(*encoded)
                .bind(*username)
                .execute(&mut conn)
                .await
                .unwrap();
            assert_eq!(done.rows_affected(), 1, "{username}");
        }
        for statement in statements {
            sqlx::query(sqlx::AssertSqlSafe(*statement))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    });
}

/// Writes `dir/djauth.toml`: two KDF workers, the site `demo` on the SQLite
/// database `db`, then `listeners` (TOML tables such as `[[fastcgi]]`) as
/// given; returns its path.
pub fn demo_config(dir: &ScratchDir, db: &Path, listeners: &str) -> PathBuf {
    let config = format!(
        "kdf_workers = 2\n[sites.demo]\ndatabase = \"sqlite://{}\"\n{listeners}",
        db.display()
    );
    let path = dir.path().join("djauth.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// The arguments of `djauth serve --config path`.
pub fn serve_args(path: &Path) -> [&OsStr; 3] {
    [
        OsStr::new("serve"),
        OsStr::new("--config"),
        path.as_os_str(),
    ]
}

/// The `djauth` binary under test.
pub fn djauth() -> Command {
    Command::new(env!("CARGO_BIN_EXE_djauth"))
}

/// A TCP connection to `addr` whose reads give up after 30 s.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// The stderr lines of a daemon so far, and whether its stderr has closed.
#[derive(Default)]
struct Log {
    lines: Mutex<(Vec<String>, bool)>,
    grew: Condvar,
}

/// A running `djauth` with its stderr captured; killed on drop, and then its
/// scratch directory removed.
pub struct Daemon {
    child: Child,
    log: Arc<Log>,
    // Dropped after `Drop::drop` has killed the child.
    dir: ScratchDir,
}

impl Daemon {
    /// Starts `djauth args…` with `env` added to the environment, stdin and
    /// stdout null; owns `dir` from now on.
    pub fn spawn(dir: ScratchDir, args: &[&OsStr], env: &[(&str, &str)]) -> Daemon {
        Daemon::start(dir, args, env, false)
    }

    /// Like [`Daemon::spawn`], but stderr is announced as systemd's journal:
    /// `JOURNAL_STREAM` names the device and inode of the stderr pipe, as
    /// systemd does for `StandardError=journal`.
    pub fn spawn_under_journal(dir: ScratchDir, args: &[&OsStr]) -> Daemon {
        Daemon::start(dir, args, &[], true)
    }

    fn start(dir: ScratchDir, args: &[&OsStr], env: &[(&str, &str)], journal: bool) -> Daemon {
        let (stderr, writer) = std::io::pipe().unwrap();
        let mut command = djauth();
        if journal {
            use std::os::fd::AsRawFd;
            use std::os::unix::fs::MetadataExt;
            let pipe = std::fs::metadata(format!("/proc/self/fd/{}", writer.as_raw_fd())).unwrap();
            command.env("JOURNAL_STREAM", format!("{}:{}", pipe.dev(), pipe.ino()));
        }
        let child = command
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(writer)
            .spawn()
            .unwrap();
        // The command holds the pipe's write end until it is dropped; the
        // reader below sees the end of the log only once the child's copy closes.
        drop(command);
        let log = Arc::new(Log::default());
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("{line}");
                sink.lines.lock().unwrap().0.push(line);
                sink.grew.notify_all();
            }
            sink.lines.lock().unwrap().1 = true;
            sink.grew.notify_all();
        });
        Daemon { child, log, dir }
    }

    /// `djauth serve --config dir/djauth.toml`, the configuration being
    /// [`demo_config`]'s.
    pub fn serve_config(
        dir: ScratchDir,
        db: &Path,
        listeners: &str,
        env: &[(&str, &str)],
    ) -> Daemon {
        let path = demo_config(&dir, db, listeners);
        Daemon::spawn(dir, &serve_args(&path), env)
    }

    /// The daemon's scratch directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the daemon has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// The first `count` log lines that satisfy `pred`, in order, once that
    /// many have arrived; fewer if `timeout` passes or stderr closes first.
    pub fn wait_for_lines(
        &self,
        count: usize,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut log = self.log.lines.lock().unwrap();
        loop {
            let found: Vec<String> = log
                .0
                .iter()
                .filter(|line| pred(line))
                .take(count)
                .cloned()
                .collect();
            let now = Instant::now();
            if found.len() == count || log.1 || now >= deadline {
                return found;
            }
            log = self.log.grew.wait_timeout(log, deadline - now).unwrap().0;
        }
    }

    /// The first log line that satisfies `pred`, waiting up to `timeout` for it.
    pub fn wait_for_line(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Option<String> {
        self.wait_for_lines(1, pred, timeout).pop()
    }

    /// The whole log so far, lines joined with `\n`.
    pub fn log(&self) -> String {
        self.log.lines.lock().unwrap().0.join("\n")
    }

    /// Panics if more than `at_most` refusals of `user` were logged (checks
    /// dropped unanswered are not logged), showing the log.
    pub fn assert_denials_at_most(&self, user: &str, at_most: usize) {
        let log = self.log();
        let needle = format!("user=\"{user}\"");
        let decided = log
            .lines()
            .filter(|l| l.contains("denied") && l.contains(&needle))
            .count();
        assert!(
            decided <= at_most,
            "{decided} checks of {user} were decided:\n{log}"
        );
    }

    /// The log so far, once a line containing `needle` has arrived (or after 5 s).
    pub fn log_with(&self, needle: &str) -> String {
        self.wait_for_line(|line| line.contains(needle), Duration::from_secs(5));
        self.log()
    }

    /// The `listen=` values of the first `count` lines containing
    /// `announcement` (such as "FastCGI authorizer listening"), in the order
    /// logged; panics unless all arrive within [`STARTUP`].
    pub fn listen_addresses(&self, announcement: &str, count: usize) -> Vec<String> {
        let listen = |line: &str| {
            let rest = line.split("listen=").nth(1)?;
            Some(rest.split_whitespace().next()?.to_string())
        };
        let lines = self.wait_for_lines(
            count,
            |line| line.contains(announcement) && listen(line).is_some(),
            STARTUP,
        );
        assert_eq!(
            lines.len(),
            count,
            "djauth did not start listening:\n{}",
            self.log()
        );
        lines.iter().filter_map(|line| listen(line)).collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
