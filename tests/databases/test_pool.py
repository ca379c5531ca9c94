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

And the case's trigger as written, with `pool_max_connections = 8`: 256
concurrent clients send 10,000 requests mixing right password, wrong
password, unknown user and a query the server refuses (500); the server
never holds more than 8 djauth sessions, they are opened once and reused
(none opened in the last 1,000 answers), and all of them are idle afterwards
(test_c19_ten_thousand_requests_from_256_clients).
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

    def __init__(self, port, user, password, expected, require=None):
        self.port, self.user, self.password, self.expected, self.require = port, user, password, expected, require
        self.status = self.user_back = self.started_at = self.done_at = self.error = None

    def __call__(self, barrier=None):
        if barrier is not None:
            barrier.wait()
        self.started_at = time.monotonic()
        try:
            resp = fcgi.authenticate(self.port, self.user.encode(), self.password.encode(), require=self.require,
                                     timeout=60)
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

    def position(self):
        """Where the log ends now (for `between`)."""
        return self.path.stat().st_size

    def between(self, start=None, end=None):
        """(peak open at once, sessions opened, open at `end`) for the log from
        `start` (default: when this log was made) to `end` (default: now);
        sessions opened before `start` and still open count as open."""
        data = self.path.read_bytes()
        # a position taken while the server was writing may fall inside a line: that line goes after it
        start = self.offset if start is None else max(self.offset, data.rfind(b"\n", 0, start) + 1)
        end = len(data) if end is None else data.rfind(b"\n", 0, end) + 1
        who = f"user={READONLY_USER} database={self.db.name}"
        open_pids, peak, sessions = set(), 0, 0
        for counting, text in ((False, data[self.offset:start]), (True, data[start:end])):
            peak = len(open_pids)
            for line in text.decode("utf-8", "replace").splitlines():
                m = re.search(r"\[(\d+)\] LOG:\s+(connection authorized|disconnection):", line)
                if not m or who not in line:
                    continue
                if m.group(2) == "connection authorized":
                    open_pids.add(m.group(1))
                    sessions += counting
                    peak = max(peak, len(open_pids))
                else:
                    open_pids.discard(m.group(1))
        return peak, sessions, len(open_pids)

    def max_concurrent(self):
        peak, sessions, _ = self.between()
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


# C19 as written: 256 concurrent clients, 10,000 requests, pool of 8.
C19_POOL = 8
C19_CLIENTS = 256
C19_TOTAL = 10_000
C19_WINDOW = 1_000  # "the first and the last thousand requests"
C19_IDLE = 3  # pool_idle_timeout (seconds): long enough for the run, short enough to see the pool drain
# A requirement that makes djauth run its permissions query (users are not superusers).
NEEDS_PERMISSIONS = "perm:svn.commit_repo"
# The table the erroring query reads and the read-only role loses SELECT on.
DENIED_TABLE = "auth_permission"


