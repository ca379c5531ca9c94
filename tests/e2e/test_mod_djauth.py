"""djauth behind Apache's native module mod_djauth (target/release/libmod_djauth.so),
configured by examples/apache/djauth-module.conf plus the test-only locations of
tests/e2e/module-locations.conf.in.

Its own djauth (the demo database, a [unix] socket) and its own private Apache,
both started here and stopped by PID. Users and passwords:
examples/demo/README.md. Status codes are exact: a refusal at authentication
or authorization is 401, a failure of djauth itself is 500.
"""

import base64
import hashlib
import http.client
import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import Client, Djauth, basic
from support.apache import APACHE_MODULES, apache_binary, djauth_module_conf, private_apache, write_pages
from support.djauth import demo_db_copy, mod_djauth_so as module_so, stopped
from support.procs import free_port, wait_for_log
from support.scratch import watch_log

MODULE_LOCATIONS = Path(__file__).resolve().parent / "module-locations.conf.in"
# base64 of "józef:Pässwörd-123" in UTF-8 and in Latin-1 (case C01).
JOZEF_UTF8 = b"Basic asOzemVmOlDDpHNzd8O2cmQtMTIz"
JOZEF_LATIN1 = b"Basic avN6ZWY6UORzc3f2cmQtMTIz"
LOCATIONS = [
    "dj-private",
    "dj-agents",
    "dj-spaced",
    "dj-perm",
    "dj-staff",
    "dj-superuser",
    "dj-users",
    "dj-chain",
    "dj-file-only",
    "dj-apache-user",
    "dj-unknown-site",
    "dj-chain-agents",
    "dj-c05-all",
    "dj-c05-trap",
    "dj-no-charset",
]


@pytest.fixture(scope="module")
def mod_workdir(workdir):
    path = workdir / "mod_djauth"
    path.mkdir()
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def mod_djauth_daemon(mod_workdir):
    """The e2e daemon plus a [unix] socket that Apache's children may use."""
    db = demo_db_copy(mod_workdir / "db.sqlite3")
    log = mod_workdir / "djauth.log"
    watch_log("djauth (mod_djauth) stderr", log)
    daemon = Djauth(db, mod_workdir, log, name="djauth-module", socket=mod_workdir / "djauth-module.sock")
    daemon.start()
    yield daemon
    daemon.stop()


def write_htpasswd(path):
    def sha(password):
        return "{SHA}" + base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()

    # carol is inactive in Django; harry is unknown to Django.
    path.write_text(f"carol:{sha('carol-pw')}\nharry:{sha('harry-pw')}\n")
    path.chmod(0o644)


