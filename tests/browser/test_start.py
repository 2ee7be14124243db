"""A planner of Friedrichshain-Kreuzberg starts the day: role line, search, unit."""

import pytest

from core.access import Role
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_planner_searches_a_unit_and_clicks_through(page, login, lor_units, artifacts):
    planner = UserFactory(username="planung02", role=Role.PLANNER, bezirk_code="02")
    login(planner, "/")
    assert page.get_by_test_id("role-line").inner_text() == (
        "Planung · Friedrichshain-Kreuzberg"
    )
    nav = page.get_by_test_id("mainnav")
    assert nav.get_by_role("link", name="Startseite").get_attribute("aria-current") == (
        "page"
    )
    # A planner may not upload: neither the navigation nor the tasks offer it.
    assert page.get_by_test_id("task-upload").count() == 0
    assert page.get_by_test_id("task-inquiry").count() == 1
    page.screenshot(path=artifacts / "start_planner.png", full_page=True)

    page.get_by_label("LOR-Gebiet oder Merkmal suchen").fill("Moabit")
    page.get_by_role("button", name="Suche").click()
    results = page.get_by_test_id("unit-results")
    results.wait_for()
    page.screenshot(path=artifacts / "start_search_moabit.png", full_page=True)
    results.get_by_role("link", name="Moabit West").click()
    page.wait_for_url("**/lor/012005/")
    assert page.get_by_test_id("unit-code").inner_text() == "012005"
    assert page.get_by_role("heading", level=1).inner_text() == "Moabit West"


def test_the_map_names_every_bezirk(page, login, lor_units, artifacts):
    planner = UserFactory(username="planung02", role=Role.PLANNER, bezirk_code="02")
    login(planner, "/map/")
    labels = page.locator(".bezirk-label")
    labels.first.wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('.bezirk-label').length === 12"
    )
    names = [text.replace("\u200b", "") for text in labels.all_inner_texts()]
    assert "Friedrichshain-Kreuzberg" in names and "Mitte" in names
    page.wait_for_function(
        "() => document.getElementById('map').dataset.featureCount === '12'"
    )
    page.screenshot(path=artifacts / "lor_map_labels.png")
