"""Private PostgreSQL and MariaDB servers for the tests.

Each server lives in its own temporary directory (data, Unix socket, log),
listens on 127.0.0.1 on a free port, and is started and stopped by the PID of
the process we spawned: the machine's own database services are never used
or touched. Every server has two roles:

* an admin role (`djauth_admin`) that Django uses to migrate and to write the
  fixtures;
* a read-only role (`djauth_ro`) that djauth uses, with nothing but
  `GRANT SELECT` on a database's tables, as the documentation recommends.

Usage, as pytest session fixtures (`postgres_server`, `mariadb_server`) or
directly:

    server = PostgresServer(workdir); server.start()
    server.create_database("site")        # owned by the admin role
    ...Django migrates through server.admin_url("site")...
    server.grant_readonly("site", tables)  # SELECT on those tables (default all), nothing else
    djauth gets server.readonly_url("site")
    server.restart(); server.stop()

With `tls=TlsFiles(...)` (tests/support/tlsfiles.py) a server also accepts
TLS on its port with that certificate; clients choose whether to use it.

PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` OS user that the Debian package creates. A missing server binary
fails the test run with a message naming the Debian package; it never skips.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from support.procs import free_port, port_open, stop_pid, tail

ADMIN_USER = "djauth_admin"
ADMIN_PASSWORD = "admin-pw"
READONLY_USER = "djauth_ro"
READONLY_PASSWORD = "ro-pw"


class ServerError(RuntimeError):
    pass


def _missing(what, package):
    raise ServerError(f"{what} not found: install the Debian package {package} (scripts/test does)")


def _wait(predicate, proc, timeout, what, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"{what} exited with {proc.returncode} at start:\n{tail(log)}")
        if predicate():
            return
        time.sleep(0.1)
    raise ServerError(f"{what} did not become ready within {timeout}s:\n{tail(log)}")


class _Server:
    """What both servers share: a temp dir, a port, a process, stop/restart by PID."""

    kind = ""
    scheme = ""

    def __init__(self, root=None, tls=None):
        self.root = Path(root or tempfile.mkdtemp(prefix=f"djauth-{self.kind}-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.tls = tls
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "server.log"
        self.port = None
        self.proc = None
        self._roles_created = False

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def admin_url(self, db):
        return f"{self.scheme}://{ADMIN_USER}:{ADMIN_PASSWORD}@127.0.0.1:{self.port}/{db}"

    def readonly_url(self, db):
        return f"{self.scheme}://{READONLY_USER}:{READONLY_PASSWORD}@127.0.0.1:{self.port}/{db}"

    def readonly_socket_url(self, db):
        """The read-only role's URL through the Unix socket (the forms docs/configuration.md gives)."""
        raise NotImplementedError

    def start(self, timeout=60):
        if self.running():
            return
        if not self.data.exists():
            self.socket_dir.mkdir(exist_ok=True)
            self._init()
        if self.port is None:
            self.port = free_port()
        self._spawn()
        _wait(self._ready, self.proc, timeout, f"{self.kind} server", self.log)
        if not self._roles_created:
            self._create_roles()
            self._roles_created = True

    def stop(self, timeout=30):
        """Stop the server we started, by its PID; waits until the port is closed."""
        stop_pid(self.proc, timeout=timeout, sig=self.stop_signal)
        deadline = time.monotonic() + timeout
        while self.port and port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self, timeout=60):
        """Stop and start again on the same port with the same data."""
        self.stop()
        self.start(timeout=timeout)

    def cleanup(self):
        self.stop()
        if not os.environ.get("DJAUTH_KEEP_DB"):
            shutil.rmtree(self.root, ignore_errors=True)

    def _popen(self, args, **kw):
        with open(self.log, "ab") as log:
            log.write(f"--- {' '.join(map(str, args))}\n".encode())
            log.flush()
            return subprocess.Popen(
                [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=log, stderr=log, **kw
            )

    def _run(self, args, **kw):
        proc = self._popen(args, **kw)
        if proc.wait(timeout=300) != 0:
            raise ServerError(f"{args[0]} failed with {proc.returncode}:\n{tail(self.log)}")


# --- PostgreSQL --------------------------------------------------------------


def postgres_bindir():
    env = os.environ.get("DJAUTH_PG_BINDIR")
    candidates = [Path(env)] if env else sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists() and (bindir / "psql").exists():
            return bindir
    _missing("PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb, postgres, psql)", "postgresql")


class PostgresServer(_Server):
    kind = "postgres"
    scheme = "postgres"
    stop_signal = signal.SIGINT  # "fast shutdown"

    def __init__(self, root=None, tls=None):
        super().__init__(root, tls)
        self.bindir = postgres_bindir()
        self.run_as = {}
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                _missing("the postgres OS user (PostgreSQL refuses to run as root)", "postgresql")
            self.run_as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
            self.root.chmod(0o755)

    def _own(self, path):
        if self.run_as:
            os.chown(path, self.run_as["user"], self.run_as["group"])

    def _init(self):
        self._own(self.socket_dir)
        self.data.mkdir()
        self._own(self.data)
        pwfile = self.root / "pwfile"
        pwfile.write_text(ADMIN_PASSWORD + "\n")
        self._own(pwfile)
        self._run(
            [
                self.bindir / "initdb",
                "-D", self.data,
                "-U", ADMIN_USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            **self.run_as,
        )
        pwfile.unlink()

    def _tls_options(self):
        """postgres -c options serving TLS with copies of the files the server user owns (it insists on a private key)."""
        if not self.tls:
            return []
        own = self.root / "tls"
        own.mkdir(exist_ok=True)
        self._own(own)
        for name, source in (("server.pem", self.tls.cert), ("server.key", self.tls.key)):
            shutil.copyfile(source, own / name)
            (own / name).chmod(0o600)
            self._own(own / name)
        return ["-c", "ssl=on", "-c", f"ssl_cert_file={own / 'server.pem'}", "-c", f"ssl_key_file={own / 'server.key'}"]

    def _spawn(self):
        self.proc = self._popen(
            [
                self.bindir / "postgres",
                "-D", self.data,
                "-p", self.port,
                "-k", self.socket_dir,
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=200",
                *self._tls_options(),
            ],
            **self.run_as,
        )

    def readonly_socket_url(self, db):
        return f"postgres://{READONLY_USER}:{READONLY_PASSWORD}@{quote(str(self.socket_dir), safe='')}:{self.port}/{db}"

    def _psql(self, db, sql, user=ADMIN_USER, password=ADMIN_PASSWORD, check=True):
        env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
        proc = subprocess.run(
            [self.bindir / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", user, "-d", db, "-At", "-c", sql],
            capture_output=True, text=True, env=env, timeout=60,
        )
        if check and proc.returncode != 0:
            raise ServerError(f"psql {sql!r} on {db} failed: {proc.stderr.strip()}")
        return proc

    def sql(self, db, sql):
        """Run SQL as the admin role; returns psql's unaligned output."""
        return self._psql(db, sql).stdout

    def _ready(self):
        return port_open(self.port) and self._psql("postgres", "SELECT 1", check=False).returncode == 0

    def _create_roles(self):
        self.sql("postgres", f"CREATE ROLE {READONLY_USER} LOGIN PASSWORD '{READONLY_PASSWORD}'")

    def set_idle_timeout(self, seconds):
        """Make the server close the read-only role's sessions idle for `seconds`
        (None: never), for sessions opened from now on."""
        if seconds is None:
            self.sql("postgres", f"ALTER ROLE {READONLY_USER} RESET idle_session_timeout")
        else:
            self.sql("postgres", f"ALTER ROLE {READONLY_USER} SET idle_session_timeout = '{int(seconds * 1000)}ms'")

    def create_database(self, name):
        self.sql("postgres", f'DROP DATABASE IF EXISTS "{name}"')
        self.sql("postgres", f'CREATE DATABASE "{name}" OWNER {ADMIN_USER} ENCODING \'UTF8\' TEMPLATE template0')
        self.sql(name, f"REVOKE ALL ON DATABASE \"{name}\" FROM PUBLIC")

    def grant_readonly(self, name, tables=None):
        """`GRANT SELECT` to the read-only role on `tables` (default: every table), nothing more."""
        what = ", ".join(f'"{t}"' for t in tables) if tables else "ALL TABLES IN SCHEMA public"
        self.sql(
            name,
            f'GRANT CONNECT ON DATABASE "{name}" TO {READONLY_USER}; '
            f"GRANT USAGE ON SCHEMA public TO {READONLY_USER}; "
            f"GRANT SELECT ON {what} TO {READONLY_USER};",
        )

    def readonly_can(self, name, sql):
        """True if the read-only role can run `sql` (SELECT yes, UPDATE must not)."""
        return self._psql(name, sql, READONLY_USER, READONLY_PASSWORD, check=False).returncode == 0


# --- MariaDB -----------------------------------------------------------------


def mariadb_binaries():
    found = {}
    for name, options in {
        "server": ["mariadbd", "mysqld"],
        "install": ["mariadb-install-db", "mysql_install_db"],
        "client": ["mariadb", "mysql"],
    }.items():
        for option in options:
            path = shutil.which(option, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin")
            if path:
                found[name] = path
                break
        else:
            _missing(f"MariaDB {name} binary ({' or '.join(options)})", "mariadb-server")
    return found


class MariadbServer(_Server):
    kind = "mariadb"
    scheme = "mysql"
    stop_signal = signal.SIGTERM

    def __init__(self, root=None, tls=None):
        super().__init__(root, tls)
        self.bin = mariadb_binaries()
        self.socket = self.socket_dir / "mysqld.sock"
        self.user_opt = ["--user=root"] if os.geteuid() == 0 else []

    def _init(self):
        self._run(
            [
                self.bin["install"],
                "--no-defaults",
                f"--datadir={self.data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                *self.user_opt,
            ]
        )

    def _spawn(self):
        self.proc = self._popen(
            [
                self.bin["server"],
                "--no-defaults",
                f"--datadir={self.data}",
                f"--socket={self.socket}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--pid-file={self.root / 'mariadbd.pid'}",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                "--max-connections=200",
                *([f"--ssl-cert={self.tls.cert}", f"--ssl-key={self.tls.key}", f"--ssl-ca={self.tls.ca}"]
                  if self.tls else []),
                *self.user_opt,
            ]
        )

    def readonly_socket_url(self, db):
        return f"mysql://{READONLY_USER}:{READONLY_PASSWORD}@localhost/{db}?socket={quote(str(self.socket))}"

    def _client(self, sql, db=None, check=True):
        args = [self.bin["client"], "--no-defaults", f"--socket={self.socket}", "-u", "root", "-N", "-B", "-e", sql]
        if db:
            args.append(db)
        proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise ServerError(f"mariadb {sql!r} failed: {proc.stderr.strip()}")
        return proc

    def sql(self, db, sql):
        """Run SQL as root over the Unix socket; returns the client's batch output."""
        return self._client(sql, db).stdout

    def _ready(self):
        return self.socket.exists() and port_open(self.port) and self._client("SELECT 1", check=False).returncode == 0

    def _create_roles(self):
        anonymous = self._client("SELECT CONCAT(\"'\", Host, \"'\") FROM mysql.user WHERE User = ''").stdout.split()
        drops = "".join(f"DROP USER ''@{host}; " for host in anonymous)
        self.sql(
            None,
            drops
            + f"CREATE USER '{ADMIN_USER}'@'%' IDENTIFIED BY '{ADMIN_PASSWORD}'; "
            f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'%' WITH GRANT OPTION; "
            f"CREATE USER '{READONLY_USER}'@'%' IDENTIFIED BY '{READONLY_PASSWORD}'; "
            "FLUSH PRIVILEGES;",
        )

    def set_idle_timeout(self, seconds):
        """Make the server close sessions idle for `seconds` (MySQL's wait_timeout;
        None: the default), for sessions opened from now on."""
        value = "DEFAULT" if seconds is None else str(int(seconds))
        self.sql(None, f"SET GLOBAL wait_timeout = {value}")

    def create_database(self, name):
        self.sql(
            None,
            f"DROP DATABASE IF EXISTS `{name}`; "
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;",
        )

    def grant_readonly(self, name, tables=None):
        """`GRANT SELECT` to the read-only role on `tables` (default: the whole database), nothing more."""
        targets = [f"`{name}`.`{t}`" for t in tables] if tables else [f"`{name}`.*"]
        self.sql(None, "".join(f"GRANT SELECT ON {t} TO '{READONLY_USER}'@'%'; " for t in targets) + "FLUSH PRIVILEGES;")

    def readonly_can(self, name, sql):
        """True if the read-only role can run `sql` over TCP (SELECT yes, UPDATE must not)."""
        args = [self.bin["client"], "--no-defaults", "-h", "127.0.0.1", "-P", str(self.port), "-u", READONLY_USER,
                f"-p{READONLY_PASSWORD}", "-e", sql, name]
        return subprocess.run(args, capture_output=True, timeout=60).returncode == 0


def started_server(cls, **kw):
    """Start a server or fail the run loudly (never skip: a missing server is a missing dependency)."""
    server = None
    try:
        server = cls(**kw)
        server.start()
    except ServerError as e:
        if server is not None:
            server.cleanup()
        pytest.fail(str(e), pytrace=False)
    return server


@pytest.fixture(scope="session")
def postgres_server():
    """A private PostgreSQL on 127.0.0.1 for the whole session."""
    server = started_server(PostgresServer)
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def mariadb_server():
    """A private MariaDB on 127.0.0.1 for the whole session."""
    server = started_server(MariadbServer)
    yield server
    server.cleanup()
