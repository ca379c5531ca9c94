"""How djauth reaches PostgreSQL and MariaDB: Unix sockets, and case C20, the
database closes idle connections, restarts, or goes away while djauth runs.

djauth keeps pooled connections; after the server closed them or restarted
they are dead. The next request must still be answered correctly (stale
connection detected, reconnect), a request while the server is down must be
500 (never 401, which makes clients re-prompt and fail2ban ban, and never
200), and djauth must recover by itself when the server is back.

Uses the Django 5.2 `auth.User` fixture database of the conformance run and
its "legacy" site (MD5 first, so unknown users cost nothing).
"""

import time

import pytest

from support import fcgi
from support.djauth import Djauth


def ask(port, user=b"alice", password=b"pw-alice"):
    return fcgi.authenticate(port, user, password, site="legacy").status


def eventually(port, want, seconds=10):
    """The status, retried for a few seconds until it is `want` (reconnect back-off)."""
    deadline = time.monotonic() + seconds
    while True:
        got = ask(port)
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_idle_connections_closed_by_the_server(backend, built_databases, workdir):
    db = built_databases("5.2", backend, "default")
    db.server.set_idle_timeout(1)  # MySQL wait_timeout / PostgreSQL idle_session_timeout
    try:
        with Djauth(workdir, {"legacy": db.site_settings("legacy")}, name=f"idle_{backend}") as daemon:
            assert ask(daemon.port) == 200
            time.sleep(2.5)  # the server has closed djauth's idle connections
            assert ask(daemon.port) == 200
            assert ask(daemon.port, password=b"wrong") == 401
    finally:
        db.server.set_idle_timeout(None)


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_database_restart_while_djauth_runs(backend, built_databases, workdir):
    db = built_databases("5.2", backend, "default")
    site = dict(db.site_settings("legacy"), pool_timeout=2)  # a down server fails in 2 s, not 5
    with Djauth(workdir, {"legacy": site}, name=f"restart_{backend}") as daemon:
        assert ask(daemon.port) == 200
        assert ask(daemon.port, password=b"wrong") == 401

        pid = db.server.pid
        db.server.restart()
        assert db.server.pid != pid
        # the pooled connections died with the old server: the very next request is right
        assert ask(daemon.port) == 200
        assert ask(daemon.port, password=b"wrong") == 401

        db.server.stop()
        try:
            down = [ask(daemon.port), ask(daemon.port, password=b"wrong"), ask(daemon.port, user=b"nosuchuser")]
        finally:
            db.server.start()
        assert down == [500, 500, 500], "database down must be 500: never 401, never 200"

        assert eventually(daemon.port, 200) == 200, "djauth did not recover when the database came back"
        assert ask(daemon.port, password=b"wrong") == 401


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_unix_socket_url(backend, built_databases, workdir):
    db = built_databases("5.2", backend, "default")
    site = dict(db.site_settings("legacy"), database=db.server.readonly_socket_url(db.name))
    with Djauth(workdir, {"legacy": site}, name=f"socket_{backend}") as daemon:
        assert ask(daemon.port) == 200
        assert ask(daemon.port, password=b"wrong") == 401
        assert ask(daemon.port, user=b"nosuchuser") == 401