def c19_requests(n):
    """(username, password, expected status, DJANGO_REQUIRE) in a fixed four-way mix:
    right password (200), wrong password (401), unknown user (401), and the right
    password at a location requiring a permission, whose query the server refuses (500)."""
    out = []
    for i in range(n):
        user, password = USERS[(i // 4) % len(USERS)]
        kind = i % 4
        if kind == 0:
            out.append((user, password, 200, None))
        elif kind == 1:
            out.append((user, "wrong-" + password, 401, None))
        elif kind == 2:
            out.append((f"ghost{i}", password, 401, None))
        else:
            out.append((user, password, 500, NEEDS_PERMISSIONS))
    return out


def clients(port, requests, n_clients, log, marks):
    """`n_clients` threads, released together by a barrier, each sending its share
    of `requests` one after the other (one FastCGI connection per request, as
    mod_authnz_fcgi does), so `n_clients` checks are in flight until the last
    ones. When the number of answers reaches a count in `marks`, the server log's
    position is noted there. Returns the Timed checks, in request order."""
    checks = [Timed(port, *r) for r in requests]
    barrier = threading.Barrier(n_clients)
    counter = {"done": 0}
    counting = threading.Lock()

    def client(k):
        barrier.wait()
        for check in checks[k::n_clients]:
            check()
            with counting:
                counter["done"] += 1
                if counter["done"] in marks:
                    marks[counter["done"]] = log.position()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return checks


def djauth_backends(db):
    """{state: count} of djauth's sessions in pg_stat_activity, as the admin sees them now."""
    out = db.sql(f"SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity WHERE datname = '{db.name}' "
                 f"AND (usename = '{READONLY_USER}' OR application_name = 'djauth') GROUP BY 1 ORDER BY 1")
    return {state: int(n) for state, n in (line.split("|") for line in out.split() if "|" in line)}


def test_c19_ten_thousand_requests_from_256_clients(db, workdir, summary):
    """C19's trigger as written: `pool_max_connections = 8`, 256 concurrent
    FastCGI clients (threads, one connection per request), 10,000 requests: a
    quarter each right password (200), wrong password (401), unknown user
    (401), and a query that errors (500).

    The erroring query: after djauth has started (its start-up check runs every
    query), the read-only role loses SELECT on auth_permission, as when a grant
    is forgotten or a table is re-created by a migration. The permissions query
    then fails on the server (SQLSTATE 42501, "permission denied for table
    auth_permission") for exactly the requests whose location requires a
    permission (`DJANGO_REQUIRE=perm:svn.commit_repo`, right password, a user
    who is not a superuser); every other request reads only auth_user and the
    group tables. Each of those must answer 500, never 401 or 200, and one
    error line is logged per 500.

    `cache_freshness = 0`, so no user row or group list is reused: every one of
    the 10,000 requests reads the database (one to three queries) and all of
    them go through the pool of 8. `pool_timeout` is the default (5 s): the
    excess clients queue for a connection.

    Checked: every answer is its expected status; the server never holds more
    than 8 djauth sessions (pg_stat_activity sampled about every millisecond,
    and exactly from log_connections / log_disconnections); sessions are
    reused, not opened per request: the sessions opened over the run stay
    within the pool size, none are opened during the last 1,000 answers, and
    as many are open after the last 1,000 answers as after the first 1,000;
    afterwards every djauth session the server holds is idle (no query running,
    no transaction left open) and their number, at most 8, is the one the log
    says is open; and with `pool_idle_timeout = 3` the pool then closes every
    one of them (the idle minimum is none) while djauth keeps running.
    """
    site = db.site(password_hashers=HASHERS, pool_max_connections=C19_POOL, cache_freshness=0,
                   pool_idle_timeout=C19_IDLE)
    requests = c19_requests(C19_TOTAL)
    log = ConnectionLog(db)  # before djauth starts, so its start-up session is counted too
    marks = {C19_WINDOW: None, C19_TOTAL - C19_WINDOW: None}
    with Djauth(workdir, {"site": site}, name="c19_10k") as daemon:
        db.sql(f"REVOKE SELECT ON {DENIED_TABLE} FROM {READONLY_USER}")
        try:
            # the error is there, and only for the permission-requiring location
            probe = [Timed(daemon.port, *r)() for r in c19_requests(4)]
            assert [c.status for c in probe] == [200, 401, 401, 500], [(c.status, c.error) for c in probe]
            session = sampler(db)
            started_at, at_start = time.monotonic(), log.position()
            try:
                checks = clients(daemon.port, requests, C19_CLIENTS, log, marks)
                at_end = log.position()
            finally:
                seen = sampled(session)
            elapsed = time.monotonic() - started_at
        finally:
            db.sql(f"GRANT SELECT ON {DENIED_TABLE} TO {READONLY_USER}")
        time.sleep(0.5)  # let the last answers' connections go back to the pool
        idle = djauth_backends(db)
        _, _, open_idle = log.between(at_start)
        after = [Timed(daemon.port, *r)() for r in c19_requests(4)]  # grant restored: the permission is simply not met
        # With nothing to do, the pool closes its connections after pool_idle_timeout.
        drained_at = time.monotonic()
        while djauth_backends(db) and time.monotonic() - drained_at < 5 * C19_IDLE:
            time.sleep(0.2)
        drained = djauth_backends(db)
        drained_in = time.monotonic() - drained_at
        daemon_log = (workdir / "c19_10k.log").read_text()

    wrong = [(i, c.user, c.require, c.expected, c.status, c.error) for i, c in enumerate(checks)
             if c.status != c.expected]
    statuses = {}
    for c in checks:
        statuses[c.status] = statuses.get(c.status, 0) + 1
    latencies = sorted(c.done_at - c.started_at for c in checks if c.done_at and c.started_at)
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    peak, opened, _ = log.between()  # whole life of the daemon, start-up included
    _, run_opened, _ = log.between(at_start, at_end)
    _, first_opened, open_after_first = log.between(at_start, marks[C19_WINDOW])
    _, last_opened, open_after_last = log.between(marks[C19_TOTAL - C19_WINDOW], at_end)
    denied_lines = [line for line in daemon_log.splitlines()
                    if "ERROR" in line and f"permission denied for table {DENIED_TABLE}" in line]
    summary.append(
        f"C19 10k: {C19_TOTAL} requests from {C19_CLIENTS} concurrent clients, pool {C19_POOL}, in {elapsed:.1f}s "
        f"({C19_TOTAL / elapsed:.0f}/s); statuses {dict(sorted(statuses.items()))}; latency p50 {quantile(0.5) * 1000:.0f}ms "
        f"p99 {quantile(0.99) * 1000:.0f}ms max {latencies[-1] * 1000:.0f}ms; pg_stat_activity max {seen['max']} over "
        f"{seen['samples']} samples (histogram {seen['histogram']}); server log: {opened} sessions opened in the "
        f"daemon's life (at most {peak} at once), {run_opened} during the run; first {C19_WINDOW} answers: "
        f"{first_opened} opened, {open_after_first} open after; last {C19_WINDOW}: {last_opened} opened, "
        f"{open_after_last} open after; idle afterwards: {idle}; {len(denied_lines)} 'permission denied' error lines; "
        f"with pool_idle_timeout = {C19_IDLE}: {drained or 'no'} djauth sessions {drained_in:.1f}s after the last request")
    assert not wrong, f"{len(wrong)} unexpected answers (first 20): {wrong[:20]}"
    assert statuses == {200: C19_TOTAL // 4, 401: C19_TOTAL // 2, 500: C19_TOTAL // 4}, statuses
    assert all(c.user_back == c.user.encode() for c in checks if c.status == 200)
    assert len(denied_lines) == C19_TOTAL // 4 + 1, f"{len(denied_lines)} error lines for {C19_TOTAL // 4 + 1} 500s"
    assert [c.status for c in after] == [200, 401, 401, 403], [(c.status, c.error) for c in after]
    # never more than the pool, on either count
    assert seen["nonzero"] > 0, f"the sampler never saw a djauth connection: {seen}"
    assert seen["max"] <= C19_POOL, seen
    assert 1 <= peak <= C19_POOL, (peak, opened)
    # reused, not one per request, and no growth between the first and the last thousand
    assert opened <= C19_POOL, f"{opened} sessions opened for {C19_TOTAL} requests"
    assert last_opened == 0, f"{last_opened} sessions opened during the last {C19_WINDOW} answers"
    assert open_after_last == open_after_first, (open_after_first, open_after_last)
    # afterwards: at most the pool, all idle, and what the log says is open
    assert set(idle) == {"idle"}, f"djauth sessions not idle after the run: {idle}"
    assert sum(idle.values()) == open_idle <= C19_POOL, (idle, open_idle)
    # and back to the idle minimum, no connection at all, while djauth runs on
    assert drained == {}, f"djauth sessions {drained_in:.1f}s after the last request: {drained}"
