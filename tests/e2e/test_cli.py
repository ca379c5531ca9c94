"""The djauth command line, on the demo database and the hashes Django wrote into it."""

import sqlite3
import subprocess

import pytest

from support.djauth import DEMO_DB, djauth_binary
from support.procs import free_port


def stored_hash(username):
    con = sqlite3.connect(f"file:{DEMO_DB}?mode=ro", uri=True)
    try:
        return con.execute("SELECT password FROM auth_user WHERE username = ?", (username,)).fetchone()[0]
    finally:
        con.close()


def verify(encoded, password, *extra):
    return subprocess.run(
        [str(djauth_binary()), "verify-password", "--hash", encoded, *extra],
        input=password.encode("utf-8"),
        capture_output=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "username,password",
    [
        ("alice", "alice-pw"),  # pbkdf2_sha256
        ("bob", "bob-pw"),  # argon2
        ("carol", "carol-pw"),  # scrypt (verify-password does not look at is_active)
        ("józef", "Pässwörd-123"),  # bcrypt_sha256
    ],
)
def test_verify_password_on_django_hashes(username, password):
    encoded = stored_hash(username)
    right = verify(encoded, password)
    assert right.returncode == 0, right
    wrong = verify(encoded, password + "x")
    assert wrong.returncode == 1, wrong


def test_verify_password_unusable_never_matches():
    encoded = stored_hash("dave")
    assert verify(encoded, encoded).returncode == 1
    assert verify(encoded, "").returncode == 1


def test_check_user_explains_alice():
    result = subprocess.run(
        [str(djauth_binary()), "check-user", "--database", f"sqlite://{DEMO_DB}", "alice"],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result
    assert b"alice" in result.stdout + result.stderr


def test_serve_refuses_a_database_that_is_not_django(tmp_path):
    db = tmp_path / "not-django.sqlite3"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.commit()
    con.close()
    proc = subprocess.run(
        [str(djauth_binary()), "serve", "--database", f"sqlite://{db}", "--fastcgi", f"127.0.0.1:{free_port()}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode != 0, proc
    assert proc.stderr.strip(), "djauth must say why it refuses the database"
