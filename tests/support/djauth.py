"""Run the real djauth binary with a generated configuration file."""

import os
import subprocess
import time
from pathlib import Path

import pytest

from support.procs import free_port, port_open, stop_pid, tail

REPO = Path(__file__).resolve().parents[2]


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


class Djauth:
    """`djauth serve --config FILE` on one FastCGI listener at a free loopback port."""

    def __init__(self, workdir, sites, name="djauth", extra=""):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.config = self.workdir / f"{name}.toml"
        self.log = self.workdir / f"{name}.log"
        self.config.write_text(
            "".join(site_table(site, settings) + "\n" for site, settings in sites.items())
            + extra
            + f'[[fastcgi]]\nlisten = "127.0.0.1:{self.port}"\n'
        )
        self.proc = None

    def start(self, timeout=30, log_filter=None):
        """Starts the daemon; `log_filter` sets DJAUTH_LOG (e.g. "debug")."""
        env = dict(os.environ, **({"DJAUTH_LOG": log_filter} if log_filter else {}))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(djauth_binary()), "serve", "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"djauth exited with {self.proc.returncode} at start with {self.config}:\n"
                    f"{self.config.read_text()}\n--- log:\n{tail(self.log)}",
                    pytrace=False,
                )
            if port_open(self.port):
                return self
            time.sleep(0.05)
        pytest.fail(f"djauth did not listen within {timeout}s:\n{tail(self.log)}", pytrace=False)

    def stop(self):
        stop_pid(self.proc)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
