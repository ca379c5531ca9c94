"""C19: djauth's database connections stay within `pool_max_connections`.

On PostgreSQL with `pool_max_connections = 3`:

1. Bursts of 64 concurrent FastCGI checks (right password, wrong password,
   unknown user, mixed) with a generous `pool_timeout`: every answer is the
   right 200 or 401, none is 500, and the server never holds more than 3
   djauth connections. Counted two ways: pg_stat_activity sampled about every
   millisecond by an admin session (pg_session.py sample), and exactly, from
   the server's own log_connections / log_disconnections lines.
2. `pool_timeout = 1` and the pool saturated: an admin session holds an
   ACCESS EXCLUSIVE lock on auth_user, so the 3 checks that got a connection
   block inside their query; every other check fails closed with 500 after
   about a second (never 401, never 200). When the lock is released the
   blocked checks finish with their right answers and djauth answers
   normally again.
"""

import json
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import PG_SESSION, django_python
from support import fcgi
from support.dbservers import READONLY_USER
from support.djauth import Djauth

POOL = 3
BURST = 64
USERS = [("alice", "alice-pw"), ("bob", "bob-pw"), ("carol", "carol-pw")]
# Cheap preferred hasher, so the dummy hash for unknown users costs nothing
# and a burst is about the pool, not the KDF; stored hashes are PBKDF2.
HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def mixed_requests(n):
    """(username, password, expected status) in a fixed mix: right, wrong, unknown."""
    out = []
    for i in range(n):
        user, password = USERS[i % len(USERS)]
        kind = i % 3
        if kind == 0:
            out.append((user, password, 200))
        elif kind == 1:
            out.append((user, "wrong-" + password, 401))
        else:
            out.append((f"ghost{i}", password, 401))
    return out


class Timed:
    """One FastCGI check on its own thread: status and completion time."""

    def __init__(self, port, user, password, expected):
        self.port, self.user, self.password, self.expected = port, user, password, expected
        self.status = self.user_back = self.done_at = self.error = None

    def __call__(self, barrier=None):
        if barrier is not None:
            barrier.wait()
        try:
            resp = fcgi.authenticate(self.port, self.user.encode(), self.password.encode(), timeout=60)
            self.status, self.user_back = resp.status, resp.header("Variable-DJANGO_USER")
        except Exception as e:  # reported by the assertions
            self.error = repr(e)
        self.done_at = time.monotonic()
        return self


def burst(port, requests):
    """All requests at once (a barrier releases them together); returns the Timed checks."""
    checks = [Timed(port, *r) for r in requests]
    barrier = threading.Barrier(len(checks))
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        for f in [pool.submit(c, barrier) for c in checks]:
            f.result()
    return checks


