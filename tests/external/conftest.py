"""djauth behind Apache's mod_authnz_external (Debian's
libapache2-mod-authnz-external), the module forking `djauth external` per check.

Real parts only: a copy of the demo database (examples/demo, made by Django
5.2) plus one user added by Django itself (add_gina.py, run with
.venv-django52); the real djauth daemon on it with a [unix] socket; a private
Apache on a loopback port (the harness of tests/e2e:
examples/apache/private-httpd.conf.in) that includes
examples/apache/djauth-external.conf unchanged plus the test-only locations of
locations.conf.in. `djauth external` is the release binary, copied as
Apache's children would find it installed. Everything is stopped by PID.

Missing pieces (the binary, apache2, mod_authnz_external, the Django venv)
fail the run; nothing skips.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from e2e.conftest import Client
from support.apache import APACHE_MODULES, private_apache, write_pages
from support.django import django_python
from support.djauth import REPO, Djauth, demo_db_copy, djauth_binary
from support.scratch import scratch_dir, watch_log

HERE = Path(__file__).resolve().parent
EXTERNAL_CONF = REPO / "examples" / "apache" / "djauth-external.conf"
TEST_LOCATIONS = HERE / "locations.conf.in"
MODULE = APACHE_MODULES / "mod_authnz_external.so"
SITE = "demo"
# Document directories: the example's locations and the test-only ones.
LOCATIONS = ["ext-private", "ext-agents", "ext-perm", "ext-any", "ext-bad-rule"]


def authnz_external_module():
    if not MODULE.exists():
        pytest.fail(
            f"{MODULE} not found: install the Debian package libapache2-mod-authnz-external (scripts/test does)",
            pytrace=False,
        )
    return MODULE


class UnixDaemon(Djauth):
    """`djauth serve` on the database, with the [unix] socket `djauth external` asks."""

    def __init__(self, workdir, db):
        super().__init__(
            workdir,
            {SITE: {"database": f"sqlite://{db}"}},
            name="djauth-external",
            socket=Path(workdir) / "djauth.sock",
        )
        self.site = SITE


@pytest.fixture(scope="session")
def workdir():
    yield from scratch_dir("djauth-external-")


@pytest.fixture(scope="session")
def database(workdir):
    db = demo_db_copy(workdir / "db.sqlite3")
    out = subprocess.run([str(django_python()), str(HERE / "add_gina.py"), str(db)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"add_gina.py failed ({out.returncode}):\n{out.stdout}{out.stderr}", pytrace=False)
    return db


@pytest.fixture(scope="session")
def djauth_external(workdir):
    """The djauth binary where Apache's children may run it (as if installed)."""
    bindir = workdir / "bin"
    bindir.mkdir()
    bindir.chmod(0o755)
    binary = bindir / "djauth"
    shutil.copyfile(djauth_binary(), binary)
    binary.chmod(0o755)
    return binary


@pytest.fixture(scope="session")
def daemon(workdir, database):
    daemon = UnixDaemon(workdir, database)
    watch_log("djauth stderr", daemon.log)
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def apache(workdir, daemon, djauth_external):
    authnz_external_module()
    docs = workdir / "htdocs"
    write_pages(docs, [""] + LOCATIONS)
    server = private_apache(
        workdir / "apache",
        docs,
        f'LoadModule authnz_external_module "{MODULE}"\n'
        + f'Define DJAUTH_BIN "{djauth_external}"\n'
        + f'Define DJAUTH_SOCKET "{daemon.socket}"\n'
        + f"Define DJAUTH_SITE {SITE}\n"
        + f'Include "{EXTERNAL_CONF}"\n'
        + TEST_LOCATIONS.read_text(),
        DJAUTH_PORT=daemon.port,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def web(apache):
    return Client(apache.port)

