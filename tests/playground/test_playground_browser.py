"""The playground in a real browser: headless Chromium does what a person trying Anime8 does.

Run with `make test`, or alone with `.venv/bin/python -m pytest tests/playground`. Skipped
when Chromium or its driver is missing (`apt-get install -y chromium chromium-driver`; `.ci/run`
installs them). Why Selenium and not Playwright: see tests/support/browser.py. A failing test
saves a screenshot of the page to browser-screenshots/ (ignored by git) and names it in the
failure; a passing one leaves browser-screenshots/playground.png, the page after Alice rated.
"""

from __future__ import annotations

import sqlite3

import pytest

from emulator.discord import ALICE_ID, BOB_ID
from tests.support.browser import ROOT, browser_missing

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))

SCREENSHOTS = ROOT / "browser-screenshots"
WAIT_S = 60  # the bot's first model build runs in a child process that imports torch


def test_a_person_recommends_pages_and_rates_then_a_second_member_rates(playground, browser):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    # The page redraws a channel's messages on every live update, so an element found a moment
    # ago may be gone: waits retry then, as a person would look again.
    wait = WebDriverWait(browser, WAIT_S, ignored_exceptions=[StaleElementReferenceException])

    def shown(css: str):
        return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def texts(css: str) -> list[str]:
        script = "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText)"
        return browser.execute_script(script, css)

    def press(label: str) -> None:
        def found(_):
            for node in browser.find_elements(By.CSS_SELECTOR, ".message .button"):
                if node.text == label:
                    node.click()
                    return True
            return False

        wait.until(found)

    def seen(css: str, text: str) -> None:
        wait.until(lambda _: any(text in t for t in texts(css)))

    try:
        browser.get(playground.url)
        shown('#status[data-state="ready"]')
        assert "Offline demo" in shown("#hint").text

        # Autocomplete offers the synced command, then its options, as Discord's box does.
        box = shown("#command-input")
        box.send_keys("/rec")
        assert "/recommend" in shown("#suggestions .suggestion.active").text
        box.send_keys(Keys.TAB)
        box.send_keys("pref")
        assert shown("#suggestions .suggestion.active .title").text == "preferences"
        box.send_keys(Keys.TAB)
        assert box.get_attribute("value") == "/recommend preferences:"
        box.send_keys("psychological thriller count:3")
        box.send_keys(Keys.ENTER)

        # The recommendation arrives as Discord renders it: "used", embed, buttons.
        seen(".embed-footer", "1 / 3")
        assert "@Alice used /recommend preferences:psychological thriller count:3" in texts(".used")
        title = shown(".embed a.embed-title")
        assert title.get_attribute("href").startswith("https://anilist.co/anime/")
        first_title = title.text
        assert first_title
        assert shown(".embed-thumbnail").get_attribute("naturalWidth") != "0"
        assert {"Predicted for you", "Genres"} <= set(texts(".embed-field-name"))

        # ▶ edits the message in place; the page follows the edit live.
        press("▶")
        seen(".embed-footer", "2 / 3")
        second_title = texts(".embed a.embed-title")[0]
        assert second_title != first_title

        press("8")
        seen(".message.ephemeral .content", f"Saved: 8/10 for {second_title}")
        assert "Only you can see this" in texts(".message.ephemeral .ephemeral-note")[0]
        SCREENSHOTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / "playground.png"))

        # Bob sees the public page but not Alice's ephemeral reply, and rates the same title.
        browser.find_element(By.CSS_SELECTOR, '.member[data-name="bob"]').click()
        wait.until(lambda _: not browser.find_elements(By.CSS_SELECTOR, ".message.ephemeral"))
        press("6")
        seen(".message.ephemeral .content", f"Saved: 6/10 for {second_title}")
        # Only the member who asked turns the pages.
        press("◀")
        seen(".message.ephemeral .content", "Only the person who asked")
        assert texts(".embed-footer") == ["2 / 3"]
    except Exception as error:
        # Outside tmp_path: pytest prunes old temporary folders, and a failure's picture should
        # stay until someone has looked at it.
        SCREENSHOTS.mkdir(exist_ok=True)
        failure = SCREENSHOTS / "playground-failure.png"
        browser.save_screenshot(str(failure))
        raise AssertionError(
            f"{error!r}\nscreenshot: {failure}\nplayground log:\n{playground.log()}"
        ) from error

    with sqlite3.connect(playground.data_dir / "anime8.db") as db:
        rows = db.execute(
            "SELECT discord_user_id, media_id, rating FROM feedback ORDER BY rating DESC"
        ).fetchall()
    assert [(user, rating) for user, _, rating in rows] == [(ALICE_ID, 8), (BOB_ID, 6)]
    assert rows[0][1] == rows[1][1]  # both rated the title on page 2
