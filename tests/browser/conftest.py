"""Shared fixtures of the browser tests: Debian's Chromium, a page, users of each
role and a page logged in on the live server."""

from __future__ import annotations

import os

import pytest

from tests.support.login import page_login

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing; `make test` installs Debian's chromium.")
    with playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # Playwright's wait_for_function polls with eval, which the app's Content
    # Security Policy forbids; tests/reliability/test_csp_browser.py checks the
    # pages with the policy enforced.
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="de-DE", bypass_csp=True
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def planner(user):
    """A planner of Bezirk 01 (Mitte), the everyday user of the browser tests."""
    return user


@pytest.fixture
def login(page, live_server):
    """``login(user, path)``: the page, logged in as user, showing path."""

    def login(user, path: str):
        page_login(page, base_url=live_server.url, path=path, username=user.username)
        return page

    return login
