"""Database-facing tests: djauth on Django databases made by real Django 5.2,
on private PostgreSQL and MariaDB servers (tests/support/dbservers.py) and on
SQLite, through its FastCGI front door (tests/support/fcgi.py) and, for the
two-site test, behind a private Apache (the harness of tests/e2e).

Cases (shared/cases/cases.md): C10 collations, C16 read-only role, C19 pool
bound, and one djauth serving two Django sites on two backends.

Django runs in .venv-django52 (made by scripts/test) through
tests/databases/django_tool.py; admin-side PostgreSQL sessions (sampling
pg_stat_activity, holding a lock) through tests/databases/pg_session.py in
the same venv. Missing pieces fail the run; nothing skips.
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
DJANGO_TOOL = HERE / "django_tool.py"
PG_SESSION = HERE / "pg_session.py"

# The tables docs/configuration.md tells PostgreSQL users to GRANT SELECT on.
DOCUMENTED_GRANTS = [
    "auth_user", "auth_group", "auth_user_groups", "auth_permission",
    "auth_group_permissions", "auth_user_user_permissions", "django_content_type",
]

# Cheap stored hashes: PBKDF2 at 1,000 iterations (the stored string carries
# its cost; djauth and Django verify it as stored).
CHEAP_PBKDF2 = 1000

# Lines printed at the end of the run (observed values, for the report).
SUMMARY = []


def run_django(backend, database, command, data, hashers=None, pbkdf2_iterations=None, timeout=600):
    """Run django_tool.py; returns its JSON answer."""
    args = [str(django_python()), str(DJANGO_TOOL), "--backend", backend, "--database", database]
    if hashers:
        args += ["--hashers", ",".join(hashers)]
    if pbkdf2_iterations:
        args += ["--pbkdf2-iterations", str(pbkdf2_iterations)]
    proc = subprocess.run(args + [command], input=json.dumps(data), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"django_tool.py {command} on {backend} failed ({proc.returncode}):\n{proc.stderr[-4000:]}",
                    pytrace=False)
    return json.loads(proc.stdout)


class DjangoDatabase:
    """A database that Django migrated and filled, readable by djauth's SELECT-only role."""

    def __init__(self, backend, name, admin, readonly, server, built, pbkdf2_iterations):
        self.backend, self.name, self.admin, self.readonly, self.server = backend, name, admin, readonly, server
        self.ids = built["ids"]
        self.collation = built["collation"]
        self.pbkdf2_iterations = pbkdf2_iterations

    def site(self, **settings):
        """`[sites.NAME]` keys: this database through the read-only role, plus `settings`."""
        return {"database": self.readonly, **settings}

    def django_check(self, pairs, hashers=None, readonly=False, pbkdf2_iterations="same"):
        """Django's own `modwsgi.check_password` for each (username, password)."""
        iterations = self.pbkdf2_iterations if pbkdf2_iterations == "same" else pbkdf2_iterations
        database = self.readonly if readonly else self.admin
        if self.backend == "sqlite":
            database = self.admin
        return run_django(self.backend, database, "check", [list(p) for p in pairs], hashers, iterations)

    def sql(self, sql):
        """Run SQL as the admin role (PostgreSQL, MariaDB)."""
        return self.server.sql(self.name, sql)


@pytest.fixture(scope="session")
def workdir():
    yield from scratch_dir("djauth-databases-")


@pytest.fixture(scope="session")
def django_database(request, workdir):
    """build(backend, name, spec, server=None) -> DjangoDatabase (see django_tool.py for `spec`).

    `server`: a PostgresServer or MariadbServer of the caller's; by default
    the session's shared one.

    PostgreSQL: the read-only role gets SELECT on exactly the documented
    tables; MariaDB: on the whole database (as documented). Both are checked
    to read and not to write.
    """

    def build(backend, name, spec, pbkdf2_iterations=CHEAP_PBKDF2, server=None):
        if backend == "sqlite":
            path = workdir / f"{name}.sqlite3"
            admin, readonly = str(path), f"sqlite://{path}"
        else:
            if server is None:
                server = request.getfixturevalue("postgres_server" if backend == "postgres" else "mariadb_server")
            server.create_database(name)
            admin, readonly = server.admin_url(name), server.readonly_url(name)
        built = run_django(backend, admin, "build", spec, pbkdf2_iterations=pbkdf2_iterations)
        if server is not None:
            server.grant_readonly(name, DOCUMENTED_GRANTS if backend == "postgres" else None)
            assert server.readonly_can(name, "SELECT COUNT(*) FROM auth_user"), f"{readonly} cannot read"
            assert not server.readonly_can(name, "UPDATE auth_user SET password = password"), f"{readonly} can write"
        return DjangoDatabase(backend, name, admin, readonly, server, built, pbkdf2_iterations)

    return build


def djauth_user(resp):
    """The stored username djauth handed back (Variable-DJANGO_USER), as text."""
    value = resp.header("Variable-DJANGO_USER")
    return None if value is None else value.decode("utf-8")


@pytest.fixture(scope="session")
def summary():
    """Lines for the end-of-run summary."""
    return SUMMARY


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("djauth on Django databases: observed")
        for line in SUMMARY:
            terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for log in sorted(Path(item.funcargs.get("workdir", "/nonexistent")).glob("*.log")):
            report.sections.append((f"log {log.name}", tail(log)))
