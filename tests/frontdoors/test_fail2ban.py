"""Case C21: brute force over Basic auth. djauth writes one line per failed
login with the client address (from the trusted proxy's X-Forwarded-For
only) and the username; the fail2ban filter of examples/fail2ban, run by the
real fail2ban-regex from Debian, must find exactly the failed logins of each
address in the daemon's real log, and nothing else."""

import collections
import os
import shutil
import subprocess

import pytest

from conftest import REPO, basic

FILTER = REPO / "examples" / "fail2ban" / "filter.d" / "djauth.conf"


def fail2ban_regex():
    path = shutil.which("fail2ban-regex") or "/usr/bin/fail2ban-regex"
    if not os.access(path, os.X_OK):
        pytest.fail("fail2ban-regex not found: install the Debian package fail2ban (scripts/test does)", pytrace=False)
    return path


def as_proxy_for(client, credentials=None, uri="/private/"):
    headers = [("X-Forwarded-For", client), ("X-Forwarded-Uri", uri), ("X-Forwarded-Method", "GET")]
    if credentials:
        headers.append(("Authorization", basic(*credentials)))
    return headers


def test_c21_fail2ban_filter_counts_failed_logins_per_client(djauth, workdir):
    attacker, scanner, former = "203.0.113.9", "198.51.100.7", "192.0.2.44"
    sequence = (
        # 50 wrong passwords for alice from one address, then the right one.
        [(attacker, ("alice", f"guess-{i}"), 401) for i in range(50)]
        + [(attacker, ("alice", "alice-pw"), 200)]
        # Unknown users from another address; a deactivated account.
        + [(scanner, (user, "x"), 401) for user in ["admin", "root", "test"]]
        + [(former, ("carol", "carol-pw"), 401)]
        # A username that tries to forge the client field counts for its sender.
        + [(attacker, ('x" client="6.6.6.6', "x"), 401)]
        # Not failed logins: a browser's first request, a user outside the group.
        + [("192.0.2.1", None, 401)]
    )
    for client, credentials, status in sequence:
        assert djauth.get("/auth", as_proxy_for(client, credentials)).status == status
    outside = djauth.get("/auth?require=group:secret-agents", as_proxy_for("192.0.2.2", ("bob", "bob-pw")))
    assert outside.status == 403

    log = workdir / "djauth-c21.log"
    text = djauth.log_text()
    log.write_text(text)
    run = subprocess.run(
        [fail2ban_regex(), "--out", "ip", str(log), str(FILTER)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    banned = collections.Counter(run.stdout.split())
    assert banned == {attacker: 51, scanner: 3, former: 1}
    # The same filter, through fail2ban-regex's summary.
    summary = subprocess.run(
        [fail2ban_regex(), str(log), str(FILTER)], capture_output=True, text=True, timeout=120
    ).stdout
    assert "Failregex: 55 total" in summary, summary
    assert "6.6.6.6" not in run.stdout
    assert "guess-" not in text and "alice-pw" not in text
