"""Every main page passes axe-core (WCAG 2.1 A/AA, BITV 2.0) without a serious or
critical violation, in the browser, logged in with the role that uses it.

axe-core comes bundled with the axe-playwright-python package (no CDN)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from tests.support.login import login_form_submit, user_with_role
from tests.support.pages import wait_until_ready

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

REGION = "011001"  # Tiergarten Süd, Mitte
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = {"serious", "critical"}

# Leaflet's own markup, which PRISMA does not write: its zoom buttons are named
# links with role="button", its attribution prefix is a link into leafletjs.com.
# Nothing is excluded for now; an exclusion needs a selector and a reason here.
THIRD_PARTY_EXCLUDES: list[list[str]] = []


@dataclass(frozen=True)
class Page:
    path: str | Callable[[dict], str]
    role: str | None = "planner"  # None: anonymous
    ready: Callable | None = None


def _explorer_ready(page):
    wait_until_ready(page, "map", ["E_E", "planungsraum"], separator="|")


def _explorer_table(page):
    _explorer_ready(page)
    page.get_by_test_id("tab-table").click()
    page.get_by_test_id("explorer-table").wait_for(state="visible")


def _map_ready(page):
    page.locator("#map path").first.wait_for(state="attached")


def _profile_map_ready(page):
    # Without computed indicators the edition shows no map, only its tables.
    if page.locator("#profile-map").count():
        page.wait_for_function(
            "document.getElementById('profile-map').dataset.ready === '1'"
        )


def _scenario_ready(page):
    wait_until_ready(page, "scenario-status", ["result"])


PAGES: dict[str, Page] = {
    "start": Page("/"),
    "start-search": Page("/?q=Moabit"),
    "login": Page("/accounts/login/", role=None),
    "explorer": Page("/analysis/explorer/", ready=_explorer_ready),
    "explorer-table": Page("/analysis/explorer/", ready=_explorer_table),
    "analyse": Page("/analysis/analyse/"),
    "profile-list": Page("/profiles/"),
    "profile-edition": Page(
        lambda ctx: f"/profiles/editions/{ctx['edition'].pk}/",
        ready=_profile_map_ready,
    ),
    "upload": Page("/datapool/imports/new/", role="coordinator"),
    "import-list": Page("/datapool/imports/", role="coordinator"),
    "import-detail": Page(
        lambda ctx: f"/datapool/imports/{ctx['run'].pk}/", role="coordinator"
    ),
    "variable-list": Page("/datapool/"),
    "variable-detail": Page("/datapool/variables/E_E/"),
    "indicator-list": Page("/datapool/indicators/"),
    "query-list": Page("/queries/"),
    "query-form": Page("/queries/new/"),
    "query-detail": Page(lambda ctx: f"/queries/{ctx['query'].pk}/"),
    "lor-map": Page("/map/", ready=_map_ready),
    "lor-unit": Page(f"/lor/{REGION}/"),
    "audit": Page("/audit/", role="admin"),
    "scenario-list": Page("/infrastructure/scenarios/"),
    "scenario-form": Page("/infrastructure/scenarios/new/"),
    "scenario-detail": Page(
        lambda ctx: f"/infrastructure/scenarios/{ctx['scenario'].pk}/",
        ready=_scenario_ready,
    ),
    "query-scenarios": Page(lambda ctx: f"/queries/{ctx['query'].pk}/scenarios/"),
    "measure-scenarios": Page(
        lambda ctx: f"/profiles/measures/{ctx['measure'].pk}/scenarios/"
    ),
}


@pytest.fixture
def data(ewr_imported, django_user_model):
    """The real EWR matrix, users of each role, a profile edition, a saved query."""
    from core.access import Role
    from infrastructure.scenarios import scenario_create
    from lor.models import LorUnit
    from profiles.services import goal_save, measure_save, profile_edition_create
    from queries.services import saved_query_create
    from tests.infrastructure.scenario_support import kita_rule

    planner = user_with_role("planerin", Role.PLANNER, "01")
    users = {
        "planner": planner,
        "coordinator": user_with_role("koordination01", Role.COORDINATOR, "01"),
        "admin": user_with_role("verwaltung", Role.ADMIN, None),
    }
    edition = profile_edition_create(
        user=planner, region=LorUnit.objects.get(code=REGION)
    )
    query = saved_query_create(
        owner=planner,
        title="Einwohner je Planungsraum",
        selection={"level": "planungsraum", "columns": ["E_E"]},
    )
    goal = goal_save(
        user=planner,
        edition=edition,
        theme="sonstiges",
        text="Kitaplätze schaffen",
        department="Jugendamt",
    )
    measure = measure_save(user=planner, goal=goal, text="Neue Kita")
    scenario = scenario_create(
        owner=planner, title="Neue Kita", rule=kita_rule(), ref_date=date(2024, 12, 31)
    )
    return {
        "users": users,
        "edition": edition,
        "query": query,
        "run": ewr_imported,
        "scenario": scenario,
        "measure": measure,
    }


def _violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    context: dict | None = (
        {"exclude": THIRD_PARTY_EXCLUDES} if THIRD_PARTY_EXCLUDES else None
    )
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}}
    return Axe().run(page, context=context, options=options).response["violations"]


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(map(str, n["target"])) for n in v["nodes"][:5]]
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}×): {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_or_critical_violation(
    name, page, live_server, data, artifacts
):
    spec = PAGES[name]
    path = spec.path(data) if callable(spec.path) else spec.path
    if spec.role is None:
        page.goto(f"{live_server.url}{path}")
    else:
        page.goto(f"{live_server.url}/accounts/login/?next={path}")
        login_form_submit(page, username=data["users"][spec.role].username)
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state("networkidle")
    if spec.ready:
        spec.ready(page)
    assert page.locator("main").count() == 1, "a page has exactly one main landmark"
    violations = _violations(page)
    (artifacts / f"axe_{name}.txt").write_text(_describe(violations) + "\n")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, (
        f"{name} ({path}): {', '.join(v['id'] for v in blocking)}\n"
        + _describe(blocking)
    )
