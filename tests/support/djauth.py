"""Run the real djauth binary with a generated configuration file."""

import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from support.procs import free_port, port_open, socket_open, stop_pid, tail, wait_ready

REPO = Path(__file__).resolve().parents[2]
DEMO_DB = REPO / "examples" / "demo" / "db.sqlite3"


def djauth_binary():
    path = Path(os.environ.get("DJAUTH_BIN", REPO / "target" / "release" / "djauth"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"djauth binary not found at {path}: run `cargo build --release` (scripts/test does)", pytrace=False)
    return path


def mod_djauth_so():
    """The Apache module, target/release/libmod_djauth.so (or $MOD_DJAUTH_SO)."""
    path = Path(os.environ.get("MOD_DJAUTH_SO", REPO / "target" / "release" / "libmod_djauth.so"))
    if not path.exists():
        pytest.fail(f"{path} not found: run `cargo build --release` (scripts/test does)", pytrace=False)
    return path


def demo_db_copy(path):
    """A copy of the demo database (examples/demo/db.sqlite3, made by Django) at `path`."""
    if not DEMO_DB.exists():
        pytest.fail(f"{DEMO_DB} is missing: run scripts/make-demo-db", pytrace=False)
    shutil.copyfile(DEMO_DB, path)
    return Path(path)


def toml_string(value):
    """A TOML basic string."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(type(value))


def site_table(name, settings):
    """`[sites.NAME]` with the given keys, in order."""
    lines = [f"[sites.{name}]"]
    # The suites change and stop databases between requests: read every time.
    settings = {"cache_freshness": 0, **settings}
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items() if value is not None]
    return "\n".join(lines) + "\n"


def unix_table(path):
    """`[unix]` listening at `path`; as root for group nogroup, since Apache's
    children (and so `djauth external`) then run as nobody:nogroup."""
    group = 'group = "nogroup"\n' if os.geteuid() == 0 else ""
    return f"[unix]\npath = {toml_string(str(path))}\n{group}"


class DjauthProcess:
    """`djauth serve --config FILE` with its output appended to a log file.

    It is ready once every loopback TCP port in `ports` and every Unix socket
    in `sockets` accepts a connection. A start that fails reports the exit code
    (or what it waited for), the configuration and the tail of the log. The
    configuration file must be written before `start`."""

    def __init__(self, config, log, ports=(), sockets=()):
        self.config, self.log = Path(config), Path(log)
        self.ports, self.sockets = list(ports), [Path(s) for s in sockets]
        self.proc = None

    def ready(self):
        """True when every port and every socket accepts a connection."""
        return all(port_open(p) for p in self.ports) and all(socket_open(s) for s in self.sockets)

    def start(self, timeout=30, log_filter=None):
        """Starts the daemon and waits until it is ready; `log_filter` sets DJAUTH_LOG (e.g. "debug")."""
        env = dict(os.environ, **({"DJAUTH_LOG": log_filter} if log_filter else {}))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(djauth_binary()), "serve", "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
            )
        problem = wait_ready(self.proc, self.ready, timeout)
        if problem:
            waited = [f"127.0.0.1:{p}" for p in self.ports] + [str(s) for s in self.sockets]
            pytest.fail(
                f"djauth {problem} at start (waiting for {', '.join(waited)}) with {self.config}:\n"
                f"{self.config.read_text()}\n--- log:\n{tail(self.log)}",
                pytrace=False,
            )
        return self

    def stop(self):
        """Stops the daemon by its PID, then waits (10 s at most) until its ports are closed."""
        stop_pid(self.proc)
        deadline = time.monotonic() + 10
        while any(port_open(p) for p in self.ports) and time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@contextmanager
def stopped(daemon):
    """Runs the block with `daemon` stopped, and starts it again afterwards (also when the block fails)."""
    daemon.stop()
    try:
        yield daemon
    finally:
        daemon.start()


class Djauth(DjauthProcess):
    """`djauth serve --config FILE` on one FastCGI listener at a free loopback
    port, plus a [unix] listener at `socket` when one is given."""

    def __init__(self, workdir, sites, name="djauth", extra="", socket=None):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.socket = Path(socket) if socket is not None else None
        sockets = [self.socket] if self.socket is not None else []
        super().__init__(self.workdir / f"{name}.toml", self.workdir / f"{name}.log", [self.port], sockets)
        self.config.write_text(
            "".join(site_table(site, settings) + "\n" for site, settings in sites.items())
            + extra
            + "".join(unix_table(s) + "\n" for s in sockets)
            + f'[[fastcgi]]\nlisten = "127.0.0.1:{self.port}"\n'
        )
