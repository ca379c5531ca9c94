"""djauth behind Apache's mod_authnz_fcgi, configured by examples/apache/djauth-fcgi.conf.

Users and passwords: examples/demo/README.md. Status codes are exact. djauth
checks a location's DJANGO_REQUIRE already when Apache asks it to check the
password, so a correct password in the wrong group is refused at
authentication: 401, like every other refusal. A failure of djauth itself
(down, unreadable database) is 500, never 401.
"""

import base64
import re
import shutil
import sqlite3
import statistics
import time
from pathlib import Path

import pytest

from support.djauth import DEMO_DB, stopped

# base64(UTF-8 "józef:Pässwörd-123") and base64(Latin-1 "józef:Pässwörd-123"), as in case C01.
JOZEF_UTF8 = b"Basic asOzemVmOlDDpHNzd8O2cmQtMTIz"
JOZEF_LATIN1 = b"Basic avN6ZWY6UORzc3f2cmQtMTIz"


def user_id(username):
    con = sqlite3.connect(f"file:{DEMO_DB}?mode=ro", uri=True)
    try:
        return str(con.execute("SELECT id FROM auth_user WHERE username = ?", (username,)).fetchone()[0])
    finally:
        con.close()


def header(resp, name):
    """A response header as text; Apache sends the bytes djauth gave it (UTF-8)."""
    for key, value in resp.headers:
        if key.lower() == name.lower():
            return value.encode("latin-1").decode("utf-8")
    return None


# --- sanity of the credential encodings used below --------------------------


def test_c01_vectors_are_what_they_claim():
    assert base64.b64decode(JOZEF_UTF8[6:]) == "józef:Pässwörd-123".encode("utf-8")
    assert base64.b64decode(JOZEF_LATIN1[6:]) == "józef:Pässwörd-123".encode("latin-1")


# --- /private/: any active user ----------------------------------------------


def test_no_credentials_gets_basic_challenge(client):
    resp = client.get("/private/")
    assert resp.status == 401
    assert header(resp, "WWW-Authenticate") == 'Basic realm="Django users"'


def test_alice_private_200(client):
    resp = client.get("/private/", "alice", "alice-pw")
    assert resp.status == 200, resp
    assert resp.body == b"page:/private/\n"
    assert header(resp, "X-Django-User") == "alice"
    assert header(resp, "X-Django-User-Id") == user_id("alice")


@pytest.mark.parametrize(
    "user,password",
    [
        ("bob", "bob-pw"),  # argon2
        ("erin", "erin-pw"),  # pbkdf2_sha256
        ("frank", "frank-pw"),  # superuser
        ("józef", "Pässwörd-123"),  # bcrypt_sha256, via the helper's UTF-8
    ],
)
def test_other_active_users_private_200(client, user, password):
    resp = client.get("/private/", user, password)
    assert resp.status == 200, resp
    assert header(resp, "X-Django-User") == user


def test_alice_wrong_password_401(client):
    assert client.get("/private/", "alice", "alice-pw-wrong").status == 401
    assert client.get("/private/", "alice", "").status == 401
    assert client.get("/private/", "alice", "ALICE-PW").status == 401


def test_unknown_user_401(client):
    assert client.get("/private/", "ghost", "alice-pw").status == 401


def test_username_is_case_sensitive(client):
    assert client.get("/private/", "Alice", "alice-pw").status == 401


def test_inactive_carol_with_right_password_401(client):
    assert client.get("/private/", "carol", "carol-pw").status == 401


@pytest.mark.parametrize("password", ["", "!", "dave-pw"])
def test_unusable_password_dave_401(client, password):
    assert client.get("/private/", "dave", password).status == 401


def test_unusable_password_dave_stored_string_401(client):
    con = sqlite3.connect(f"file:{DEMO_DB}?mode=ro", uri=True)
    stored = con.execute("SELECT password FROM auth_user WHERE username = 'dave'").fetchone()[0]
    con.close()
    assert stored.startswith("!")
    assert client.get("/private/", "dave", stored).status == 401


# --- C01: non-ASCII credentials -----------------------------------------------


def test_c01_jozef_utf8_200(client):
    resp = client.get("/private/", authorization=JOZEF_UTF8)
    assert resp.status == 200, resp
    assert header(resp, "X-Django-User") == "józef"


