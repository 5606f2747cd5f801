"""The systemd unit an operator installs: it parses, and it says what the README promises."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "anime8.service"


def unit_sections() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # keys are case-sensitive
    parser.read(UNIT)
    return parser


def test_unit_restarts_and_keeps_data_under_var_lib():
    unit = unit_sections()
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert service["User"] == "anime8"
    assert "DATA_DIR=/var/lib/anime8" in service["Environment"].split()
    assert service["StateDirectory"] == "anime8"
    assert service["ExecStart"].split()[1] == "main.py"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path):
    """`systemd-analyze verify` checks ExecStart's program exists, so the unit is pointed at
    this checkout instead of /opt/anime8."""
    local = tmp_path / "anime8.service"
    local.write_text(UNIT.read_text().replace("/opt/anime8", str(ROOT)))
    (ROOT / ".venv" / "bin" / "python").resolve(strict=True)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "anime8.service" not in done.stderr, done.stderr
