"""Helpers shared by the test suites (importable because tests/pytest.ini sets pythonpath)."""
