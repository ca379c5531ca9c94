"""Real nginx (auth_request) in front of the real djauth, configured with
examples/nginx/djauth.conf: /private/ (any user, proxied to an application
that echoes X-Django-User), /secret-agents/ (group, files from disk),
/reports/ (permission auth.view_user)."""

import time

from conftest import CHALLENGE, basic


def test_c23_no_credentials_gets_the_challenge(nginx):
    reply = nginx.get("/private/")
    assert reply.status == 401
    assert reply.all("WWW-Authenticate") == [CHALLENGE]


def test_c23_wrong_password_gets_the_challenge(nginx):
    reply = nginx.get("/private/", [("Authorization", basic("alice", "wrong"))])
    assert reply.status == 401
    assert reply.all("WWW-Authenticate") == [CHALLENGE]
    assert b"app user" not in reply.body


def test_username_and_groups_reach_the_upstream(nginx):
    reply = nginx.get("/private/page?x=1", [("Authorization", basic("alice", "alice-pw"))])
    assert reply.status == 200
    # The user id reaches it too, and the password does not.
    assert reply.body == b"app user=[alice] groups=[secret-agents] uri=/private/page?x=1 id=[1] auth=[]\n"


def test_identity_headers_from_the_client_are_overwritten(nginx):
    reply = nginx.get(
        "/private/",
        [
            ("Authorization", basic("bob", "bob-pw")),
            ("X-Django-User", "frank"),
            ("X-Django-User-Id", "7"),
            ("X-Django-Groups", "staff-team"),
        ],
    )
    assert reply.status == 200
    assert reply.body.startswith(b"app user=[bob] groups=[] ")
    assert reply.body.endswith(b" id=[2] auth=[]\n")


def test_non_ascii_user_reaches_the_upstream_as_utf8(nginx):
    reply = nginx.get("/private/", [("Authorization", basic("józef", "Pässwörd-123"))])
    assert reply.status == 200
    assert reply.body.startswith("app user=[józef] ".encode())


def test_group_location_serves_files_to_members_only(nginx):
    assert nginx.get("/secret-agents/", [("Authorization", basic("alice", "alice-pw"))]).body == b"file:/secret-agents/\n"
    # erin is in "secret agents" (with a space), not "secret-agents".
    forbidden = nginx.get("/secret-agents/", [("Authorization", basic("erin", "erin-pw"))])
    assert forbidden.status == 403
    assert forbidden.header("WWW-Authenticate") is None
    anonymous = nginx.get("/secret-agents/")
    assert anonymous.status == 401
    assert anonymous.all("WWW-Authenticate") == [CHALLENGE]


def test_permission_location(nginx):
    # frank is a superuser; bob has no permissions.
    assert nginx.get("/reports/", [("Authorization", basic("frank", "frank-pw"))]).status == 200
    assert nginx.get("/reports/", [("Authorization", basic("bob", "bob-pw"))]).status == 403


def test_inactive_and_unknown_users_get_401(nginx):
    for user, password in [("carol", "carol-pw"), ("ghost", "ghost-pw"), ("dave", "")]:
        reply = nginx.get("/private/", [("Authorization", basic(user, password))])
        assert reply.status == 401, user
        assert reply.all("WWW-Authenticate") == [CHALLENGE], user


def test_djauth_logs_the_real_client_and_the_original_request(nginx, djauth):
    nginx.get("/private/secret.pdf", [("Authorization", basic("alice", "nope"))])
    line = next(line for line in reversed(djauth.log_text().splitlines()) if 'reason="wrong-password"' in line)
    assert 'request{method="GET" uri="/private/secret.pdf" host="127.0.0.1"}: ' in line
    assert line.endswith('denied door="http" site="mysite" user="alice" client="127.0.0.1" reason="wrong-password"')
    assert "nope" not in djauth.log_text()


def test_djauth_stopped_means_500_never_401_or_200(nginx, djauth):
    djauth.stop()
    try:
        for headers in [[("Authorization", basic("alice", "alice-pw"))], []]:
            reply = nginx.get("/private/", headers)
            assert reply.status == 500
            assert reply.header("WWW-Authenticate") is None
            assert b"app user" not in reply.body
    finally:
        djauth.start()
    # nginx reconnects by itself once djauth is back.
    deadline = time.monotonic() + 10
    while True:
        reply = nginx.get("/private/", [("Authorization", basic("alice", "alice-pw"))])
        if reply.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert reply.status == 200


def test_unreadable_database_means_500_through_nginx(nginx, djauth, workdir):
    """C23: a database failure reaches the client as nginx's 500, never as
    401 (a re-prompt that fail2ban would count) nor as the page. Only a
    request without credentials still gets the login prompt: djauth reads
    no database to ask for a password (README, nginx step 4)."""
    db = djauth.db
    saved = workdir / "db.sqlite3.saved-nginx"
    db.rename(saved)
    db.write_bytes(b"this is not a database" * 100)
    try:
        # Wrong passwords and unknown users are never remembered: each needs the database.
        for user, password in [("alice", "not-her-password"), ("nobody-here", "x")]:
            reply = nginx.get("/private/", [("Authorization", basic(user, password))])
            assert reply.status == 500, (user, reply.status)
            assert reply.header("WWW-Authenticate") is None
            assert b"app user" not in reply.body
        prompt = nginx.get("/private/")
        assert prompt.status == 401
        assert prompt.all("WWW-Authenticate") == [CHALLENGE]
    finally:
        db.unlink()
        saved.rename(db)
    assert nginx.get("/private/", [("Authorization", basic("alice", "alice-pw"))]).status == 200
