"""The real Django the suites use as fixture builder and oracle."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def django_python(version="5.2"):
    """The Python of .venv-django42 / .venv-django52 (made by scripts/test), or
    $DJAUTH_DJANGO42_PYTHON / $DJAUTH_DJANGO52_PYTHON; a missing one fails the run."""
    tag = version.replace(".", "")
    path = Path(os.environ.get(f"DJAUTH_DJANGO{tag}_PYTHON", REPO / f".venv-django{tag}" / "bin" / "python"))
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"no Python with Django {version} at {path}: scripts/test creates .venv-django{tag} "
            f"from tests/requirements-django{tag}.txt",
            pytrace=False,
        )
    return path
