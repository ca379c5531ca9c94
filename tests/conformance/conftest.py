"""Conformance harness: real Django (4.2 and 5.2) is the oracle, the real djauth
binary answers through its FastCGI front door, on SQLite, PostgreSQL and MariaDB.

Django runs in its own venvs (`.venv-django42`, `.venv-django52`, made by
scripts/test from tests/requirements-django42.txt / -django52.txt) through
tests/conformance/django_side.py, which builds the fixture database and writes
Django's answers to JSON. The private database servers come from
tests/support/dbservers.py. Missing pieces fail the run; nothing skips.
"""

import json
import subprocess
from pathlib import Path

import pytest

from support.dbservers import mariadb_server, postgres_server  # noqa: F401  (fixtures)
from support.django import django_python
from support.djauth import REPO
from support.procs import tail
from support.scratch import scratch_dir

HERE = Path(__file__).resolve().parent
DJANGO_SIDE = HERE / "django_side.py"
# One line per (version, backend, fixture), printed at the end of the run.
SUMMARY = []


@pytest.fixture(scope="session")
def workdir():
    yield from scratch_dir("djauth-conformance-")


def django_auth_tables(answers):
    """The tables djauth reads: the user model's, its two M2M tables, and auth's."""
    user = answers["user_table"]
    return [user, f"{user}_groups", f"{user}_user_permissions", "auth_group", "auth_permission",
            "auth_group_permissions", "django_content_type"]


class BuiltDatabase:
    """A fixture database built by Django, readable by djauth's SELECT-only role."""

    def __init__(self, name, version, backend, fixture, answers_path, readonly_url, server):
        self.name, self.version, self.backend, self.fixture = name, version, backend, fixture
        self.answers = json.loads(Path(answers_path).read_text())
        self.readonly_url, self.server = readonly_url, server

    def site_settings(self, site):
        """The `[sites.NAME]` keys for one of the run's PASSWORD_HASHERS lists
        (djauth's spelling: a project's own hasher classes by algorithm name)."""
        settings = {
            "database": self.readonly_url,
            "password_hashers": self.answers["djauth_sites"][site],
            "django_version": self.answers["django_version"],
        }
        if self.fixture.startswith("custom"):
            settings["user_model"] = self.answers["user_model"]
            settings["username_field"] = self.answers["username_field"]
        if self.fixture == "custom-iexact":
            settings["username_match"] = "iexact"
        return settings


@pytest.fixture(scope="session")
def built_databases(request, workdir):
    """build(version, backend, fixture) -> BuiltDatabase, built once per session."""
    cache = {}

    def build(version, backend, fixture):
        key = (version, backend, fixture)
        if key in cache:
            return cache[key]
        name = f"dj{version.replace('.', '')}_{fixture}"
        out = workdir / f"{name}_{backend}"
        out.mkdir()
        server = None
        if backend == "sqlite":
            db = out / "db.sqlite3"
            admin, readonly = str(db), f"sqlite://{db}"
        else:
            server = request.getfixturevalue("postgres_server" if backend == "postgres" else "mariadb_server")
            server.create_database(name)
            admin, readonly = server.admin_url(name), server.readonly_url(name)
        answers = out / "answers.json"
        log = out / "django_side.log"
        with open(log, "wb") as log_file:
            proc = subprocess.run(
                [str(django_python(version)), str(DJANGO_SIDE), "--backend", backend, "--database", admin,
                 "--fixture", fixture, "--workdir", str(out), "--out", str(answers)],
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, timeout=900,
            )
        if proc.returncode != 0:
            pytest.fail(f"django_side.py failed for {key}:\n{tail(log, 60)}", pytrace=False)
        built = BuiltDatabase(name, version, backend, fixture, answers, readonly, server)
        if server is not None:
            # PostgreSQL: exactly the tables docs/configuration.md tells users to grant;
            # MariaDB: the whole database, as documented there.
            server.grant_readonly(name, django_auth_tables(built.answers) if backend == "postgres" else None)
            assert server.readonly_can(name, "SELECT COUNT(*) FROM auth_group"), f"{readonly} cannot read"
            assert not server.readonly_can(name, "UPDATE auth_group SET name = name"), f"{readonly} can write"
        cache[key] = built
        return built

    return build


@pytest.fixture(scope="session")
def summary():
    """Lines for the end-of-run summary."""
    return SUMMARY


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("djauth vs Django conformance")
        for line in SUMMARY:
            terminalreporter.write_line(line)