@pytest.fixture(scope="module")
def mod_apache(mod_workdir, mod_djauth_daemon):
    docs = mod_workdir / "htdocs"
    write_pages(docs, [""] + LOCATIONS)
    htpasswd = mod_workdir / "htpasswd"
    write_htpasswd(htpasswd)
    server = private_apache(
        mod_workdir / "apache",
        docs,
        djauth_module_conf(mod_djauth_daemon.socket) + MODULE_LOCATIONS.read_text(),
        title="apache (mod_djauth)",
        DJAUTH_PORT=mod_djauth_daemon.port,
        HTPASSWD=htpasswd,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def web(mod_apache):
    return Client(mod_apache.port)


def header(resp, name):
    for key, value in resp.headers:
        if key.lower() == name.lower():
            return value.encode("latin-1").decode("utf-8")
    return None


# --- the module loads and registers ------------------------------------------


def test_module_exports_only_its_record():
    out = subprocess.run(["nm", "-D", "--defined-only", str(module_so())], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"nm not available: {out.stderr}")
    symbols = [line.split()[-1] for line in out.stdout.splitlines() if line.strip()]
    assert symbols == ["djauth_module"]


# --- AuthBasicProvider django ---------------------------------------------------


def test_no_credentials_get_the_challenge(web):
    for path in ["/dj-private/", "/dj-agents/", "/dj-perm/"]:
        resp = web.get(path)
        assert resp.status == 401, (path, resp)
        assert header(resp, "WWW-Authenticate").startswith("Basic realm="), resp


@pytest.mark.parametrize(
    "path,user,password,realm",
    [
        ("/dj-private/", None, None, "Django users"),
        ("/dj-private/", "alice", "wrong", "Django users"),
        ("/dj-private/", "ghost", "x", "Django users"),
        ("/dj-agents/", "bob", "bob-pw", "Secret agents"),  # refused by the rule
    ],
)
def test_c01_challenge_says_utf8_where_django_auth_charset_is_on(web, path, user, password, realm):
    resp = web.get(path, user, password)
    assert resp.status == 401, resp
    assert challenges(resp) == [f'Basic realm="{realm}", charset="UTF-8"'], resp


def test_django_auth_charset_off_leaves_apaches_challenge(web):
    resp = web.get("/dj-no-charset/", "alice", "wrong")
    assert resp.status == 401, resp
    assert challenges(resp) == ['Basic realm="No charset"'], resp


def challenges(resp):
    """Every WWW-Authenticate header of the response."""
    return [value for name, value in resp.headers if name.lower() == "www-authenticate"]


def test_alice_gets_in_with_her_identity(web):
    resp = web.get("/dj-private/", "alice", "alice-pw")
    assert resp.status == 200, resp
    assert resp.body == b"page:/dj-private\n"
    assert header(resp, "X-Django-User") == "alice"
    assert header(resp, "X-Django-Groups") == "secret-agents"
    assert header(resp, "X-Django-User-Id").isdigit()


@pytest.mark.parametrize(
    "user,password",
    [("alice", "wrong"), ("alice", ""), ("ghost", "alice-pw"), ("carol", "carol-pw"), ("dave", ""), ("Alice", "alice-pw")],
)
def test_refusals_are_401(web, user, password):
    assert web.get("/dj-private/", user, password).status == 401


@pytest.mark.parametrize("authorization", [JOZEF_UTF8, JOZEF_LATIN1])
def test_non_ascii_credentials(web, authorization):
    resp = web.get("/dj-private/", authorization=authorization)
    assert resp.status == 200, resp
    assert header(resp, "X-Django-User") == "józef"


def test_remote_user_is_the_stored_username(web):
    # NFKC turns the fullwidth ａｌｉｃｅ into alice; Apache's own Require user sees "alice".
    assert web.get("/dj-apache-user/", "ａｌｉｃｅ", "alice-pw").status == 200
    assert web.get("/dj-apache-user/", "erin", "erin-pw").status == 401


# --- Require django-* ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path,allowed,refused",
    [
        ("/dj-agents/", ["alice"], ["bob", "erin", "frank"]),
        ("/dj-spaced/", ["erin"], ["alice", "bob"]),
        ("/dj-perm/", ["frank"], ["alice", "bob", "erin"]),
        ("/dj-staff/", ["frank"], ["alice", "bob"]),
        ("/dj-superuser/", ["frank"], ["alice", "erin"]),
        ("/dj-users/", ["alice", "erin"], ["bob", "frank"]),
    ],
)
def test_authz_providers(web, path, allowed, refused):
    for user in allowed:
        resp = web.get(path, user, f"{user}-pw")
        assert resp.status == 200, (path, user, resp)
        assert header(resp, "X-Django-User") == user
    for user in refused:
        assert web.get(path, user, f"{user}-pw").status == 401, (path, user)
    # A wrong password never reaches the group rule.
    assert web.get(path, allowed[0], "wrong").status == 401


def test_c05_require_all_combines_valid_user_and_group(web):
    assert web.get("/dj-c05-all/", "alice", "alice-pw").status == 200
    for user, password in [("bob", "bob-pw"), ("alice", "wrong"), ("carol", "carol-pw")]:
        assert web.get("/dj-c05-all/", user, password).status == 401, user
    assert web.get("/dj-c05-all/", None, None).status == 401


