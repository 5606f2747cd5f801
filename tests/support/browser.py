"""Starting `python -m playground` as `make playground` does, and a headless Chromium to use
its page, for the browser tests.

Selenium drives Debian's `chromium` through Debian's `chromium-driver`: the two come from one
source package, so the driver always speaks the installed browser's protocol version, and
nothing is downloaded (Playwright's client expects its own browser build, which cannot be
fetched here). Selenium's blocking calls also suit a test that drives a separate process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30
# Chromium as root in a container, on a machine whose only network is loopback: without the
# background-networking flags its connections fail many at a time.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (make test installs it)"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install -y chromium chromium-driver)"
    return None


@dataclass
class RunningPlayground:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> int:
        """SIGINT, as Ctrl-C in `make playground`; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("the playground did not stop on SIGINT") from None


def start_playground(tmp_path: Path) -> RunningPlayground:
    """Start the offline playground on a free port; returns once it printed its address."""
    data_dir = tmp_path / "data"
    log_path = tmp_path / "playground.log"
    env = {
        **os.environ,
        "PLAYGROUND_ANILIST": "fake",
        "PLAYGROUND_PORT": "0",
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "INFO",
        "AUTO_TRAIN": "false",
    }
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "playground"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    assert process.stdout is not None
    # The address is the first line printed; readline returns "" if the process dies first.
    line = process.stdout.readline()
    running = RunningPlayground(process, "", data_dir, log_path)
    if "http://127.0.0.1:" not in line:
        running.stop()
        raise AssertionError(f"the playground printed {line!r}; its log:\n{running.log()}")
    running.url = line.split("open ")[1].split()[0]
    return running


@pytest.fixture
def playground(tmp_path) -> Iterator[RunningPlayground]:
    running = start_playground(tmp_path)
    try:
        yield running
    finally:
        assert running.stop() == 0, running.log()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for drivers
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