class PgSession:
    """pg_session.py (sample | lock) as the admin role, until `close()`."""

    def __init__(self, db, command, *args, ready):
        self.proc = subprocess.Popen(
            [str(django_python()), str(PG_SESSION), command, db.admin, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline().strip()
        if line != ready:
            self.proc.kill()
            pytest.fail(f"pg_session.py {command}: {line!r} {self.proc.stderr.read()[-2000:]}", pytrace=False)

    def close(self):
        """Closes stdin (the session's signal to finish); returns the rest of its output."""
        out, err = self.proc.communicate(input="", timeout=30)
        assert self.proc.returncode == 0, err
        return out


def sampler(db):
    return PgSession(db, "sample", db.name, READONLY_USER, ready="ready")


def sampled(session):
    return json.loads(session.close().strip().splitlines()[-1])


class ConnectionLog:
    """Exact count of djauth's sessions from the server log (log_connections /
    log_disconnections, lines prefixed with `[pid]`), from now on."""

    def __init__(self, db):
        self.db, self.path = db, db.server.log
        self.offset = self.path.stat().st_size

    def max_concurrent(self):
        text = self.path.read_bytes()[self.offset:].decode("utf-8", "replace")
        who = f"user={READONLY_USER} database={self.db.name}"
        open_pids, peak, sessions = set(), 0, 0
        for line in text.splitlines():
            m = re.search(r"\[(\d+)\] LOG:\s+(connection authorized|disconnection):", line)
            if not m or who not in line:
                continue
            if m.group(2) == "connection authorized":
                open_pids.add(m.group(1))
                sessions += 1
                peak = max(peak, len(open_pids))
            else:
                open_pids.discard(m.group(1))
        return peak, sessions


@pytest.fixture(scope="module")
def db(django_database):
    database = django_database("postgres", "c19", {
        "users": [{"username": u, "password": p} for u, p in USERS],
    })
    server = database.server
    for sql in ["ALTER SYSTEM SET log_connections = on", "ALTER SYSTEM SET log_disconnections = on",
                "SELECT pg_reload_conf()"]:
        server.sql("postgres", sql)  # one statement per call: ALTER SYSTEM refuses a transaction
    yield database
    for sql in ["ALTER SYSTEM RESET log_connections", "ALTER SYSTEM RESET log_disconnections",
                "SELECT pg_reload_conf()"]:
        server.sql("postgres", sql)


def test_burst_stays_within_the_pool(db, workdir, summary):
    site = db.site(password_hashers=HASHERS, pool_max_connections=POOL, pool_timeout=30)
    log = ConnectionLog(db)
    with Djauth(workdir, {"site": site}, name="c19_burst") as daemon:
        session = sampler(db)
        rounds, started = [], time.monotonic()
        try:
            for _ in range(3):
                rounds.append(burst(daemon.port, mixed_requests(BURST)))
        finally:
            seen = sampled(session)
        elapsed = time.monotonic() - started
    for checks in rounds:
        wrong = [(c.user, c.expected, c.status, c.error) for c in checks if c.status != c.expected]
        assert not wrong, f"unexpected answers (want 200/401, never 500): {wrong}"
        assert all(c.user_back == c.user.encode() for c in checks if c.status == 200)
    peak, sessions = log.max_concurrent()
    summary.append(f"C19 burst: {len(rounds)} x {BURST} concurrent checks in {elapsed:.1f}s, all 200/401 as expected; "
                   f"pg_stat_activity max {seen['max']} over {seen['samples']} samples "
                   f"(histogram {seen['histogram']}); server log: {sessions} sessions, at most {peak} at once")
    assert seen["nonzero"] > 0, f"the sampler never saw a djauth connection: {seen}"
    assert seen["max"] <= POOL, seen
    assert 1 <= peak <= POOL, (peak, sessions)


def test_saturated_pool_fails_closed_and_recovers(db, workdir, summary):
    site = db.site(password_hashers=HASHERS, pool_max_connections=POOL, pool_timeout=1)
    requests = mixed_requests(12)
    with Djauth(workdir, {"site": site}, name="c19_lock") as daemon:
        assert fcgi.authenticate(daemon.port, b"alice", b"alice-pw").status == 200

        session = sampler(db)
        lock = PgSession(db, "lock", "auth_user", ready="locked")
        locked_at = time.monotonic()
        try:
            checks = [Timed(daemon.port, *r) for r in requests]
            threads = [threading.Thread(target=c) for c in checks]
            for t in threads:
                t.start()
            # the excess ones time out after pool_timeout; the 3 with a connection stay blocked
            deadline = time.monotonic() + 10
            while sum(c.done_at is not None for c in checks) < len(checks) - POOL and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.5)  # and nothing else comes back while the lock is held
            early = [c for c in checks if c.done_at is not None]
            one = Timed(daemon.port, "carol", "carol-pw", 200)()  # a new check while saturated
        finally:
            released_at = time.monotonic()
            lock.close()
        for t in threads:
            t.join(timeout=30)
        after = [Timed(daemon.port, *r)() for r in mixed_requests(6)]
        seen = sampled(session)

    early_statuses = sorted(c.status for c in early)
    late = [c for c in checks if c not in early]
    summary.append(
        f"C19 saturated (pool_timeout=1, auth_user locked {released_at - locked_at:.1f}s): "
        f"{len(early)} of {len(checks)} answered while locked, statuses {early_statuses} after "
        f"{min((c.done_at - locked_at for c in early), default=0):.1f}-{max((c.done_at - locked_at for c in early), default=0):.1f}s; "
        f"a new check while locked: {one.status}; the {len(late)} blocked ones after release: "
        f"{[(c.user, c.status) for c in late]}; after: {[c.status for c in after]}; "
        f"pg_stat_activity max {seen['max']}")
    assert len(early) == len(checks) - POOL, f"{len(early)} answered while locked, want {len(checks) - POOL}"
    assert early_statuses == [500] * len(early), "a saturated pool must fail closed: 500, never 401 or 200"
    assert one.status == 500
    assert all(c.error is None and c.status == c.expected and c.done_at >= released_at for c in late), \
        [(c.user, c.expected, c.status, c.error) for c in late]
    assert [c.status for c in after] == [r[2] for r in mixed_requests(6)], "djauth did not recover"
    assert seen["max"] <= POOL, seen
    # one error line per 500, naming the cause
    timeouts = [line for line in (workdir / "c19_lock.log").read_text().splitlines()
                if "ERROR" in line and "pool timed out" in line]
    assert len(timeouts) == len(early) + 1, timeouts
