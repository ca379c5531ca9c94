"""examples/systemd/djauth.service (docs/deployment.md) stays a valid unit.

systemd's own checker reads it with ExecStart pointed at the real binary:
`systemd-analyze verify` must accept it (also with its commented
LoadCredential= line switched on), and `systemd-analyze security --offline`
must keep rating it "OK" (exposure at most 2.0; 1.3 when written). The unit
is not started: the test machines have no systemd as PID 1.
"""

import re
import shutil
import subprocess

import pytest

from support.djauth import REPO, djauth_binary

UNIT = REPO / "examples" / "systemd" / "djauth.service"


def systemd_analyze():
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.fail("systemd-analyze not found: install the Debian package systemd (scripts/test does)", pytrace=False)
    return path


@pytest.fixture
def unit(tmp_path):
    text = UNIT.read_text().replace("/usr/local/bin/djauth", str(djauth_binary()))
    assert str(djauth_binary()) in text
    path = tmp_path / "djauth.service"
    path.write_text(text)
    return path


def test_verify_accepts_the_unit(unit):
    for text in [unit.read_text(), unit.read_text().replace("#LoadCredential=", "LoadCredential=")]:
        unit.write_text(text)
        out = subprocess.run([systemd_analyze(), "verify", str(unit)], capture_output=True, text=True)
        assert out.returncode == 0 and out.stderr == "", out


def test_security_exposure_stays_low(unit):
    out = subprocess.run([systemd_analyze(), "security", "--offline=yes", str(unit)], capture_output=True, text=True)
    assert out.returncode == 0, out
    match = re.search(r"Overall exposure level for djauth\.service: (\d+\.\d+) (\w+)", out.stdout)
    assert match, out.stdout[-2000:]
    assert float(match.group(1)) <= 2.0 and match.group(2) == "OK", match.group(0)
