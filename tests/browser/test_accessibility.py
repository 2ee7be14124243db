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


def _facility_map_ready(page):
    page.locator("#facility-map .leaflet-overlay-pane path").first.wait_for(
        state="attached"
    )


def _funding_map_ready(page):
    page.locator("#funding-map path").first.wait_for(state="attached")
    page.get_by_test_id("funding-legend").locator("ul").wait_for()


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
    "import-review-old-scheme": Page(
        lambda ctx: f"/datapool/imports/{ctx['review_run'].pk}/", role="coordinator"
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
    "facility-list": Page("/facilities/?facility_type=kita"),
    "facility-detail": Page(
        lambda ctx: f"/facilities/{ctx['facility'].pk}/", ready=_facility_map_ready
    ),
    "facility-create": Page(
        "/facilities/new/", role="coordinator", ready=_facility_map_ready
    ),
    "facility-edit": Page(
        lambda ctx: f"/facilities/{ctx['facility'].pk}/edit/",
        role="coordinator",
        ready=_facility_map_ready,
    ),
    "facility-close": Page(
        lambda ctx: f"/facilities/{ctx['facility'].pk}/close/", role="coordinator"
    ),
    "facility-type-create": Page("/facilities/types/new/", role="coordinator"),
    "facility-upload": Page("/facilities/uploads/new/", role="coordinator"),
    "facility-upload-detail": Page(
        lambda ctx: f"/facilities/uploads/{ctx['upload'].pk}/", role="coordinator"
    ),
    "funding-steering": Page("/funding/", ready=_funding_map_ready),
    "funding-projects": Page("/funding/projekte/"),
    "funding-project": Page(
        lambda ctx: f"/funding/projekte/{ctx['project'].pk}/", role="coordinator"
    ),
    "funding-project-edit": Page(
        lambda ctx: f"/funding/projekte/{ctx['project'].pk}/bearbeiten/",
        role="coordinator",
    ),
    "funding-import": Page("/funding/import/", role="coordinator"),
    "funding-import-detail": Page(
        lambda ctx: f"/funding/import/{ctx['funding_run'].pk}/", role="coordinator"
    ),
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
    facility, upload = _register(users["coordinator"])
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
        "facility": facility,
        "upload": upload,
        "review_run": _old_scheme_review_run(),
        **_funding(users["coordinator"]),
        "scenario": scenario,
        "measure": measure,
    }


def _register(coordinator):
    """A Kita of Mitte and an upload of Mitte that failed with problems."""
    from datetime import date

    from django.contrib.gis.geos import Point

    from datapool.parsers.contract import Problem
    from infrastructure.maintenance import facility_create
    from infrastructure.models import FacilityUpload
    from infrastructure.services import facility_types_ensure
    from infrastructure.uploads import problem_report
    from lor.models import LorUnit

    facility = facility_create(
        user=coordinator,
        facility_type=facility_types_ensure()["kita"],
        name="Kita am Brandenburger Tor",
        geom=Point(389_400, 5_819_700, srid=25833),
        capacity=90,
        operator="Bezirksamt Mitte",
        valid_from=date(2020, 1, 1),
    )
    upload = FacilityUpload.objects.create(
        original_name="kitas.csv",
        file="facility_uploads/kitas.csv",
        district=LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code="01"
        ),
        created_by=coordinator,
        status=FacilityUpload.Status.FAILED,
        problems=problem_report(
            [
                Problem(
                    "Keine gültige Kapazität.", "kitas.csv", 3, "capacity", "viele"
                ),
                Problem("Keine gültige Kapazität.", "kitas.csv", 7, "capacity", "-3"),
                Problem("Der Name fehlt.", "kitas.csv", 4, "name", None),
            ]
        ),
    )
    return facility, upload


def _old_scheme_review_run():
    """A Mitte upload in LOR 2006 keys, waiting for the decision to convert it."""
    from datapool.models import ImportRun
    from lor.models import LorUnit

    keys = [
        {"key": f"0101{n:04d}", "line": n + 2, "old_scheme_name": f"Alt {n}"}
        for n in range(41)
    ]
    return ImportRun.objects.create(
        kind=ImportRun.Kind.EWR,
        status=ImportRun.Status.REVIEW,
        original_name="EWR202012E_Matrix.csv",
        district=LorUnit.objects.get(scheme=LorUnit.Scheme.LOR_2021, code="01"),
        error="Schlüssel des LOR-Schemas 2006: 41 von 41 Schlüsseln …",
        summary={
            "unknown_keys": keys,
            "old_scheme": True,
            "scheme_counts": {"lor2021": 0, "lor2006": 41, "none": 0, "total": 41},
        },
    )


def _funding(coordinator) -> dict:
    """Funding example data, a project of Mitte and a failed import with its report."""
    from datapool.parsers.contract import Problem
    from funding.models import FundingImport, Project
    from funding.services.examples import funding_examples_load
    from funding.services.imports import problem_groups

    funding_examples_load()
    problems = [
        Problem(
            "Betrag in Euro erwartet.",
            "massnahmen.csv",
            line=3,
            column="Bewilligt (EUR)",
            value="2.5oo",
            kind="number",
        )
    ]
    run = FundingImport.objects.create(
        file="funding/massnahmen.csv",
        original_name="massnahmen.csv",
        district=coordinator.staff_profile.bezirk,
        created_by=coordinator,
        status=FundingImport.Status.FAILED,
        error="Die Datei hat 1 Problem; es wurde nichts importiert.",
        summary={"validation": True, "problem_groups": problem_groups(problems, {})},
    )
    project = Project.objects.get(district__code="01", number="MI-B-001")
    return {"project": project, "funding_run": run}


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
