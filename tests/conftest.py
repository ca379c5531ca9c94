"""Shared by every suite under tests/: in CI a skipped test is a missing
dependency, so it fails instead of passing silently."""

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI"):
        report.outcome = "failed"
        report.longrepr = f"test skipped in CI (CI={os.environ['CI']}): {report.longrepr}"
