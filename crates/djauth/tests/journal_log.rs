//! Under systemd's journal, which stamps every line itself, djauth's log
//! lines carry no timestamp of their own; elsewhere they start with one.
//! (The fail2ban filter of examples/fail2ban matches both forms.)

mod harness;

use harness::{Daemon, ScratchDir, demo_config, demo_database, serve_args};

const LISTENER: &str = "[[fastcgi]]\nlisten = \"127.0.0.1:0\"\nsite = \"demo\"\n";

fn ready_line(daemon: &Daemon) -> String {
    daemon
        .wait_for_line(|line| line.contains("djauth is ready"), harness::STARTUP)
        .unwrap_or_else(|| panic!("djauth did not get ready:\n{}", daemon.log()))
}

#[test]
fn journal_lines_have_no_timestamp_other_lines_do() {
    let dir = ScratchDir::new("djauth-journal");
    let db = demo_database(dir.path());
    let config = demo_config(&dir, &db, LISTENER);
    let journal = Daemon::spawn_under_journal(dir, &serve_args(&config));
    let line = ready_line(&journal);
    assert!(line.trim_start().starts_with("INFO "), "{line:?}");

    let dir = ScratchDir::new("djauth-journal");
    let db = demo_database(dir.path());
    // JOURNAL_STREAM inherited from a parent whose stderr was the journal,
    // while this stderr is a pipe: not the journal.
    let plain = Daemon::serve_config(dir, &db, LISTENER, &[("JOURNAL_STREAM", "8:12345")]);
    let line = ready_line(&plain);
    let (stamp, rest) = line.split_once(' ').unwrap();
    assert!(
        stamp.len() >= 20 && stamp.starts_with("20") && stamp.ends_with('Z'),
        "{line:?}"
    );
    assert!(rest.trim_start().starts_with("INFO "), "{line:?}");
}
