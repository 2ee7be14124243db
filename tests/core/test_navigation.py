"""The header shows role and district; the navigation only what the role may do."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.access import Role, user_bezirk_code, user_role
from core.navigation import nav_items
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EVERYONE = [
    "home",
    "analysis:explorer",
    "analysis:analyse",
    "profiles:list",
    "datapool:variable-list",
    "datapool:indicator-list",
    "analysis:area-set-list",
    "infrastructure:facility-list",
    "lor:map",
]
STAFF = ["queries:list", "scenarios:list", "datapool:import-list", "funding:steering"]
ADMIN = ["audit-list", "admin:index"]


@pytest.mark.parametrize(
    ("role", "bezirk", "offered"),
    [
        (Role.GUEST, None, EVERYONE),
        (Role.PLANNER, "02", EVERYONE + STAFF),
        (Role.COORDINATOR, "02", EVERYONE + STAFF),
        (Role.ADMIN, None, EVERYONE + STAFF + ADMIN),
    ],
)
def test_navigation_offers_what_the_role_may_follow(
    client, lor_units, role, bezirk, offered
):
    user = UserFactory(username=f"nav-{role}", role=role, bezirk_code=bezirk)
    urls = [item["url"] for item in nav_items(user=user, path="/")]
    assert sorted(urls) == sorted(reverse(name) for name in offered)
    # Every offered link opens for this role (no refusal behind a menu item).
    client.force_login(user)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_only_the_current_page_is_marked(lor_units):
    user = UserFactory(username="nav-planer", role=Role.PLANNER, bezirk_code="01")
    items = nav_items(user=user, path=reverse("datapool:indicator-list"))
    current = [item["url"] for item in items if item["current"]]
    assert current == [reverse("datapool:indicator-list")]
    items = nav_items(user=user, path="/")
    assert [item["url"] for item in items if item["current"]] == ["/"]


def test_header_shows_role_and_district(client, lor_units):
    planner = UserFactory(username="planung02", role=Role.PLANNER, bezirk_code="02")
    client.force_login(planner)
    html = client.get(reverse("datapool:variable-list")).content.decode()
    assert 'data-testid="role-line"' in html
    assert "Planung · Friedrichshain-Kreuzberg" in html
    guest = UserFactory(username="gast", role=Role.GUEST)
    client.force_login(guest)
    html = client.get(reverse("datapool:variable-list")).content.decode()
    assert "Gastbegutachtung" in html
    # A guest is offered no upload anywhere on the catalogue page.
    assert reverse("datapool:import-create") not in html


def test_demo_planner_and_coordinator_belong_to_friedrichshain_kreuzberg(
    lor_units, settings
):
    settings.PRISMA_DEMO_USER = "demo"
    settings.PRISMA_DEMO_PASSWORD = "demo-passwort-123"
    out = io.StringIO()
    call_command("demo_user", stdout=out)
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    planner = users.get(username="demo-planung")
    coordinator = users.get(username="demo-koordination")
    assert (user_role(planner), user_bezirk_code(planner)) == (Role.PLANNER, "02")
    assert (user_role(coordinator), user_bezirk_code(coordinator)) == (
        Role.COORDINATOR,
        "02",
    )
    assert "demo-planung (Planung · Friedrichshain-Kreuzberg)" in out.getvalue()
