"""Real Apache + mod_authnz_external + `djauth external` + the djauth daemon.

Locations from examples/apache/djauth-external.conf (included unchanged):
/ext-private/ (valid-user), /ext-agents/ (group:secret-agents), /ext-perm/
(perm:auth.view_user), /ext-any/ (group:"secret agents" user:bob staff); and
/ext-bad-rule/ from locations.conf.in. Users: examples/demo/README.md, plus
gina (staff-team, so auth.view_user through her group only; add_gina.py).

mod_authnz_external only knows "exit status 0" (granted) and "anything else"
(refused): every refusal is 401, and so is djauth being down (asserted below,
with what the error log says).
"""

import subprocess
from pathlib import Path

import pytest

from support.djauth import stopped
from support.procs import wait_for_log

PASSWORDS = {
    "alice": "alice-pw",
    "bob": "bob-pw",
    "carol": "carol-pw",
    "erin": "erin-pw",
    "frank": "frank-pw",
    "gina": "gina-pw",
}


def header(resp, name):
    for key, value in resp.headers:
        if key.lower() == name.lower():
            return value
    return None


# --- authentication: DefineExternalAuth ... auth ---------------------------------------


def test_no_credentials_get_the_challenge(web):
    resp = web.get("/ext-private/")
    assert resp.status == 401
    assert header(resp, "WWW-Authenticate") == 'Basic realm="Django users"'


@pytest.mark.parametrize(
    "user,password,status",
    [
        ("alice", "alice-pw", 200),
        ("alice", "wrong-pw", 401),
        ("alice", "", 401),
        ("ghost", "alice-pw", 401),  # unknown user
        ("carol", "carol-pw", 401),  # inactive user, right password
        ("dave", "", 401),  # unusable password
        ("Alice", "alice-pw", 401),  # exact match
        ("józef", "Pässwörd-123", 200),  # UTF-8 (case C01)
        ("józef".encode("latin-1"), "Pässwörd-123".encode("latin-1"), 200),  # Latin-1
    ],
)
def test_authentication(web, user, password, status):
    resp = web.get("/ext-private/", user, password)
    assert resp.status == status, resp
    if status == 200:
        assert resp.body == b"page:/ext-private\n"
        # mod_authnz_external cannot hand back variables.
        assert header(resp, "X-Django-User") is None


def test_the_typed_name_stays_remote_user(web, apache):
    # NFKC: fullwidth ａｌｉｃｅ is alice for djauth, but Apache keeps what was typed.
    assert web.get("/ext-private/", "ａｌｉｃｅ", "alice-pw").status == 200
    access = wait_for_log(apache.root / "access.log", "user=\\xef\\xbd\\x81")
    assert '"GET /ext-private/ HTTP/1.1" 200 user=\\xef\\xbd\\x81\\xef\\xbd\\x8c' in access


def test_a_password_with_a_line_break_is_bad_input(web, apache):
    # The pipe protocol cannot carry it: three lines reach the program, which refuses.
    assert web.get("/ext-private/", "alice", "alice-pw\nalice-pw").status == 401
    log = wait_for_log(apache.log, "more than two lines")
    assert "djauth external: error: bad input from mod_authnz_external: more than two lines on stdin" in log
    assert "Failed (2) for user alice" in log


def test_refusals_are_logged_with_the_reason_never_the_password(web, apache, daemon):
    secret = "not-alices-pw-7d1f"
    assert web.get("/ext-private/", "alice", secret).status == 401
    log = wait_for_log(apache.log, 'djauth external: refused "alice": wrong-password')
    assert 'djauth external: refused "alice": wrong-password' in log
    assert "Failed (1) for user alice" in log
    assert web.get("/ext-private/", "ghost", secret).status == 401
    log = wait_for_log(apache.log, 'refused "ghost": unknown-user')
    assert 'djauth external: refused "ghost": unknown-user' in log
    for text in [log, Path(daemon.log).read_text(errors="replace")]:
        assert secret not in text


# --- authorization: DefineExternalGroup ... group, Require external-group ---------------


