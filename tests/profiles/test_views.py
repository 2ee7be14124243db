"""Profile pages: list, region, edition, forms, workflow, permissions, no 500s."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from core.access import Role
from profiles.models import Goal, ProfileEdition
from profiles.selectors import profile_region_get
from profiles.services import (
    assessment_save,
    goal_save,
    measure_save,
    profile_edition_create,
)
from tests.factories import UserFactory
from tests.profiles.conftest import REGION

pytestmark = pytest.mark.django_db


@pytest.fixture
def planner(client, lor_units):
    user = UserFactory(username="mitte", role=Role.PLANNER, bezirk_code="01")
    client.force_login(user)
    return user


@pytest.fixture
def edition(indicators_2024, planner):
    return profile_edition_create(user=planner, region=profile_region_get(code=REGION))


def test_region_page_without_profile_shows_generated_analysis(
    indicators_2024, planner, client
):
    response = client.get(f"/profiles/region/{REGION}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tiergarten Süd" in html
    assert "16.293" in html  # residents, German thousands separator
    assert 'data-key="KI_ANTEIL_U18"' in html
    assert "13,3" in html  # share under 18
    assert 'data-testid="edition-create"' in html


def test_unknown_region_and_edition_are_404(planner, client):
    assert client.get("/profiles/region/999999/").status_code == 404
    assert client.get("/profiles/region/01100101/").status_code == 404  # a PLR
    assert client.get("/profiles/editions/999999/").status_code == 404
    assert client.get("/profiles/editions/999999/compare/").status_code == 404


def test_anonymous_is_sent_to_login(client, lor_units):
    response = client.get("/profiles/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_edition_goal_and_adopt_through_the_pages(
    indicators_2024, planner, client
):
    response = client.post(f"/profiles/region/{REGION}/new/", {"ref_date": ""})
    edition = ProfileEdition.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/profiles/editions/{edition.pk}/"
    response = client.post(
        f"/profiles/editions/{edition.pk}/goals/new/",
        {
            "theme": "bildung_jugend",
            "text": "Mehr Kitaplätze",
            "department": "Jugendamt",
            "priority": "high",
            "status": "open",
            "indicators": ["KI_KITA"],
        },
    )
    assert response.status_code == 302
    goal = Goal.objects.get()
    assert goal.indicators == ["KI_KITA"]
    response = client.post(
        f"/profiles/goals/{goal.pk}/measures/new/",
        {"text": "Kita erweitern", "status": "planned", "due": "2026-06-30"},
    )
    assert response.status_code == 302
    client.post(f"/profiles/editions/{edition.pk}/status/", {"status": "review"})
    client.post(
        f"/profiles/editions/{edition.pk}/status/",
        {
            "status": "adopted",
            "adopted_on": "2025-03-04",
            "decision_reference": "BA 12/2025",
        },
    )
    edition.refresh_from_db()
    assert edition.status == "adopted" and edition.adopted_on == date(2025, 3, 4)
    page = client.get(f"/profiles/editions/{edition.pk}/").content.decode()
    assert "Kita erweitern" in page and "BA 12/2025" in page
    # The linked indicator:
    assert "Versorgung mit Kitaplätzen (1 bis unter 6 Jahre)" in page
    assert "30.06.2026" in page  # the measure's due date
    assert 'data-testid="goal-create"' not in page  # frozen: no editing
    # Editing forms of a frozen edition redirect with a message instead.
    response = client.get(f"/profiles/goals/{goal.pk}/edit/")
    assert response.status_code == 302
    response = client.post(
        f"/profiles/goals/{goal.pk}/edit/",
        {
            "theme": "bildung_jugend",
            "text": "Geändert",
            "department": "Jugendamt",
            "priority": "high",
            "status": "open",
        },
    )
    assert response.status_code == 400
    goal.refresh_from_db()
    assert goal.text == "Mehr Kitaplätze"

    response = client.post(f"/profiles/editions/{edition.pk}/continue/")
    new = ProfileEdition.objects.get(number=2)
    assert response["Location"] == f"/profiles/editions/{new.pk}/"
    compare = client.get(f"/profiles/editions/{new.pk}/compare/")
    assert compare.status_code == 200
    assert 'data-key="KI_ANTEIL_U18"' in compare.content.decode()


def test_planner_of_other_district_gets_403(edition, client):
    other = UserFactory(username="pankow", role=Role.PLANNER, bezirk_code="03")
    client.force_login(other)
    assert client.get(f"/profiles/editions/{edition.pk}/").status_code == 200
    response = client.post(
        f"/profiles/editions/{edition.pk}/goals/new/",
        {
            "theme": "sonstiges",
            "text": "x",
            "department": "y",
            "priority": "low",
            "status": "open",
        },
    )
    assert response.status_code == 403
    assert client.post(f"/profiles/region/{REGION}/new/").status_code == 403
    response = client.post(
        f"/profiles/editions/{edition.pk}/status/", {"status": "review"}
    )
    assert response.status_code == 403
    assert not Goal.objects.exists()


def _edit_urls(edition, planner) -> list[str]:
    goal = goal_save(
        user=planner,
        edition=edition,
        theme="sonstiges",
        text="Spielplätze sanieren",
        department="SGA",
    )
    measure = measure_save(user=planner, goal=goal, text="Spielplatz", status="planned")
    assessment = assessment_save(
        user=planner, edition=edition, department="Jugendamt", text="Bedarf"
    )
    return [
        reverse("profiles:edition-update", args=[edition.pk]),
        reverse("profiles:goal-create", args=[edition.pk]),
        reverse("profiles:goal-update", args=[goal.pk]),
        reverse("profiles:measure-create", args=[goal.pk]),
        reverse("profiles:measure-update", args=[measure.pk]),
        reverse("profiles:measure-scenarios", args=[measure.pk]),
        reverse("profiles:assessment-create", args=[edition.pk]),
        reverse("profiles:assessment-update", args=[assessment.pk]),
    ]


@pytest.mark.parametrize(
    ("username", "role", "bezirk"),
    [("pankow", Role.PLANNER, "03"), ("gast", Role.GUEST, None)],
)
def test_edit_forms_are_shown_only_to_those_who_may_save_them(
    edition, client, planner, username, role, bezirk
):
    urls = _edit_urls(edition, planner)
    detail = reverse("profiles:edition-detail", args=[edition.pk])
    page = client.get(detail).content.decode()
    for url in urls:
        assert url in page
        assert client.get(url).status_code == 200

    client.force_login(UserFactory(username=username, role=role, bezirk_code=bezirk))
    page = client.get(detail)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Spielplätze sanieren" in html  # the edition is read
    for url in urls:
        assert url not in html
        response = client.get(url)
        assert response.status_code == 403
        text = response.content.decode()
        assert 'data-testid="error-reason"' in text
        assert "Sie dürfen nur Inhalte Ihres eigenen Bezirks bearbeiten." in text
        assert 'data-testid="profile-form"' not in text


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"theme": "unbekannt", "text": "x", "department": "y"},
        {
            "theme": "sonstiges",
            "text": "x",
            "department": "y",
            "priority": "low",
            "status": "open",
            "indicators": ["KEIN_INDIKATOR"],
        },
    ],
)
def test_bad_goal_input_shows_form_errors_not_500(edition, client, data):
    response = client.post(f"/profiles/editions/{edition.pk}/goals/new/", data)
    assert response.status_code == 400
    assert not Goal.objects.exists()


def test_bad_transition_and_dates_are_refused_without_500(edition, client, planner):
    goal_save(
        user=planner, edition=edition, theme="sonstiges", text="x", department="y"
    )
    for data in (
        {"status": "adopted"},
        {"status": "bogus"},
        {"status": "review", "adopted_on": "kein Datum"},
    ):
        response = client.post(f"/profiles/editions/{edition.pk}/status/", data)
        assert response.status_code == 302
    edition.refresh_from_db()
    assert edition.status == "draft"
    response = client.post(
        f"/profiles/editions/{edition.pk}/edit/", {"ref_date": "1999-12-31"}
    )
    assert response.status_code == 400
    assert client.post("/profiles/bogus/1/delete/").status_code == 404


def test_list_filters_by_district_and_status(
    edition, client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = client.get("/profiles/", {"bezirk": "01", "status": "draft"})
    assert response.status_code == 200
    assert "Tiergarten Süd" in response.content.decode()
    response = client.get("/profiles/", {"bezirk": "03"})
    assert 'data-testid="edition-list"' not in response.content.decode()
    response = client.get("/profiles/", {"status": "adopted"})
    assert 'data-testid="edition-list"' not in response.content.decode()
    assert client.get("/profiles/", {"bezirk": "<script>"}).status_code == 200


def test_unit_page_and_nav_link_to_profiles(indicators_2024, planner, client):
    html = client.get(f"/lor/{REGION}/").content.decode()
    assert f'href="/profiles/region/{REGION}/"' in html
    assert 'href="/profiles/"' in html
    assert "/profiles/region/" not in client.get("/lor/01/").content.decode()


def test_read_api_serves_documents(edition, client):
    listing = client.get("/api/profiles/", {"bezirk": "01"})
    assert listing.status_code == 200
    assert [e["region"] for e in listing.json()] == [REGION]
    document = client.get(f"/api/profiles/editions/{edition.pk}/").json()
    assert document["analysis"]["facts"]["residents"] == 16293
    region = client.get(f"/api/profiles/regions/{REGION}/").json()
    assert region["edition"] is None  # nothing adopted yet
    assert client.get("/api/profiles/regions/01/").status_code == 404
    assert client.get("/api/profiles/editions/999999/").status_code == 404
    assert client.get("/api/profiles/", {"status": "x"}).status_code == 400


def test_pages_link_the_pdf_downloads_and_the_batch(edition, client, planner):
    from django.urls import reverse

    region_page = client.get(f"/profiles/region/{REGION}/").content.decode()
    assert reverse("profiles:region-pdf", args=[REGION]) in region_page
    assert reverse("profiles:region-kurzprofil", args=[REGION]) in region_page
    edition_page = client.get(f"/profiles/editions/{edition.pk}/").content.decode()
    assert reverse("profiles:edition-pdf", args=[edition.pk]) in edition_page
    assert reverse("profiles:edition-kurzprofil", args=[edition.pk]) in edition_page
    list_page = client.get("/profiles/").content.decode()
    assert f'href="{reverse("profiles:batch")}"' in list_page
