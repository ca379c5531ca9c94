"""Small process and socket helpers shared by the test suites."""

import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def socket_open(path):
    """True when the Unix socket at `path` accepts a connection."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
        return True
    except OSError:
        return False


def tail(path, lines=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"({e})"


def wait_ready(proc, ready, timeout):
    """Polls `ready()` while `proc` runs: None once it is true, else why not
    ("exited with CODE" or "not ready within Ns")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with {proc.returncode}"
        if ready():
            return None
        time.sleep(0.05)
    return f"not ready within {timeout}s"


def wait_for_log(path, needle, timeout=5):
    """The text of the log at `path` once it contains `needle`, or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        text = Path(path).read_text(errors="replace")
        if needle in text or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def stop_pid(proc, timeout=10, sig=signal.SIGTERM):
    """Stop one process we started, by its PID: `sig` (SIGTERM), then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
