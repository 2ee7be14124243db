"""Error pages explain what happened, why, and where to go; the API stays JSON."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.access import Role
from datapool.models import Variable
from lor.models import LorUnit
from prisma.errors import server_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _assert_site_layout(html: str) -> None:
    assert 'data-testid="error-page"' in html
    assert 'data-testid="langswitch"' in html
    assert f'href="{reverse("home")}"' in html


def test_403_names_the_reason_with_navigation_and_language_switch(client, lor_units):
    bezirk07 = LorUnit.objects.get(level=LorUnit.Level.BEZIRK, code="07")
    variable = Variable.objects.create(
        key="B07_SPIELPLAETZE", name="Spielplätze", district=bezirk07, released=True
    )
    coordinator = UserFactory(
        username="koordination01", role=Role.COORDINATOR, bezirk_code="01"
    )
    client.force_login(coordinator)
    response = client.get(
        reverse("datapool:variable-edit", kwargs={"key": variable.key}),
        HTTP_REFERER="http://testserver/datapool/",
    )
    assert response.status_code == 403
    html = response.content.decode()
    _assert_site_layout(html)
    assert "Zugriff verweigert" in html
    assert (
        "Sie dürfen nur Daten Ihres eigenen Bezirks hochladen oder bearbeiten." in html
    )
    assert 'data-testid="mainnav"' in html
    assert "Datenkoordination · Mitte" in html
    # Back to where the user came from, but only within PRISMA.
    assert '<a href="http://testserver/datapool/" data-testid="error-back">' in html
    foreign = client.get(
        reverse("datapool:variable-edit", kwargs={"key": variable.key}),
        HTTP_REFERER="https://evil.example/",
    )
    assert "evil.example" not in foreign.content.decode()


def test_403_without_a_message_says_the_role_does_not_allow_it(client, lor_units):
    client.force_login(UserFactory(username="gast", role=Role.GUEST))
    response = client.get(reverse("datapool:import-list"))
    assert response.status_code == 403
    html = response.content.decode()
    _assert_site_layout(html)
    assert "Ihre Rolle erlaubt diese Aktion nicht." in html
    # The guest's navigation offers no page that would refuse them.
    assert reverse("datapool:import-list") not in html.split("</nav>")[0]


def test_404_shows_no_technical_details(client, settings):
    settings.DEBUG = False
    response = client.get("/gibt-es-nicht/")
    assert response.status_code == 404
    html = response.content.decode()
    _assert_site_layout(html)
    assert "Seite nicht gefunden" in html
    assert "URLconf" not in html
    assert "prisma.urls" not in html
    assert "admin/" not in html


def test_404_of_a_unit_for_a_signed_in_user_has_navigation(client, user):
    client.force_login(user)
    response = client.get(reverse("lor:unit-detail", kwargs={"code": "99"}))
    assert response.status_code == 404
    html = response.content.decode()
    _assert_site_layout(html)
    assert 'data-testid="mainnav"' in html


def test_api_errors_stay_json(client, user):
    response = client.get("/api/gibt-es-nicht/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Nicht gefunden."}
    # DRF's own refusals (not signed in) and not-found answers are JSON too.
    response = client.get(reverse("lor-api:unit-list"), {"level": "bezirk"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    client.force_login(user)
    response = client.get(reverse("lor-api:unit-detail", kwargs={"code": "99"}))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.urls("tests.core.error_urls")
def test_500_page_renders_in_the_layout(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get("/test-boom/")
    assert response.status_code == 500
    html = response.content.decode()
    _assert_site_layout(html)
    assert "Ein interner Fehler ist aufgetreten" in html
    assert "kaputt" not in html
    # Rendered without context processors: no navigation that reads the database.
    assert 'data-testid="mainnav"' not in html


def test_500_page_does_not_touch_the_database(rf, django_assert_num_queries):
    request = rf.get("/analysis/explorer/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert "Ein interner Fehler ist aufgetreten" in response.content.decode()
    api = server_error(rf.get("/api/values/"))
    assert api.status_code == 500
    assert api["Content-Type"] == "application/json"


def test_csrf_failure_explains_in_german(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"), {"username": "jemand", "password": "falsch"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    _assert_site_layout(html)
    assert "Das Formular konnte nicht gesendet werden" in html
    assert "Sicherheitsprüfung" in html
