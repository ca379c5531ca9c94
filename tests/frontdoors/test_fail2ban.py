"""Case C21: brute force over Basic auth. djauth writes one line per failed
login with the client address (from the trusted proxy's X-Forwarded-For
only) and the username. The filter and jail of examples/fail2ban, installed
into a copy of Debian's /etc/fail2ban and read by the real fail2ban tools,
must find exactly the failed logins of each address in the daemon's real
log, and nothing else: as a log file, and as the systemd journal presents
the same lines (the jail's backend)."""

import ast
import collections
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, basic

EXAMPLES = REPO / "examples" / "fail2ban"

ATTACKER, SCANNER, FORMER = "203.0.113.9", "198.51.100.7", "192.0.2.44"
SPREAD = [f"100.64.{i // 10}.{i % 10 + 1}" for i in range(50)]
# What the filter must count for the sequence run by `c21_log`, per address.
EXPECTED = {ATTACKER: 51, SCANNER: 3, FORMER: 1, **{address: 1 for address in SPREAD}}


def fail2ban_tool(name):
    path = shutil.which(name) or f"/usr/bin/{name}"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} not found: install the Debian package fail2ban (scripts/test does)", pytrace=False)
    return path


def as_proxy_for(client, credentials=None, uri="/private/"):
    headers = [("X-Forwarded-For", client), ("X-Forwarded-Uri", uri), ("X-Forwarded-Method", "GET")]
    if credentials:
        headers.append(("Authorization", basic(*credentials)))
    return headers


@pytest.fixture(scope="module")
def fail2ban_config(workdir):
    """Debian's fail2ban configuration with the examples installed as the
    README says: filter.d/djauth.conf and jail.d/djauth.conf."""
    config = workdir / "fail2ban"
    shutil.copytree("/etc/fail2ban", config)
    for part in ["filter.d", "jail.d"]:
        shutil.copy(EXAMPLES / part / "djauth.conf", config / part / "djauth.conf")
    return config


@pytest.fixture(scope="module")
def c21_log(djauth, workdir):
    """Runs C21's requests through the proxy-facing HTTP door; returns the
    daemon's log file."""
    sequence = (
        # 50 wrong passwords for alice from one address, then the right one.
        [(ATTACKER, ("alice", f"guess-{i}"), 401) for i in range(50)]
        + [(ATTACKER, ("alice", "alice-pw"), 200)]
        # One wrong password for alice from each of 50 addresses.
        + [(address, ("alice", f"spread-{address}"), 401) for address in SPREAD]
        # Unknown users from another address; a deactivated account.
        + [(SCANNER, (user, "x"), 401) for user in ["admin", "root", "test"]]
        + [(FORMER, ("carol", "carol-pw"), 401)]
        # A username that tries to forge the client field counts for its sender.
        + [(ATTACKER, ('x" client="6.6.6.6', "x"), 401)]
        # Not failed logins: a browser's first request, a user outside the group.
        + [("192.0.2.1", None, 401)]
    )
    for client, credentials, status in sequence:
        assert djauth.get("/auth", as_proxy_for(client, credentials)).status == status, (client, credentials)
    outside = djauth.get("/auth?require=group:secret-agents", as_proxy_for("192.0.2.2", ("bob", "bob-pw")))
    assert outside.status == 403
    log = workdir / "djauth-c21.log"
    log.write_text(djauth.log_text())
    return log


def counted(run):
    assert run.returncode == 0, run.stdout + run.stderr
    return collections.Counter(run.stdout.split())


def test_c21_log_file_counts_failed_logins_per_client(c21_log, fail2ban_config):
    regex = fail2ban_tool("fail2ban-regex")
    run = subprocess.run(
        [regex, "--config", str(fail2ban_config), "--out", "ip", str(c21_log), "djauth"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert counted(run) == EXPECTED
    # The same filter, through fail2ban-regex's summary: every line dated.
    summary = subprocess.run(
        [regex, "--config", str(fail2ban_config), str(c21_log), "djauth"], capture_output=True, text=True, timeout=120
    ).stdout
    assert f"Failregex: {sum(EXPECTED.values())} total" in summary, summary
    assert "6.6.6.6" not in run.stdout
    text = c21_log.read_text()
    assert "guess-" not in text and "spread-" not in text and "alice-pw" not in text


def journal_form(log_text):
    """The log as fail2ban's systemd backend presents each entry to the
    filter (FilterSystemd.formatJournalEntry: "host identifier[pid]: message",
    the date taken from the journal): djauth under the journal writes no
    timestamp of its own (crates/djauth/tests/journal_log.rs)."""
    lines = []
    for line in log_text.splitlines():
        stamp, _, message = line.partition(" ")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", stamp), line
        lines.append(f"files djauth[4242]: {message}")
    return "\n".join(lines) + "\n"


def test_c21_the_jail_reads_the_journal_form(c21_log, fail2ban_config, workdir):
    # The jail as fail2ban-client builds it: journal backend, djauth's unit,
    # and the filter with the journal's line prefix.
    dump = subprocess.run(
        [fail2ban_tool("fail2ban-client"), "--conf", str(fail2ban_config), "-d"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dump.returncode == 0, dump.stdout + dump.stderr
    commands = [ast.literal_eval(line) for line in dump.stdout.splitlines() if line.startswith("['")]
    jail = [c for c in commands if len(c) > 1 and c[1] == "djauth"]
    assert ["add", "djauth", "systemd"] in jail, dump.stdout
    assert ["set", "djauth", "addjournalmatch", "_SYSTEMD_UNIT=djauth.service"] in jail
    assert ["set", "djauth", "maxretry", 10] in jail
    (failregex,) = [c[3] for c in jail if c[2:3] == ["addfailregex"]]
    assert "djauth" in failregex  # the journal prefix names the identifier

    journal = workdir / "djauth-c21.journal"
    journal.write_text(journal_form(c21_log.read_text()))
    run = subprocess.run(
        [fail2ban_tool("fail2ban-regex"), "--datepattern", "{NONE}", "--out", "ip", str(journal), failregex],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert counted(run) == EXPECTED
    banned = {address for address, failures in counted(run).items() if failures >= 10}
    # maxretry 10 per address: the one brute-forcing address; one failure from
    # each of 50 addresses stays under every address's limit (fail2ban counts
    # per address; djauth has no lockout of its own, README).
    assert banned == {ATTACKER}
