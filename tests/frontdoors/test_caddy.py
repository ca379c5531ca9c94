"""Real Caddy from Debian (`caddy`, forward_auth) in front of the real
djauth, configured with examples/caddy/Caddyfile: the file is validated as
it is, then served with only its site address, djauth's address, the
application's address and the document root replaced. The "application"
is a second site of the same Caddy that echoes the identity headers it
receives."""

import os
import subprocess
import time

import pytest

from conftest import CHALLENGE, REPO, basic, get, replace_once, write_docs
from support.procs import free_port, port_open, stop_pid, tail
from support.scratch import watch_log

CADDYFILE = REPO / "examples" / "caddy" / "Caddyfile"


def caddy_binary():
    path = os.environ.get("CADDY", "/usr/bin/caddy")
    if not os.access(path, os.X_OK):
        pytest.fail(f"caddy not found at {path}: install the Debian package caddy (scripts/test does)", pytrace=False)
    return path


def caddy_env(root):
    """Caddy keeps its state under XDG directories: private ones here."""
    return dict(os.environ, XDG_DATA_HOME=str(root / "data"), XDG_CONFIG_HOME=str(root / "config"), HOME=str(root))


@pytest.fixture(scope="module")
def caddy(workdir, djauth):
    root = workdir / "caddy"
    root.mkdir()
    docs = workdir / "htdocs"
    write_docs(docs)
    port, app_port = free_port(), free_port()
    site = CADDYFILE.read_text()
    for old, new in [
        ("files.example.org {", f"http://127.0.0.1:{port} {{"),
        ("127.0.0.1:9100", f"127.0.0.1:{djauth.port}"),
        ("reverse_proxy 127.0.0.1:8000", f"reverse_proxy 127.0.0.1:{app_port}"),
        ("root * /srv/www", f"root * {docs}"),
    ]:
        site = replace_once(site, old, new, CADDYFILE.name)
    conf = root / "Caddyfile"
    conf.write_text(
        "{\n\tadmin off\n\tauto_https off\n}\n\n"
        + site
        + f"\nhttp://127.0.0.1:{app_port} {{\n"
        + '\trespond "app user=[{http.request.header.X-Django-User}] '
        + 'groups=[{http.request.header.X-Django-Groups}] uri={http.request.uri}\n" 200\n}\n'
    )
    log = root / "caddy.log"
    watch_log("caddy log", log)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [caddy_binary(), "run", "--config", str(conf), "--adapter", "caddyfile"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=caddy_env(root),
        )
    deadline = time.monotonic() + 30
    while not (port_open(port) and port_open(app_port)):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_pid(proc)
            pytest.fail(f"caddy did not start:\n{tail(log)}", pytrace=False)
        time.sleep(0.05)
    yield port
    stop_pid(proc)


def test_the_example_is_valid_as_it_is(workdir):
    root = workdir / "validate"
    root.mkdir()
    out = subprocess.run(
        [caddy_binary(), "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=caddy_env(root),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Valid configuration" in out.stdout + out.stderr


def test_c23_the_challenge_reaches_the_client(caddy):
    for headers in ([], [("Authorization", basic("alice", "wrong"))]):
        reply = get(caddy, "/private/report", headers)
        assert reply.status == 401
        assert reply.all("WWW-Authenticate") == [CHALLENGE]
        assert b"app user" not in reply.body


def test_the_stored_identity_reaches_the_application(caddy):
    reply = get(caddy, "/private/report?x=1", [("Authorization", basic("alice", "alice-pw"))])
    assert reply.status == 200
    assert reply.body == b"app user=[alice] groups=[secret-agents] uri=/private/report?x=1\n"
    # Identity headers the client sends are replaced by djauth's.
    reply = get(
        caddy,
        "/private/",
        [("Authorization", basic("bob", "bob-pw")), ("X-Django-User", "frank"), ("X-Django-Groups", "staff-team")],
    )
    assert reply.status == 200
    assert reply.body.startswith(b"app user=[bob] groups=[] ")


def test_group_location(caddy):
    granted = get(caddy, "/secret-agents/", [("Authorization", basic("alice", "alice-pw"))])
    assert (granted.status, granted.body) == (200, b"file:/secret-agents/\n")
    # erin is in "secret agents" (with a space), not "secret-agents".
    forbidden = get(caddy, "/secret-agents/", [("Authorization", basic("erin", "erin-pw"))])
    assert forbidden.status == 403
    assert forbidden.header("WWW-Authenticate") is None
    for user, password in [("carol", "carol-pw"), ("ghost", "x")]:
        assert get(caddy, "/secret-agents/", [("Authorization", basic(user, password))]).status == 401