def test_c05_bare_valid_user_beside_a_group_rule_lets_everybody_in(web):
    # The trap README.md warns about, shown to bite: bob is in no group.
    assert web.get("/dj-c05-trap/", "bob", "bob-pw").status == 200
    assert web.get("/dj-c05-trap/", "bob", "wrong").status == 401


# --- chaining with the file provider (C07) ------------------------------------------


def test_user_unknown_to_django_goes_on_to_the_file(web):
    resp = web.get("/dj-chain/", "harry", "harry-pw")
    assert resp.status == 200, resp
    assert header(resp, "X-Django-User") is None


def test_django_users_still_log_in_first(web):
    resp = web.get("/dj-chain/", "alice", "alice-pw")
    assert resp.status == 200, resp
    assert header(resp, "X-Django-User") == "alice"


def test_inactive_django_user_does_not_get_in_through_the_file(web, mod_apache):
    assert web.get("/dj-file-only/", "carol", "carol-pw").status == 200  # control
    assert web.get("/dj-chain/", "carol", "carol-pw").status == 401
    # LogLevel djauth:info in that location shows djauth's reason.
    assert 'user "carol" denied by djauth: inactive' in wait_for_log(mod_apache.log, "denied by djauth")


def test_refusal_reasons_are_not_logged_below_info(web, mod_apache):
    assert web.get("/dj-private/", "nobody-at-all", "x").status == 401
    wait_for_log(mod_apache.log, "nobody-at-all")
    assert '"nobody-at-all" not found by djauth' not in Path(mod_apache.log).read_text(errors="replace")


def test_a_file_user_is_not_in_a_django_group(web):
    assert web.get("/dj-chain-agents/", "harry", "harry-pw").status == 401
    assert web.get("/dj-chain-agents/", "alice", "alice-pw").status == 200


# --- errors are 500 ----------------------------------------------------------------


def test_unknown_site_is_500(web, mod_apache):
    assert web.get("/dj-unknown-site/", "alice", "alice-pw").status == 500
    assert "no-such-site" in wait_for_log(mod_apache.log, "no-such-site")


def test_daemon_restart_while_apache_runs(web, mod_apache, mod_djauth_daemon):
    # Warm the persistent connections first.
    for _ in range(4):
        assert web.get("/dj-agents/", "alice", "alice-pw").status == 200
    with stopped(mod_djauth_daemon):
        for path in ["/dj-private/", "/dj-agents/"]:
            resp = web.get(path, "alice", "alice-pw")
            assert resp.status == 500, (path, resp)
            assert b"page:" not in resp.body
        log = wait_for_log(mod_apache.log, "cannot connect to djauth")
        assert "cannot connect to djauth" in log and str(mod_djauth_daemon.socket) in log
    # The same Apache children, their old connections now broken: one reconnect each.
    for _ in range(6):
        resp = web.get("/dj-agents/", "alice", "alice-pw")
        assert resp.status == 200, resp
    assert web.get("/dj-agents/", "bob", "bob-pw").status == 401


# --- configuration errors stop Apache at start-up ------------------------------------


@pytest.mark.parametrize(
    "directive,message",
    [
        ("Require django-perm view_user", "app_label.codename"),
        ("Require django-group", "at least one name"),
        ("Require django-staff yes", "takes no arguments"),
        ("DjangoAuthSocket run/djauth.sock", "absolute path"),
    ],
)
def test_bad_configuration_is_refused(mod_workdir, directive, message):
    root = mod_workdir / "config-check"
    root.mkdir(exist_ok=True)
    conf = root / "bad.conf"
    conf.write_text(
        f'ServerRoot "{root}"\nListen 127.0.0.1:{free_port()}\nPidFile "{root}/httpd.pid"\n'
        f'ErrorLog "{root}/error.log"\n'
        f"LoadModule mpm_event_module {APACHE_MODULES}/mod_mpm_event.so\n"
        f"LoadModule authn_core_module {APACHE_MODULES}/mod_authn_core.so\n"
        f"LoadModule authz_core_module {APACHE_MODULES}/mod_authz_core.so\n"
        f"LoadModule auth_basic_module {APACHE_MODULES}/mod_auth_basic.so\n"
        f'LoadModule djauth_module "{module_so()}"\n'
        f'<Location "/x/">\n    AuthType Basic\n    AuthName x\n    AuthBasicProvider django\n    {directive}\n</Location>\n'
    )
    out = subprocess.run([str(apache_binary()), "-f", str(conf), "-t"], capture_output=True, text=True)
    assert out.returncode != 0, out
    assert message in out.stdout + out.stderr


