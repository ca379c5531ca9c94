"""/metrics, /healthz and /readyz on djauth's HTTP listener, scraped and
parsed after a known sequence of checks made through the real nginx."""

import re
import sqlite3

from conftest import basic

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def scrape(djauth):
    """The exposition as {(name, frozenset(labels)): value}, checking its syntax."""
    reply = djauth.get("/metrics")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    samples, typed = {}, {}
    for line in reply.body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            typed[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        name, labels, value = match.groups()
        pairs = LABEL.findall(labels or "")
        assert ",".join(f'{k}="{v}"' for k, v in pairs) == (labels or ""), line
        key = (name, frozenset(pairs))
        assert key not in samples, f"duplicate sample {line!r}"
        samples[key] = float(value)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or base in typed, f"sample {name} has no # TYPE"
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def test_health_and_readiness(djauth):
    health = djauth.get("/healthz")
    assert (health.status, health.body) == (200, b"ok\n")
    ready = djauth.get("/readyz")
    assert (ready.status, ready.body) == (200, b"ready\n")


def test_counts_after_a_known_sequence(nginx, djauth):
    sequence = [
        ("/private/", ("alice", "alice-pw"), 200),  # hashed (pbkdf2_sha256), then remembered
        ("/private/", ("alice", "alice-pw"), 200),
        ("/private/", ("alice", "alice-pw"), 200),
        ("/private/", ("alice", "wrong-1"), 401),  # wrong passwords are always hashed
        ("/private/", ("alice", "wrong-2"), 401),
        ("/secret-agents/", ("bob", "bob-pw"), 403),  # argon2
        ("/private/", None, 401),  # no credentials: nothing hashed
        ("/private/", ("carol", "carol-pw"), 401),  # inactive: equal-cost dummy hash
        ("/private/", ("ghost", "x"), 401),  # unknown: dummy hash
    ]
    for path, credentials, status in sequence:
        headers = [("Authorization", basic(*credentials))] if credentials else []
        assert nginx.get(path, headers).status == status, (path, credentials)
    samples = scrape(djauth)
    decisions = {
        labels_dict["result"]: count
        for (name, labels), count in samples.items()
        if name == "djauth_decisions_total"
        for labels_dict in [dict(labels)]
        if labels_dict["door"] == "http" and labels_dict["site"] == "mysite"
    }
    assert decisions == {
        "granted": 3,
        "wrong-password": 2,
        "requirement-not-met": 1,
        "no-user": 1,
        "inactive": 1,
        "unknown-user": 1,
    }
    kdf = {
        dict(labels)["algorithm"]: count
        for (name, labels), count in samples.items()
        if name == "djauth_kdf_seconds_count"
    }
    assert kdf == {"pbkdf2_sha256": 3, "argon2": 1, "dummy": 2}
    for algorithm, count in kdf.items():
        assert value(samples, "djauth_kdf_seconds_bucket", algorithm=algorithm, le="+Inf") == count
        assert value(samples, "djauth_kdf_seconds_sum", algorithm=algorithm) > 0
    # Default Django 5.2 PBKDF2 (1,000,000 iterations) takes more than 10 ms.
    assert value(samples, "djauth_kdf_seconds_bucket", algorithm="pbkdf2_sha256", le="0.01") == 0
    # alice's right password: one miss, then two hits; every wrong password
    # and bob's first check are misses; unknown and inactive users never get
    # as far as the cache.
    assert value(samples, "djauth_credential_cache_hits_total", site="mysite") == 2
    assert value(samples, "djauth_credential_cache_misses_total", site="mysite") == 4
    assert value(samples, "djauth_database_errors_total", site="mysite") == 0
    assert value(samples, "djauth_db_pool_max_connections", site="mysite") == 8
    busy = value(samples, "djauth_db_pool_connections", site="mysite", state="busy")
    idle = value(samples, "djauth_db_pool_connections", site="mysite", state="idle")
    assert busy == 0 and 1 <= idle <= 8


def test_unreachable_database_is_not_ready_and_counted(djauth, workdir):
    db = djauth.db
    saved = workdir / "db.sqlite3.saved"
    db.rename(saved)
    # A new file at the path that is not a database: djauth reopens it and fails.
    db.write_bytes(b"this is not a database" * 100)
    try:
        ready = djauth.get("/readyz")
        assert ready.status == 503
        assert ready.body == b"not ready: 1 of 1 databases do not answer\n"
        reply = djauth.get("/auth", [("Authorization", basic("alice", "wrong"))])
        assert reply.status == 500
        assert reply.header("WWW-Authenticate") is None
        samples = scrape(djauth)
        assert value(samples, "djauth_database_errors_total", site="mysite") == 2
        assert value(samples, "djauth_decisions_total", door="http", site="mysite", result="error") == 1
    finally:
        db.unlink()
        saved.rename(db)
    assert djauth.get("/readyz").status == 200


def test_a_database_without_django_tables_is_not_ready(djauth, workdir):
    """/readyz asks the user table itself: an SQLite file that opens but is
    not (or no longer) the Django database is not ready, although a bare
    `SELECT 1` would succeed."""
    db = djauth.db
    saved = workdir / "db.sqlite3.saved-empty"
    db.rename(saved)
    sqlite3.connect(db).execute("CREATE TABLE unrelated (x INTEGER)").connection.commit()
    try:
        assert djauth.get("/readyz").status == 503
        assert djauth.get("/auth", [("Authorization", basic("alice", "alice-pw"))]).status == 500
    finally:
        db.unlink()
        saved.rename(db)
    assert djauth.get("/readyz").status == 200
