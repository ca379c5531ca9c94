"""Scratch directories for a suite, and the logs a failing test's report shows."""

import os
import shutil
import tempfile
from pathlib import Path

# (title, path) of the logs of the servers a suite started; the root
# conftest appends their tails to the report of a failing test.
LOGS = []


def watch_log(title, path):
    """Show the tail of `path` under `title` when a test fails."""
    LOGS.append((title, Path(path)))


def scratch_dir(prefix):
    """For a fixture (`yield from scratch_dir("djauth-x-")`): a new temporary
    directory that Apache's children (nobody, when the tests run as root) may
    enter, removed afterwards unless DJAUTH_KEEP is set."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    yield path
    if os.environ.get("DJAUTH_KEEP"):
        print(f"\nkept {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)
