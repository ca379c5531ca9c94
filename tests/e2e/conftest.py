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
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from support.djauth import djauth_binary
from support.procs import free_port, port_open, stop_pid, tail
from support.scratch import scratch_dir, watch_log

REPO = Path(__file__).resolve().parents[2]
DEMO_DB = REPO / "examples" / "demo" / "db.sqlite3"
EXAMPLE_CONF = REPO / "examples" / "apache" / "djauth-fcgi.conf"
PRIVATE_HTTPD_CONF = REPO / "examples" / "apache" / "private-httpd.conf.in"
TEST_LOCATIONS_CONF = Path(__file__).resolve().parent / "test-locations.conf.in"
APACHE_MODULES = Path("/usr/lib/apache2/modules")



def apache_binary():
    path = Path(os.environ.get("APACHE2", "/usr/sbin/apache2"))
    if not os.access(path, os.X_OK) or not (APACHE_MODULES / "mod_authnz_fcgi.so").exists():
        pytest.fail(
            f"Apache 2.4 with mod_authnz_fcgi not found ({path}, {APACHE_MODULES}): "
            "install the Debian package apache2 (scripts/test does)",
            pytrace=False,
        )
    return path


class Djauth:
    """`djauth serve --config FILE`: the demo database as site "demo", two listeners.

    `port` serves any requirement (DJANGO_REQUIRE from the Apache location,
    else valid-user), like `djauth serve --database URL --fastcgi ADDR`;
    `agents_port` has the requirement `group:secret-agents` fixed in the config.
    """

    def __init__(self, binary, db, workdir, log):
        self.binary, self.db, self.workdir, self.log = binary, Path(db), Path(workdir), Path(log)
        self.port, self.agents_port = free_port(), free_port()
        self.config = self.workdir / "djauth.toml"
        self.proc = None

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
        )

    def start(self, db=None, timeout=30):
        if db is not None:
            self.db = Path(db)
        self.write_config()
        with open(self.log, "ab") as log:
            log.write(f"--- starting djauth on ports {self.port}, {self.agents_port} with {self.db}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [str(self.binary), "serve", "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"djauth exited with {self.proc.returncode} at start:\n{tail(self.log)}", pytrace=False)
            if port_open(self.port) and port_open(self.agents_port):
                return
            time.sleep(0.05)
        pytest.fail(f"djauth did not listen within {timeout}s:\n{tail(self.log)}", pytrace=False)

    def stop(self):
        stop_pid(self.proc)
        deadline = time.monotonic() + 10
        while (port_open(self.port) or port_open(self.agents_port)) and time.monotonic() < deadline:
            time.sleep(0.05)


class Apache:
    """A private Apache 2.4 (own ServerRoot, loopback port) in the foreground."""

    def __init__(self, binary, root, conf, port, log):
        self.binary, self.root, self.conf, self.port, self.log = binary, root, conf, port, log
        self.proc = None

    def start(self, timeout=30):
        # As root, the config switches the children to nobody/nogroup.
        args = [str(self.binary), "-f", str(self.conf)] + (["-DDJAUTH_AS_ROOT"] if os.geteuid() == 0 else [])
        check = subprocess.run(args + ["-t"], capture_output=True, text=True)
        if check.returncode != 0:
            pytest.fail(f"apache2 -t rejected {self.conf}:\n{check.stdout}{check.stderr}", pytrace=False)
        with open(self.root / "apache.stderr", "ab") as err:
            self.proc = subprocess.Popen(
                args + ["-DFOREGROUND"],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"apache2 exited with {self.proc.returncode} at start:\n"
                    f"{tail(self.root / 'apache.stderr')}\n{tail(self.log)}",
                    pytrace=False,
                )
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"apache2 did not answer on 127.0.0.1:{self.port} within {timeout}s:\n{tail(self.log)}", pytrace=False)

    def stop(self):
        stop_pid(self.proc, timeout=20)


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
    if not DEMO_DB.exists():
        pytest.fail(f"{DEMO_DB} is missing: run scripts/make-demo-db", pytrace=False)
    db = workdir / "db.sqlite3"
    shutil.copyfile(DEMO_DB, db)
    return db


@pytest.fixture(scope="session")
def djauth(workdir, demo_db):
    log = workdir / "djauth.log"
    watch_log("djauth stderr", log)
    daemon = Djauth(djauth_binary(), demo_db, workdir, log)
    daemon.start()
    yield daemon
    daemon.stop()


def fill(template, values):
    for key, value in values.items():
        template = template.replace(f"@{key}@", str(value))
    directives = "\n".join(line for line in template.splitlines() if not line.lstrip().startswith("#"))
    leftover = re.findall(r"@[A-Z_]+@", directives)
    assert not leftover, f"unfilled placeholders: {leftover}"
    return template


def write_docs(root):
    for sub in [
        "",
        "private",
        "secret-agents",
        "spaced",
        "c05-trap",
        "c05-trap-port",
        "c05-port-safe",
        "c07-chain",
        "c07-file-only",
    ]:
        d = root / sub
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o755)
        page = d / "index.html"
        page.write_text(f"page:/{sub + '/' if sub else ''}\n")
        page.chmod(0o644)


def write_htpasswd(path):
    # carol is inactive in Django but has the same password in this file (C07).
    digest = base64.b64encode(hashlib.sha1(b"carol-pw").digest()).decode()
    path.write_text(f"carol:{{SHA}}{digest}\n")
    path.chmod(0o644)


@pytest.fixture(scope="session")
def apache(workdir, djauth):
    binary = apache_binary()
    root = workdir / "apache"
    root.mkdir()
    root.chmod(0o755)
    docs = workdir / "htdocs"
    write_docs(docs)
    htpasswd = workdir / "htpasswd"
    write_htpasswd(htpasswd)
    port = free_port()
    conf_text = fill(
        PRIVATE_HTTPD_CONF.read_text() + "\n" + TEST_LOCATIONS_CONF.read_text(),
        {
            "SERVER_ROOT": root,
            "HTTP_PORT": port,
            "MODULES": APACHE_MODULES,
            "DOC_ROOT": docs,
            "DJAUTH_PORT": djauth.port,
            "DJAUTH_AGENTS_PORT": djauth.agents_port,
            "EXAMPLE_CONF": EXAMPLE_CONF,
            "HTPASSWD": htpasswd,
        },
    )
    conf = root / "httpd.conf"
    conf.write_text(conf_text)
    watch_log("apache error.log", root / "error.log")
    watch_log("apache access.log", root / "access.log")
    server = Apache(binary, root, conf, port, root / "error.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def client(apache):
    return Client(apache.port)

