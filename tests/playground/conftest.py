"""The browser tests' fixtures: a running playground and a headless Chromium (see
tests/support/browser.py)."""

from tests.support.browser import browser, playground

__all__ = ["browser", "playground"]
