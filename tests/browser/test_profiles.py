"""A Bezirksregionenprofil in a browser: goal, measure, adoption, Fortschreibung."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REGION = "011001"  # Tiergarten Süd, Mitte


@pytest.fixture
def planner(planner, ewr_imported):
    """The planner of Mitte, with the indicators of the real EWR matrix computed."""
    from tests.profiles.conftest import indicators_compute

    indicators_compute()
    return planner


def _status(page) -> str:
    return page.get_by_test_id("edition-status").get_attribute("data-status")


def test_goal_adoption_fortschreibung_and_comparison(page, login, planner, artifacts):
    from profiles.models import ProfileEdition

    # From the map: a Bezirksregion offers its profile.
    login(planner, f"/map/?unit={REGION}")
    link = page.get_by_test_id("unit-profile")
    link.wait_for(state="visible")
    link.click()
    page.wait_for_url(re.compile(rf"/profiles/region/{REGION}/$"))
    assert "16.293" in page.get_by_test_id("residents").inner_text()

    page.get_by_test_id("edition-create").click()
    page.wait_for_url(re.compile(r"/profiles/editions/\d+/$"))
    first_url = page.url
    assert _status(page) == "draft"
    page.wait_for_function(
        "document.getElementById('profile-map').dataset.ready === '1'"
    )
    assert page.get_by_test_id("profile-map").get_attribute("data-feature-count") == "4"
    assert page.locator("#profile-map path[data-code]").count() == 4
    page.screenshot(path=artifacts / "profile_edition.png", full_page=True)

    # A goal with a measure.
    page.get_by_test_id("goal-create").click()
    page.locator("#id_theme").select_option("bildung_jugend")
    page.locator("#id_text").fill("Kitaplätze im Kiez ausbauen")
    page.locator("#id_department").fill("Jugendamt")
    page.locator("#id_priority").select_option("high")
    page.locator("#id_indicators").select_option(["KI_KITA", "KI_ANTEIL_U18"])
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r"/profiles/editions/\d+/#goals$"))
    goal = page.get_by_test_id("goal")
    assert "Kitaplätze im Kiez ausbauen" in goal.inner_text()
    goal.get_by_test_id("measure-create").click()
    page.locator("#id_text").fill("Kita Lützowstraße um 40 Plätze erweitern")
    page.locator("#id_department").fill("Jugendamt")
    page.locator("#id_due").fill("2026-06-30")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r"#goals$"))
    assert "Lützowstraße um 40 Plätze" in page.get_by_test_id("measures").inner_text()

    # Draft → in review → adopted.
    page.get_by_test_id("to-review").click()
    page.wait_for_load_state()
    assert _status(page) == "review"
    page.locator("#id_adopted_on").fill("2025-03-04")
    page.locator("#id_decision_reference").fill("BA-Beschluss 123/2025")
    page.get_by_test_id("adopt").click()
    page.wait_for_load_state()
    assert _status(page) == "adopted"
    assert "BA-Beschluss 123/2025" in page.get_by_test_id("edition-meta").inner_text()
    assert page.get_by_test_id("goal-create").count() == 0

    # Fortschreibung: a new draft with the goals of the adopted edition.
    page.get_by_test_id("continue").click()
    page.wait_for_url(lambda url: url != first_url and "/editions/" in url)
    assert _status(page) == "draft"
    assert "Kitaplätze im Kiez ausbauen" in page.get_by_test_id("goal").inner_text()
    page.get_by_role("link", name=re.compile("Ziel bearbeiten|Edit goal")).click()
    page.locator("#id_status").select_option("in_progress")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r"#goals$"))
    page.get_by_test_id("goal-create").click()
    page.locator("#id_theme").select_option("wohnen_gruen")
    page.locator("#id_text").fill("Grünanlage am Landwehrkanal aufwerten")
    page.locator("#id_department").fill("Straßen- und Grünflächenamt")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r"#goals$"))

    page.get_by_test_id("compare-link").click()
    page.wait_for_url(re.compile(r"/compare/$"))
    head = page.get_by_test_id("compare-head").inner_text()
    assert "1." in head and "2." in head
    u18 = page.locator(
        '[data-testid="compare-indicators"] tr[data-key="KI_ANTEIL_U18"]'
    )
    assert u18.locator("td.old").inner_text() == u18.locator("td.new").inner_text()
    assert "13,3" in u18.locator("td.old").inner_text()
    assert (
        "Grünanlage am Landwehrkanal" in page.get_by_test_id("goals-added").inner_text()
    )
    assert "Kitaplätze im Kiez" in page.get_by_test_id("goals-changed").inner_text()
    page.screenshot(path=artifacts / "profile_compare.png", full_page=True)

    editions = ProfileEdition.objects.order_by("number")
    assert [(e.number, e.status) for e in editions] == [(1, "adopted"), (2, "draft")]
    assert editions[0].analysis_snapshot["facts"]["residents"] == 16293