def test_c01_jozef_latin1_200(client):
    resp = client.get("/private/", authorization=JOZEF_LATIN1)
    assert resp.status == 200, resp
    # The canonical Django username, not the Latin-1 bytes the client sent.
    assert header(resp, "X-Django-User") == "józef"


def test_c01_jozef_nfd_username_200(client):
    # NFKC on the incoming user name, as Django's login form does.
    resp = client.get("/private/", "jo\u0301zef", "Pässwörd-123")
    assert resp.status == 200, resp


def test_c01_jozef_password_is_not_normalised(client):
    assert client.get("/private/", "józef", "Pa\u0308sswo\u0308rd-123").status == 401


@pytest.mark.parametrize(
    "authorization",
    [
        b"Basic " + base64.b64encode(b"\xff\xfe:\xc3"),  # invalid UTF-8 both sides
        b"Basic " + base64.b64encode(b"alice:\xff\xfe\xfd"),  # real user, garbage password
        b"Basic %%%not base64%%%",
        b"Basic " + base64.b64encode(b"no-colon-here"),
        b"Basic " + base64.b64encode(b":alice-pw"),  # empty user name
        b"Basic " + base64.b64encode(b"alice\x00:alice-pw"),  # NUL in the user name
    ],
    ids=["invalid-utf8", "garbage-password", "not-base64", "no-colon", "empty-user", "nul-byte"],
)
def test_c01_garbage_basic_header_401(client, authorization):
    assert client.get("/private/", authorization=authorization).status == 401


# --- groups -------------------------------------------------------------------


def test_alice_secret_agents_200(client):
    resp = client.get("/secret-agents/", "alice", "alice-pw")
    assert resp.status == 200, resp
    assert resp.body == b"page:/secret-agents/\n"
    assert header(resp, "X-Django-User") == "alice"
    assert "secret-agents" in header(resp, "X-Django-Groups").split(",")


def test_bob_secret_agents_401(client):
    # Right password, not in the group: refused during authentication.
    resp = client.get("/secret-agents/", "bob", "bob-pw")
    assert resp.status == 401, resp
    assert b"page:" not in resp.body


def test_superuser_is_not_implicitly_in_groups(client):
    # Django's groups_for_user lists real memberships only.
    assert client.get("/secret-agents/", "frank", "frank-pw").status == 401


def test_secret_agents_wrong_password_401(client):
    assert client.get("/secret-agents/", "alice", "nope").status == 401


def test_secret_agents_without_credentials_401(client):
    # C05 (c): the authz provider is asked before any user is known; it must
    # ask for authentication, not grant.
    assert client.get("/secret-agents/").status == 401


def test_erin_spaced_group_200(client):
    resp = client.get("/spaced/", "erin", "erin-pw")
    assert resp.status == 200, resp
    assert header(resp, "X-Django-Groups").split(",") == ["secret agents"]


def test_alice_spaced_group_401(client):
    # alice is in "secret-agents", not in "secret agents".
    assert client.get("/spaced/", "alice", "alice-pw").status == 401


def test_erin_not_in_hyphenated_group_401(client):
    assert client.get("/secret-agents/", "erin", "erin-pw").status == 401


# --- C05: the RequireAny trap, next to the example's correct config ------------------


def test_c05_trap_bites_when_only_the_authz_call_knows_the_group(client):
    # Wrong config: "Require valid-user" + "Require djauthz-agents" (group
    # fixed on an authz-only djauth port) is an implicit RequireAny, so bob
    # (in no group) is served the page.
    trap = client.get("/c05-trap-port/", "bob", "bob-pw")
    assert trap.status == 200, trap
    assert trap.body == b"page:/c05-trap-port/\n"
    # The same provider alone refuses him; so does the example's location.
    assert client.get("/c05-port-safe/", "bob", "bob-pw").status == 401
    assert client.get("/secret-agents/", "bob", "bob-pw").status == 401
    # Members get in everywhere.
    for path in ("/c05-trap-port/", "/c05-port-safe/", "/secret-agents/"):
        assert client.get(path, "alice", "alice-pw").status == 200, path


def test_c05_trap_with_django_require_is_caught_at_authentication(client):
    # The same wrong Require lines, but the group comes from DJANGO_REQUIRE,
    # which djauth also applies when checking the password: bob is refused.
    assert client.get("/c05-trap/", "bob", "bob-pw").status == 401
    assert client.get("/c05-trap/", "alice", "alice-pw").status == 200


