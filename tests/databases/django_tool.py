#!/usr/bin/env python3
"""Django's side of tests/databases: build a Django database, and ask Django.

Run with the Python of the Django 5.2 venv (.venv-django52, which has psycopg
and PyMySQL); tests/databases/conftest.py does. JSON in on stdin, JSON out on
stdout:

    django_tool.py --backend sqlite|postgres|mysql --database PATH-or-URL \
        [--hashers DOTTED,...] [--pbkdf2-iterations N] build < spec.json
        spec: {"groups": [...], "users": [{"username", "password" | "hash",
               "groups": [...], "is_active", "is_staff", "is_superuser"}]}
        out:  {"ids": {username: id}, "collation": column collation (MySQL) or null}

    django_tool.py ... check < [[username, password], ...]
        out:  [{"result": true | false | null} | {"error": "ExceptionClass: message"}, ...]
        what `django.contrib.auth.handlers.modwsgi.check_password` (the recipe
        djauth replaces) says for each pair; an exception is what mod_wsgi
        turns into HTTP 500.

`--pbkdf2-iterations` lowers PBKDF2PasswordHasher's default cost, both for
the hashes `build` makes and for `check`, so a check never finds the stored
hash outdated and never writes an upgraded hash back (nothing but djauth's
own behaviour is under test). Without it, Django runs at its real defaults,
upgrades included.
"""

import argparse
import json
import sys
import warnings
from urllib.parse import unquote, urlsplit

warnings.filterwarnings("ignore")


def database_settings(backend, database):
    if backend == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": database}
    url = urlsplit(database)
    common = {
        "NAME": url.path.lstrip("/"),
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname,
        "PORT": str(url.port),
    }
    if backend == "postgres":
        return {"ENGINE": "django.db.backends.postgresql", **common}
    if backend == "mysql":
        import pymysql

        pymysql.install_as_MySQLdb()
        return {"ENGINE": "django.db.backends.mysql", "OPTIONS": {"charset": "utf8mb4"}, **common}
    raise SystemExit(f"unknown backend {backend}")


def configure(args):
    import django
    from django.conf import global_settings, settings

    hashers = args.hashers.split(",") if args.hashers else list(global_settings.PASSWORD_HASHERS)
    settings.configure(
        DEBUG=False,
        SECRET_KEY="djauth-databases-not-secret",
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        DATABASES={"default": database_settings(args.backend, args.database)},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        PASSWORD_HASHERS=hashers,
    )
    django.setup()
    if args.pbkdf2_iterations:
        from django.contrib.auth import hashers as h

        h.PBKDF2PasswordHasher.iterations = args.pbkdf2_iterations
        h.PBKDF2SHA1PasswordHasher.iterations = args.pbkdf2_iterations


def build(spec):
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    groups = {name: Group.objects.create(name=name) for name in spec.get("groups", [])}
    ids = {}
    for entry in spec["users"]:
        user = User(
            username=User.normalize_username(entry["username"]),
            is_active=entry.get("is_active", True),
            is_staff=entry.get("is_staff", False),
            is_superuser=entry.get("is_superuser", False),
        )
        if "hash" in entry:
            user.password = entry["hash"]
        else:
            user.set_password(entry["password"])
        user.save()
        user.groups.set([groups[g] for g in entry.get("groups", [])])
        ids[user.username] = user.pk
    collation = None
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COLLATION_NAME FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'auth_user' AND COLUMN_NAME = 'username'"
            )
            collation = cursor.fetchone()[0]
    return {"ids": ids, "collation": collation}


def check(pairs):
    from django.contrib.auth.handlers.modwsgi import check_password

    out = []
    for username, password in pairs:
        try:
            out.append({"result": check_password({}, username, password)})
        except Exception as e:  # what mod_wsgi would turn into a 500
            out.append({"error": f"{type(e).__name__}: {e}".strip()})
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", required=True, choices=["sqlite", "postgres", "mysql"])
    parser.add_argument("--database", required=True)
    parser.add_argument("--hashers", default="")
    parser.add_argument("--pbkdf2-iterations", type=int, default=0)
    parser.add_argument("command", choices=["build", "check"])
    args = parser.parse_args()
    configure(args)
    data = json.load(sys.stdin)
    result = build(data) if args.command == "build" else check(data)
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
