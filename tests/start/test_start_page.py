"""The start page answers "what can I do here?" per role: tasks, search, news."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.access import Role
from datapool.models import Variable
from queries.models import SavedQuery
from queries.services import saved_query_create
from start.selectors import start_search
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SELECTION = {"level": "bezirk", "columns": ["E_E"]}


def _page(client, user, **query):
    client.force_login(user)
    response = client.get(reverse("home"), query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def people(lor_units):
    return {
        "guest": UserFactory(username="gast", role=Role.GUEST),
        "planner": UserFactory(
            username="planung02", role=Role.PLANNER, bezirk_code="02"
        ),
        "coordinator": UserFactory(
            username="koordination02", role=Role.COORDINATOR, bezirk_code="02"
        ),
        "admin": UserFactory(username="verwaltung", role=Role.ADMIN),
    }


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "upload", "inquiry"),
    [
        ("guest", False, False),
        ("planner", False, True),
        ("coordinator", True, True),
        ("admin", True, True),
    ],
)
def test_each_role_is_offered_the_tasks_it_may_do(
    client, people, role, upload, inquiry
):
    html = _page(client, people[role])
    for testid in ("task-map", "task-compare", "task-profiles", "task-lor-map"):
        assert f'data-testid="{testid}"' in html
    assert ('data-testid="task-upload"' in html) is upload
    assert (reverse("datapool:import-create") in html) is upload
    assert ('data-testid="task-inquiry"' in html) is inquiry
    assert ('data-testid="start-queries"' in html) is inquiry


def test_guest_sees_no_upload_no_imports_and_no_staff_links(client, people):
    html = _page(client, people["guest"])
    assert "Gastbegutachtung" in html
    for name in (
        "datapool:import-create",
        "datapool:import-list",
        "queries:create",
        "queries:list",
        "audit-list",
    ):
        assert reverse(name) not in html, name
    assert 'data-testid="latest-runs"' not in html


def test_planner_sees_role_district_and_the_district_profiles(client, people):
    html = _page(client, people["planner"])
    assert "Planung · Friedrichshain-Kreuzberg" in html
    assert 'data-testid="district-profiles"' in html
    # The Bezirksregionen of Friedrichshain-Kreuzberg lead to their profiles.
    assert reverse("profiles:region", kwargs={"code": "021001"}) in html
    assert reverse("profiles:region", kwargs={"code": "011001"}) not in html


def test_search_finds_moabit_and_einwohner(client, people, ewr_imported):
    html = _page(client, people["guest"], q="Moabit")
    assert 'data-testid="unit-results"' in html
    assert "Moabit Ost" in html and "Moabit West" in html
    moabit = reverse("lor:unit-detail", kwargs={"code": "0120"})
    assert f'href="{moabit}"' in html

    html = _page(client, people["planner"], q="Einwohner")
    assert 'data-testid="variable-results"' in html
    assert "Einwohner insgesamt" in html
    assert f"{reverse('analysis:explorer')}?variable=E_E" in html


def test_search_hides_variables_the_user_may_not_see(people, ewr_imported):
    from lor.models import LorUnit

    bezirk03 = LorUnit.objects.get(level=LorUnit.Level.BEZIRK, code="03")
    Variable.objects.create(
        key="B03_GEHEIM", name="Spielplätze geheim", district=bezirk03, released=False
    )
    coordinator03 = UserFactory(
        username="koordination03", role=Role.COORDINATOR, bezirk_code="03"
    )
    assert start_search(user=people["planner"], q="geheim").variables == []
    assert [v.key for v in start_search(user=coordinator03, q="geheim").variables] == [
        "B03_GEHEIM"
    ]


def test_search_by_key_and_too_short_queries(client, people):
    results = start_search(user=people["planner"], q="0120")
    assert results.units[0].code == "0120"
    assert all(u.code.startswith("0120") for u in results.units)
    html = _page(client, people["planner"], q="x")
    assert "mindestens 2 Zeichen" in html


def test_saved_queries_and_latest_deliveries(client, people, ewr_imported):
    saved_query_create(
        owner=people["planner"],
        title="Anfrage Kinderarmut",
        selection=SELECTION,
        sharing=SavedQuery.Sharing.PRIVATE,
    )
    html = _page(client, people["planner"])
    assert "Anfrage Kinderarmut" in html
    assert 'data-testid="latest-runs"' in html
    assert ewr_imported.original_name in html
    assert ewr_imported.get_absolute_url() in html
    # Another user's private query is not shown.
    assert "Anfrage Kinderarmut" not in _page(client, people["coordinator"])