def test_c05_trap_still_requires_a_password(client):
    assert client.get("/c05-trap-port/", "bob", "wrong").status == 401


# --- C07: inactive user and a provider chain --------------------------------------


def test_c07_htpasswd_alone_admits_carol(client):
    # Control: the htpasswd file is valid and does know carol.
    assert client.get("/c07-file-only/", "carol", "carol-pw").status == 200


def test_c07_chain_refuses_inactive_carol(client):
    # djauth answers "denied" for an inactive user, which stops the chain
    # before the htpasswd provider could admit her.
    assert client.get("/c07-chain/", "carol", "carol-pw").status == 401


def test_c07_chain_admits_active_django_user(client):
    assert client.get("/c07-chain/", "alice", "alice-pw").status == 200


# --- C02: timing ---------------------------------------------------------------------


def test_c02_unknown_and_inactive_users_take_as_long_as_a_wrong_password(client):
    # The case's trigger: 30 requests each with a wrong password for an
    # unknown, an inactive and an active user (plus the inactive user's right
    # password); medians within 15 % of the active user's.
    probes = {
        "ghost (unknown)": ("ghost", "wrong-pw"),
        "carol (inactive)": ("carol", "wrong-pw"),
        "carol (inactive, right pw)": ("carol", "carol-pw"),
        "alice (wrong password)": ("alice", "wrong-pw"),
    }
    times = {name: [] for name in probes}
    for user, password in probes.values():  # warm-up, not measured
        assert client.get("/private/", user, password).status == 401
    for _ in range(30):
        for name, (user, password) in probes.items():  # interleaved against drift
            resp = client.get("/private/", user, password)
            assert resp.status == 401, (name, resp)
            times[name].append(resp.elapsed)
    medians = {name: statistics.median(t) for name, t in times.items()}
    print()
    for name, median in medians.items():
        print(f"C02 median {name:24} {median * 1000:8.1f} ms")
    reference = medians["alice (wrong password)"]
    for name in probes:
        assert 0.85 * reference <= medians[name] <= 1.15 * reference, medians


# --- failures of djauth itself are 500, never 401 ------------------------------------


def test_djauth_down_gives_500_not_401(client, djauth):
    assert client.get("/private/", "alice", "alice-pw").status == 200
    with stopped(djauth):
        assert client.get("/private/", "alice", "alice-pw").status == 500
        assert client.get("/private/", "alice", "wrong").status == 500
        assert client.get("/secret-agents/", "alice", "alice-pw").status == 500
    assert client.get("/private/", "alice", "alice-pw").status == 200


def test_unreadable_database_gives_500_not_401(client, djauth, workdir):
    original = djauth.db
    doomed = workdir / "doomed.sqlite3"
    shutil.copyfile(original, doomed)
    djauth.stop()
    djauth.start(db=doomed)
    try:
        assert client.get("/private/", "erin", "erin-pw").status == 200
        # Overwrite the database in place with bytes that are not SQLite.
        with open(doomed, "r+b") as f:
            f.write(b"this is not a database\n" * 200)
        resp = client.get("/private/", "frank", "frank-pw")
        assert resp.status == 500, resp
        assert client.get("/private/", "ghost", "x").status == 500
    finally:
        djauth.stop()
        djauth.start(db=original)
    assert client.get("/private/", "frank", "frank-pw").status == 200


def test_c21_refusals_are_apache_auth_failures_for_fail2ban(client, apache):
    """Through mod_authnz_fcgi too, a refusal is Apache's own authentication
    failure (AH01617, client address and typed user), which Debian's stock
    fail2ban filter apache-auth matches; see test_mod_djauth.py for the counts."""
    assert client.get("/private/", "alice", "c21-guess").status == 401
    assert client.get("/private/", "c21-nobody", "x").status == 401
    deadline = time.monotonic() + 5
    log = ""
    while "c21-nobody" not in log and time.monotonic() < deadline:
        log = Path(apache.log).read_text(errors="replace")
        time.sleep(0.05)
    assert re.search(r"\[client 127\.0\.0\.1:\d+\] AH01617: user alice: authentication failure for \"/private/\": Password Mismatch", log)
    assert re.search(r"\[client 127\.0\.0\.1:\d+\] AH01617: user c21-nobody: authentication failure", log)
