"""`make playground` and `make run` from the outside: what they print and how they stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

from tests.support.browser import ROOT, start_playground


def test_make_run_without_a_token_points_at_the_playground(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["DATA_DIR"] = str(tmp_path)
    # cwd without a .env, so no token can come from one.
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("anime8: DISCORD_TOKEN is not set")
    assert "`make playground`" in lines[0]


def test_the_playground_serves_its_page_and_the_synced_commands(tmp_path):
    """Offline, it prints its address, serves the page and its files from the package, offers
    the commands the bot synced (/autotrain to the owner only) and stops on Ctrl-C."""
    running = start_playground(tmp_path)
    try:
        with urllib.request.urlopen(running.url, timeout=10) as page:
            html = page.read().decode()
        assert "<title>Anime8 playground</title>" in html
        assert "http" not in html.replace("http-equiv", "")  # nothing from a CDN
        with urllib.request.urlopen(running.url + "/static/app.js", timeout=10) as script:
            assert "EventSource" in script.read().decode()
        # The bot syncs its commands before it connects: wait until the page says it is online.
        for _ in range(600):
            state = _get(running.url + "/api/state")
            if state["status"] != "starting":
                break
            time.sleep(0.1)
        assert state["status"] in ("warming up", "ready"), running.log()
        general = next(c["id"] for c in state["channels"] if c["name"] == "general")
        owner = next(m["name"] for m in state["members"] if m["owner"])
        offered = {}
        for member in ("alice", owner):
            url = f"{running.url}/api/commands?user={member}&channel={general}"
            offered[member] = {c["name"] for c in _get(url)}
        assert {"recommend", "watchparty", "link", "help"} <= offered["alice"]
        assert "autotrain" not in offered["alice"]
        assert "autotrain" in offered[owner]
    finally:
        assert running.stop() == 0, running.log()


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)
