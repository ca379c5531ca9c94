"""End-to-end harness: the real djauth binary behind a private Apache 2.4.

Nothing is built here: scripts/test runs `cargo build --release` first. The
harness copies the demo database (examples/demo/db.sqlite3) to a temporary
directory, starts `djauth serve --config` on free loopback ports, starts a private
Apache on another free loopback port with examples/apache/private-httpd.conf.in
(which includes examples/apache/djauth-fcgi.conf unchanged) plus the test-only
locations of tests/e2e/test-locations.conf.in, and stops both by PID at the end.

Missing pieces (the djauth binary, apache2, mod_authnz_fcgi) fail the run;
they never skip it.
"""

import base64
import hashlib
import http.client
import time
from pathlib import Path

import pytest

from support.apache import private_apache, write_pages
from support.djauth import DjauthProcess, demo_db_copy, unix_table
from support.procs import free_port
from support.scratch import scratch_dir, watch_log

TEST_LOCATIONS_CONF = Path(__file__).resolve().parent / "test-locations.conf.in"


class Djauth(DjauthProcess):
    """`djauth serve --config FILE`: the demo database as site "demo", two listeners.

    `port` serves any requirement (DJANGO_REQUIRE from the Apache location,
    else valid-user), like `djauth serve --database URL --fastcgi ADDR`;
    `agents_port` has the requirement `group:secret-agents` fixed in the config.
    With `socket`, a [unix] listener there too. `start(db=...)` restarts on
    another database.
    """

    def __init__(self, db, workdir, log, name="djauth", socket=None):
        self.db, self.workdir = Path(db), Path(workdir)
        self.port, self.agents_port = free_port(), free_port()
        self.socket = socket
        super().__init__(self.workdir / f"{name}.toml", log, [self.port, self.agents_port], [socket] if socket else [])

    def write_config(self):
        self.config.write_text(
            "[sites.demo]\n"
            f'database = "sqlite://{self.db.resolve()}"\n'  # sqlite:// + /abs/path
            "cache_freshness = 0\n"  # tests change the database between requests
            "\n[[fastcgi]]\n"
            f'listen = "127.0.0.1:{self.port}"\n'
            "\n[[fastcgi]]\n"
            f'listen = "127.0.0.1:{self.agents_port}"\n'
            'require = "group:secret-agents"\n'
            + ("\n" + unix_table(self.socket) if self.socket else "")
        )

    def start(self, db=None, timeout=30):
        if db is not None:
            self.db = Path(db)
        self.write_config()
        with open(self.log, "ab") as log:
            log.write(f"--- starting djauth on ports {self.port}, {self.agents_port} with {self.db}\n".encode())
        return super().start(timeout)


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status, self.headers, self.body, self.elapsed = status, headers, body, elapsed

    def __repr__(self):
        return f"<Response {self.status} {dict(self.headers)!r} {self.body[:80]!r}>"


def basic(user, password):
    """The Authorization value for Basic credentials; str is sent as UTF-8, bytes as-is."""
    if isinstance(user, str):
        user = user.encode("utf-8")
    if isinstance(password, str):
        password = password.encode("utf-8")
    return b"Basic " + base64.b64encode(user + b":" + password)


class Client:
    """Raw HTTP/1.1 to the private Apache; the Authorization header is sent byte-exact."""

    def __init__(self, port):
        self.port = port

    def get(self, path, user=None, password=None, authorization=None):
        if user is not None:
            authorization = basic(user, password)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.putrequest("GET", path)
            if authorization is not None:
                conn.putheader("Authorization", authorization)
            conn.endheaders()
            start = time.perf_counter()
            resp = conn.getresponse()
            body = resp.read()
            elapsed = time.perf_counter() - start
            return Response(resp.status, resp.getheaders(), body, elapsed)
        finally:
            conn.close()


@pytest.fixture(scope="session")
def workdir():
    yield from scratch_dir("djauth-e2e-")


@pytest.fixture(scope="session")
def demo_db(workdir):
    return demo_db_copy(workdir / "db.sqlite3")


@pytest.fixture(scope="session")
def djauth(workdir, demo_db):
    log = workdir / "djauth.log"
    watch_log("djauth stderr", log)
    daemon = Djauth(demo_db, workdir, log)
    daemon.start()
    yield daemon
    daemon.stop()


def write_docs(root):
    write_pages(
        root,
        [
            "",
            "private",
            "secret-agents",
            "spaced",
            "c05-trap",
            "c05-trap-port",
            "c05-port-safe",
            "c07-chain",
            "c07-file-only",
        ],
        slash=True,
    )


def write_htpasswd(path):
    # carol is inactive in Django but has the same password in this file (C07).
    digest = base64.b64encode(hashlib.sha1(b"carol-pw").digest()).decode()
    path.write_text(f"carol:{{SHA}}{digest}\n")
    path.chmod(0o644)


@pytest.fixture(scope="session")
def apache(workdir, djauth):
    docs = workdir / "htdocs"
    write_docs(docs)
    htpasswd = workdir / "htpasswd"
    write_htpasswd(htpasswd)
    server = private_apache(
        workdir / "apache",
        docs,
        TEST_LOCATIONS_CONF.read_text(),
        DJAUTH_PORT=djauth.port,
        DJAUTH_AGENTS_PORT=djauth.agents_port,
        HTPASSWD=htpasswd,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def client(apache):
    return Client(apache.port)
