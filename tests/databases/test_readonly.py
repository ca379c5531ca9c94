"""C16: djauth verifies outdated hashes through a SELECT-only role and never writes.

Three users on PostgreSQL with hashes Django would upgrade at the next login
(PBKDF2-SHA256 at 1 iteration, PBKDF2-SHA1, scrypt at N=1024; the vectors of
case C16). djauth reads them through the read-only role that has nothing but
`GRANT SELECT` on the documented tables, grants all three, and afterwards the
password column is byte-for-byte what it was and PostgreSQL's own counter of
updated rows on auth_user (`pg_stat_user_tables.n_tup_upd`) has not moved.

For contrast, Django's recipe on the same database: through the same
read-only role every correct password is an exception (the upgrade's UPDATE
is refused: HTTP 500 under mod_wsgi); through the admin role it rewrites all
three hashes, and n_tup_upd grows by exactly three, which also shows that the
counter read here does see updates.
"""

import time

import pytest

from support import fcgi
from support.djauth import Djauth

USERS = [
    ("ana", "pbkdf2_sha256$1$inventedsalt0002$dd8qQAsvbcfEKlt0M9yOtJqmucmad0eldqOMm9LX/io=", "secret-42"),
    ("ben", "pbkdf2_sha1$1000$saltE1000$/GTSCtTtVmTcVAj4V3ySWdIuJRs=", "Pässwörd-123"),
    ("cai", "scrypt$1024$saltF$8$1$8niTWH0gIuAW4Th5MdmDNGYKQbCShuuk2Q0SHKAD/eKeVa9SrokFhpTgjHFZnT4vLWVXhoUONdi5CKqbvKrtuQ==",
     "Pässwörd-123"),
]
HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]


def quiet(db, timeout=15):
    """Wait until no other session is connected to the database: a backend
    flushes its table statistics when it exits."""
    deadline = time.monotonic() + timeout
    while True:
        others = db.sql(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db.name}' "
                        "AND pid <> pg_backend_pid()").strip()
        if others == "0":
            return
        assert time.monotonic() < deadline, f"{others} sessions still connected to {db.name}"
        time.sleep(0.1)


def n_tup_upd(db):
    return int(db.sql("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'auth_user'").strip())


def passwords(db):
    return db.sql("SELECT id, username, password FROM auth_user ORDER BY id")


@pytest.fixture(scope="module")
def db(django_database):
    return django_database("postgres", "c16", {"users": [{"username": u, "hash": h} for u, h, _ in USERS]})


def test_select_only_role_grants_and_nothing_is_written(db, workdir, summary):
    quiet(db)
    stored, updates = passwords(db), n_tup_upd(db)

    started = time.monotonic()
    with Djauth(workdir, {"site": db.site(password_hashers=HASHERS)}, name="c16") as daemon:
        for _ in range(3):  # Django would have rewritten every hash on the first round
            for username, _, password in USERS:
                resp = fcgi.authenticate(daemon.port, username.encode(), password.encode())
                assert resp.status == 200, (username, resp)
                assert resp.header("Variable-DJANGO_USER") == username.encode()
        for username, _, _ in USERS:
            assert fcgi.authenticate(daemon.port, username.encode(), b"wrong").status == 401, username
    elapsed = time.monotonic() - started
    quiet(db)  # djauth's sessions have ended and flushed their statistics

    assert passwords(db) == stored, "the password column changed"
    assert n_tup_upd(db) == updates, "djauth's sessions updated rows of auth_user"
    summary.append(f"C16 djauth (SELECT-only role): 9 grants + 3 refusals in {elapsed:.1f}s; "
                   f"password column unchanged; auth_user n_tup_upd {updates} -> {n_tup_upd(db)}")


def test_django_recipe_writes_where_djauth_does_not(db, summary):
    """The contrast (runs after the djauth test: it rewrites the hashes)."""
    pairs = [(u, p) for u, _, p in USERS]
    through_readonly = db.django_check(pairs, hashers=HASHERS, readonly=True, pbkdf2_iterations=None)
    assert all("permission denied" in r.get("error", "") for r in through_readonly), through_readonly

    quiet(db)
    updates = n_tup_upd(db)
    through_admin = db.django_check(pairs, hashers=HASHERS, pbkdf2_iterations=None)
    assert [r.get("result") for r in through_admin] == [True, True, True], through_admin
    quiet(db)
    deadline = time.monotonic() + 15
    while n_tup_upd(db) < updates + 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert n_tup_upd(db) == updates + 3
    rewritten = db.sql("SELECT password FROM auth_user ORDER BY id").split()
    assert all(h.startswith("pbkdf2_sha256$1000000$") for h in rewritten), rewritten
    summary.append(f"C16 Django recipe: read-only role -> {through_readonly[0]['error'][:60]!r} (500); "
                   f"admin role -> rewrote 3 hashes, n_tup_upd {updates} -> {n_tup_upd(db)}")
