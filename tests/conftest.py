"""Shared by every suite under tests/: in CI a skipped test is a missing
dependency, so it fails instead of passing silently; a failing test's
report ends with the tails of the server logs the suite watches
(support.scratch.watch_log)."""

import os

import pytest

from support.procs import tail
from support.scratch import LOGS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI"):
        report.outcome = "failed"
        report.longrepr = f"test skipped in CI (CI={os.environ['CI']}): {report.longrepr}"
    if report.when == "call" and report.failed:
        for title, path in LOGS:
            report.sections.append((title, tail(path)))
