"""Shared fixtures of the browser tests: a page, users of each role and a page
logged in on the live server (the browser itself is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.support.login import page_login


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