@pytest.mark.parametrize(
    "path,allowed,refused",
    [
        ("/ext-agents/", ["alice"], ["bob", "erin", "frank", "gina"]),
        # gina through her group's permission, frank as an active superuser
        ("/ext-perm/", ["gina", "frank"], ["alice", "bob", "erin"]),
        # group with a space, a named user, staff: any of them
        ("/ext-any/", ["erin", "bob", "frank"], ["alice", "gina"]),
    ],
)
def test_require_external_group(web, path, allowed, refused):
    for user in allowed:
        resp = web.get(path, user, PASSWORDS[user])
        assert resp.status == 200, (path, user, resp)
        assert resp.body == f"page:{path.rstrip('/')}\n".encode()
    for user in refused:
        assert web.get(path, user, PASSWORDS[user]).status == 401, (path, user)
    # A wrong password stops at authentication.
    assert web.get(path, allowed[0], "wrong").status == 401
    # An inactive user with the right password never reaches the rule.
    assert web.get(path, "carol", "carol-pw").status == 401


def test_group_check_normalises_the_typed_name(web):
    # r->user is the typed ａｌｉｃｅ; djauth looks up alice (NFKC) for the rule too.
    assert web.get("/ext-agents/", "ａｌｉｃｅ", "alice-pw").status == 200


def test_a_rule_djauth_cannot_parse_is_an_error_and_a_refusal(web, apache):
    assert web.get("/ext-bad-rule/", "alice", "alice-pw").status == 401
    log = wait_for_log(apache.log, "could not decide")
    assert 'djauth external: error: djauth could not decide for "alice": invalid requirement "perm:view_user"' in log
    # Debian 12's 3.3.2 does not log the exit status of a group check.
    assert "Authorization of user alice to access /ext-bad-rule/ failed. User not in Required group." in log


# --- the program itself, against the live daemon ----------------------------------------


@pytest.mark.parametrize(
    "mode,stdin,site,code,stderr",
    [
        ("auth", b"alice\nalice-pw\n", None, 0, ""),
        ("auth", b"alice\nwrong\n", None, 1, 'refused "alice": wrong-password'),
        ("auth", b"nobody\nx\n", None, 1, 'refused "nobody": unknown-user'),
        ("auth", b"carol\ncarol-pw\n", None, 1, 'refused "carol": inactive'),
        ("group", b"alice\ngroup:secret-agents\n", None, 0, ""),
        ("group", b"bob\ngroup:secret-agents perm:auth.view_user\n", None, 1, 'refused "bob"'),
        ("group", b"gina\nperm:auth.view_user\n", None, 0, ""),
        # CR is part of the value: "alice\r" is nobody, never alice.
        ("auth", b"alice\r\nalice-pw\r\n", None, 1, "unknown-user"),
        ("auth", b"alice\nalice-pw", None, 2, "stdin ended before two newline-terminated lines"),
        ("auth", b"", None, 2, "stdin ended before"),
        ("auth", b"alice\0\nalice-pw\n", None, 2, "a NUL byte on stdin"),
        ("auth", b"alice\n" + b"x" * 20000 + b"\n", None, 2, "more than 16384 bytes on stdin"),
        ("group", b"alice\ngroup:\xff\n", None, 2, "not UTF-8"),
        ("group", b"alice\n\n", None, 3, "no requirement given"),
        ("auth", b"alice\nalice-pw\n", "no-such-site", 3, 'site "no-such-site" is not configured'),
    ],
)
def test_exit_codes(daemon, djauth_external, mode, stdin, site, code, stderr):
    site = site or daemon.site
    args = [str(djauth_external), "external", "--socket", str(daemon.socket), "--site", site, mode]
    out = subprocess.run(args, input=stdin, capture_output=True, timeout=30)
    assert out.returncode == code, out
    assert out.stdout == b""
    assert stderr in out.stderr.decode(errors="replace"), out.stderr
    if code == 0:
        assert out.stderr == b""
    else:
        assert out.stderr.startswith(b"djauth external: ") and out.stderr.count(b"\n") == 1
    assert b"alice-pw" not in out.stderr


# --- djauth down: Apache's answer is 401, not 500 ----------------------------------------


def test_djauth_stopped_is_401_and_logged(web, apache, daemon):
    assert web.get("/ext-agents/", "alice", "alice-pw").status == 200
    with stopped(daemon):
        for path in ["/ext-private/", "/ext-agents/"]:
            resp = web.get(path, "alice", "alice-pw")
            # mod_authnz_external maps every non-zero exit to AUTH_DENIED: 401.
            assert resp.status == 401, (path, resp)
            assert b"page:" not in resp.body
        log = wait_for_log(apache.log, "Failed (3) for user alice")
        assert f"djauth external: error: cannot connect to djauth at {daemon.socket}" in log
        assert "Failed (3) for user alice" in log
    assert web.get("/ext-agents/", "alice", "alice-pw").status == 200
