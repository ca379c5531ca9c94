"""mod_djauth repeats a grant without asking djauth while the daemon allows
it: for what is left of the site's cache_freshness window (issue 4). Its own
djauth (demo database, cache_freshness = 2, debug log so that every answer
the daemon gives is one log line) and its own private Apache with
examples/apache/djauth-module.conf.
"""

import http.client
import subprocess
import time

import pytest

from conftest import basic
from support.apache import djauth_module_conf, private_apache, write_pages
from support.django import django_python
from support.djauth import Djauth, demo_db_copy
from support.scratch import watch_log

WINDOW = 2.0


@pytest.fixture(scope="module")
def reuse_setup(workdir):
    root = workdir / "reuse"
    root.mkdir()
    root.chmod(0o755)
    db = demo_db_copy(root / "db.sqlite3")
    daemon = Djauth(
        root,
        {"demo": {"database": f"sqlite://{db}", "cache_freshness": WINDOW}},
        socket=root / "djauth.sock",
    )
    watch_log("djauth (reuse) log", daemon.log)
    daemon.start(log_filter="info,djauth=debug")
    docs = root / "htdocs"
    write_pages(docs, ["dj-private", "dj-agents"])
    server = private_apache(
        root / "apache",
        docs,
        djauth_module_conf(daemon.socket),
        title="apache (reuse)",
        DJAUTH_PORT=daemon.port,
    )
    server.start()
    yield daemon, server, db
    server.stop()
    daemon.stop()


def in_django(db, code):
    """Runs `code` with real Django 5.2 on the demo database copy, as an admin would."""
    setup = (
        "import django\nfrom django.conf import settings\n"
        f"settings.configure(DATABASES={{'default': {{'ENGINE': 'django.db.backends.sqlite3', 'NAME': {str(db)!r}}}}},"
        " INSTALLED_APPS=['django.contrib.auth', 'django.contrib.contenttypes'])\n"
        "django.setup()\nfrom django.contrib.auth.models import Group, User\n"
    )
    out = subprocess.run([str(django_python()), "-c", setup + code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def answers(daemon, word, user):
    """How many `word` lines (granted/denied) djauth has logged for `user`."""
    lines = daemon.log.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if word in line and f"{user}" in line)


def keepalive_gets(port, path, authorization, count):
    """`count` GETs on one keep-alive connection (one Apache child); the statuses."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    statuses = []
    try:
        for _ in range(count):
            conn.request("GET", path, headers={"Authorization": authorization})
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
    finally:
        conn.close()
    return statuses


def test_a_grant_is_repeated_within_the_window_and_refusals_never(reuse_setup):
    daemon, apache, _ = reuse_setup
    alice = basic("alice", "alice-pw")
    before = answers(daemon, "granted", "alice")
    assert keepalive_gets(apache.port, "/dj-private/", alice, 20) == [200] * 20
    asked = answers(daemon, "granted", "alice") - before
    assert asked == 1, f"djauth answered {asked} of 20 requests on one connection"

    # Require django-group: the login is repeated, the group check asked once.
    before = answers(daemon, "granted", "alice")
    assert keepalive_gets(apache.port, "/dj-agents/", alice, 10) == [200] * 10
    assert answers(daemon, "granted", "alice") - before == 1

    # Wrong passwords always reach the daemon (and its password hash).
    before = answers(daemon, "wrong-password", "alice")
    assert keepalive_gets(apache.port, "/dj-private/", basic("alice", "nope"), 5) == [401] * 5
    assert answers(daemon, "wrong-password", "alice") - before == 5


def test_after_the_window_the_daemon_is_asked_again(reuse_setup):
    daemon, apache, _ = reuse_setup
    bob = basic("bob", "bob-pw")
    before = answers(daemon, "granted", "bob")
    assert keepalive_gets(apache.port, "/dj-private/", bob, 3) == [200] * 3
    assert answers(daemon, "granted", "bob") - before == 1
    time.sleep(WINDOW + 0.5)
    assert keepalive_gets(apache.port, "/dj-private/", bob, 3) == [200] * 3
    assert answers(daemon, "granted", "bob") - before == 2


def test_changes_in_django_apply_within_the_window(reuse_setup):
    """A password change, a deactivation and a group removal made by Django
    reach Apache at most one window later, although the grants were being
    repeated without asking djauth."""
    _, apache, db = reuse_setup
    bob, frank, alice = basic("bob", "bob-pw"), basic("frank", "frank-pw"), basic("alice", "alice-pw")
    checks = [("/dj-private/", bob), ("/dj-private/", frank), ("/dj-agents/", alice)]
    for path, authorization in checks:
        assert keepalive_gets(apache.port, path, authorization, 2) == [200, 200]
    in_django(
        db,
        "u = User.objects.get(username='bob'); u.set_password('bob-new'); u.save()\n"
        "User.objects.filter(username='frank').update(is_active=False)\n"
        "User.objects.get(username='alice').groups.remove(Group.objects.get(name='secret-agents'))\n",
    )
    time.sleep(WINDOW + 0.5)
    for path, authorization in checks:
        assert keepalive_gets(apache.port, path, authorization, 2) == [401, 401], (path, authorization)
    assert keepalive_gets(apache.port, "/dj-private/", basic("bob", "bob-new"), 2) == [200, 200]
    assert keepalive_gets(apache.port, "/dj-private/", alice, 1) == [200]


def test_while_djauth_is_down_only_a_fresh_grant_is_repeated(reuse_setup):
    """Runs last: it stops this module's daemon."""
    daemon, apache, _ = reuse_setup
    conn = http.client.HTTPConnection("127.0.0.1", apache.port, timeout=30)

    def get(authorization):
        conn.request("GET", "/dj-private/", headers={"Authorization": authorization})
        resp = conn.getresponse()
        resp.read()
        return resp.status

    try:
        assert get(basic("erin", "erin-pw")) == 200
        daemon.stop()
        # The same question within the window: repeated by this Apache child.
        assert get(basic("erin", "erin-pw")) == 200
        # Anything else needs djauth: 500, never a guess.
        assert get(basic("erin", "erin-pw!")) == 500
        assert get(basic("alice", "alice-pw-x")) == 500
        time.sleep(WINDOW + 0.5)
        assert get(basic("erin", "erin-pw")) == 500
    finally:
        conn.close()