# --- concurrency and Apache restarts -----------------------------------------------


def test_concurrent_requests_share_the_connections(web):
    from concurrent.futures import ThreadPoolExecutor

    users = [("alice", "/dj-agents/", 200), ("bob", "/dj-agents/", 401), ("erin", "/dj-spaced/", 200), ("frank", "/dj-perm/", 200)]
    jobs = [users[i % len(users)] for i in range(64)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda job: (job, web.get(job[1], job[0], f"{job[0]}-pw").status), jobs))
    assert all(status == job[2] for job, status in statuses), statuses


def test_graceful_restart_reloads_the_module(web, mod_apache):
    import signal

    assert web.get("/dj-agents/", "alice", "alice-pw").status == 200
    mod_apache.proc.send_signal(signal.SIGUSR1)  # apache2 -k graceful
    assert "Doing graceful restart" in wait_for_log(mod_apache.log, "Doing graceful restart")
    deadline = time.monotonic() + 20
    while True:
        try:
            status = web.get("/dj-agents/", "alice", "alice-pw").status
        except OSError:
            status = None
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == 200
    assert mod_apache.proc.poll() is None
    assert web.get("/dj-agents/", "bob", "bob-pw").status == 401
    assert "exit signal" not in Path(mod_apache.log).read_text(errors="replace")


# --- C21: brute force is visible to fail2ban's stock Apache filter ---------------


def get_from(ip, port, path, authorization):
    """One GET from a given loopback address (all of 127.0.0.0/8 is local)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(ip, 0))
    try:
        conn.request("GET", path, headers={"Authorization": authorization})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_c21_failures_are_apache_auth_failures_that_fail2ban_counts(mod_apache):
    """50 wrong passwords for alice from one address, then the right one; one
    wrong password from each of 50 addresses; an unknown user. mod_djauth
    answers DENIED / USER_NOT_FOUND, so mod_auth_basic writes its own
    AH01617 / AH01618 lines with the client address, and Debian's stock
    fail2ban filter apache-auth counts every attempt per address."""
    port = mod_apache.port
    statuses = [get_from("127.0.0.2", port, "/dj-private/", basic("alice", f"guess-{i}")) for i in range(50)]
    assert statuses == [401] * 50
    # No lockout in djauth itself (fail2ban's job): the right password still works.
    assert get_from("127.0.0.2", port, "/dj-private/", basic("alice", "alice-pw")) == 200
    many = [f"127.0.0.{10 + i}" for i in range(50)]
    assert [get_from(ip, port, "/dj-private/", basic("alice", "guess")) for ip in many] == [401] * 50
    assert get_from("127.0.0.3", port, "/dj-private/", basic("nobody-here", "x")) == 401
    log = wait_for_log(mod_apache.log, "nobody-here")
    assert log.count("[client 127.0.0.2:") == 50
    assert re.search(r"AH01617: user alice: authentication failure for \"/dj-private/\": Password Mismatch", log)
    assert re.search(r"\[client 127\.0\.0\.3:\d+\] AH01618: user nobody-here not found", log)
    regex = shutil.which("fail2ban-regex")
    if regex is None:
        pytest.fail("fail2ban-regex not found: install the Debian package fail2ban (scripts/test does)", pytrace=False)
    out = subprocess.run(
        [regex, "--out", "ip", str(mod_apache.log), "/etc/fail2ban/filter.d/apache-auth.conf"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    counts = Counter(out.stdout.split())
    assert counts["127.0.0.2"] == 50
    assert all(counts[ip] == 1 for ip in many), {ip: counts[ip] for ip in many}
    assert counts["127.0.0.3"] == 1
