#!/usr/bin/env python3
"""Admin-side PostgreSQL sessions for tests/databases, run with the Django 5.2
venv's Python (it has psycopg). Both commands run until their stdin closes.

    pg_session.py sample DSN DATABASE ROLE
        Counts the server-side connections of djauth to DATABASE (backends of
        ROLE, or with application_name 'djauth') in pg_stat_activity, about
        every millisecond. Prints "ready" once the first sample is taken; when
        stdin closes, one JSON line {"max", "samples", "nonzero", "histogram"}.

    pg_session.py lock DSN TABLE
        BEGIN; LOCK TABLE TABLE IN ACCESS EXCLUSIVE MODE; prints "locked";
        holds the lock until stdin closes; ROLLBACK; prints "released".
"""

import json
import sys
import threading
import time

import psycopg

COUNT = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = %s AND (usename = %s OR application_name = 'djauth') AND pid <> pg_backend_pid()"
)


def stdin_closed():
    """An Event set when stdin reaches EOF."""
    done = threading.Event()

    def wait():
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    return done


def sample(dsn, database, role):
    histogram = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        done = stdin_closed()
        first = True
        while not done.is_set():
            # pg_stat_activity is a snapshot per transaction: autocommit gives a fresh one each time.
            n = conn.execute(COUNT, (database, role)).fetchone()[0]
            histogram[n] = histogram.get(n, 0) + 1
            if first:
                print("ready", flush=True)
                first = False
            time.sleep(0.001)
    samples = sum(histogram.values())
    print(json.dumps({
        "max": max(histogram) if histogram else 0,
        "samples": samples,
        "nonzero": samples - histogram.get(0, 0),
        "histogram": {str(k): v for k, v in sorted(histogram.items())},
    }), flush=True)


def lock(dsn, table):
    with psycopg.connect(dsn) as conn:
        conn.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')  # inside the implicit transaction
        print("locked", flush=True)
        stdin_closed().wait()
        conn.rollback()
    print("released", flush=True)


def main():
    command, *args = sys.argv[1:]
    {"sample": sample, "lock": lock}[command](*args)


if __name__ == "__main__":
    main()
