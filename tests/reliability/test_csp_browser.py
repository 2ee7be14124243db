"""The main pages in Chromium under the Content Security Policy: nothing is refused
and no script fails."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/?q=Moabit",
    "/map/",
    "/analysis/explorer/",
    "/analysis/analyse/",
    "/analysis/areas/",
    "/datapool/",
    "/datapool/imports/new/",
    "/queries/",
    "/profiles/",
    "/api/docs/",
]


@pytest.fixture
def enforcing_page(browser):
    """A page that enforces the policy (the suite's `page` bypasses it)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


@pytest.fixture
def scenario_page(administrator):
    """An administrator's planning scenario (its page draws two maps)."""
    from datetime import date

    from infrastructure.scenarios import scenario_create
    from tests.infrastructure.scenario_support import kita_rule

    scenario = scenario_create(
        owner=administrator, title="CSP", rule=kita_rule(), ref_date=date(2024, 12, 31)
    )
    return scenario.get_absolute_url()


def test_main_pages_run_without_csp_violations(
    enforcing_page, live_server, administrator, scenario_page
):
    page = enforcing_page
    problems: list[str] = []
    # Refusals are reported on the console; a missing favicon is not our concern.
    page.on(
        "console",
        lambda msg: (
            problems.append(f"{page.url}: {msg.text}")
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", administrator.username)
    page.fill("input[name=password]", "geheim-123")
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/accounts/login/" not in page.url

    for url in [scenario_page, *PAGES]:
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        csp_header = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp_header, url
    # Swagger UI rendered from its separately served init script.
    assert page.locator(".swagger-ui").count() > 0
    assert not problems, "\n".join(problems)
