"""A working day in Friedrichshain-Kreuzberg, in the browser (issue 14, done
criteria): a refused page, a bad upload reported in one round, and an indicator
export that credits its sources.

(The under-6 inquiry itself is in tests/browser/test_inquiry.py.)
"""

import csv
import re

import pytest

from core.access import Role
from datapool.models import ImportRun
from datapool.parsers.ewr import LICENSE as EWR_LICENSE
from explorer.exports import EXCEL_TEXT_MARK
from lor.attribution import LOR_LICENSE
from tests.datapool.conftest import db_state, write_text
from tests.datapool.test_upload_round import _plr
from tests.profiles.conftest import indicators_compute
from tests.support.login import user_with_role
from tests.support.pages import wait_until_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KREUZBERG = "Friedrichshain-Kreuzberg"
AFS = "Amt für Statistik Berlin-Brandenburg"
GEOPORTAL = "Geoportal Berlin"
INDICATOR = "KI_ANTEIL_U18"


@pytest.fixture
def planner02(lor_units):
    return user_with_role("planung02", Role.PLANNER, "02")


@pytest.fixture
def coordinator02(lor_units):
    return user_with_role("koordination02", Role.COORDINATOR, "02")


def test_a_refused_page_is_the_styled_403_in_the_site_layout(
    page, login, live_server, planner02, artifacts
):
    login(planner02, "/")
    response = page.goto(f"{live_server.url}/datapool/imports/new/")
    assert response.status == 403
    error = page.get_by_test_id("error-page")
    assert error.get_attribute("data-status") == "403"
    assert "Zugriff verweigert" in error.inner_text()
    assert "PRISMA hat diese Seite oder Aktion für Sie nicht ausgeführt." in (
        error.inner_text()
    )
    assert page.get_by_test_id("error-reason").inner_text() == (
        "Warum: Ihre Rolle erlaubt diese Aktion nicht."
    )
    assert "Sie sind angemeldet als Planung · Friedrichshain-Kreuzberg" in (
        error.inner_text()
    )
    # The page of the site, not a bare error: navigation, language, role.
    assert page.get_by_test_id("mainnav").is_visible()
    assert page.get_by_test_id("langswitch").is_visible()
    assert page.get_by_test_id("role-line").inner_text() == (f"Planung · {KREUZBERG}")
    page.screenshot(path=artifacts / "planner_day_403.png", full_page=True)


def _three_kinds_table(tmp_path):
    """Generic table of Bezirk 02 with bad numbers, unknown keys and keys of
    Mitte (like tests/datapool/test_upload_round.py's, seen from Bezirk 02)."""
    own = _plr("02", 6)
    foreign = _plr("01", 3)
    lines = ["id;Gesamt"]
    lines += [f"{own[0]};12,3,4", f"{own[1]};abc", f"{own[2]};-5"]  # bad numbers
    lines += [f"{own[3]};10", "02999998;4", "02999999;5"]  # two unknown keys
    lines += [f"{code};7" for code in foreign]  # keys of Bezirk 01
    return write_text(tmp_path, "xhain_2024-12-31.csv", "\n".join(lines) + "\n")


def test_a_bad_upload_reports_three_kinds_of_error_in_one_round(
    page, login, coordinator02, tmp_path, artifacts
):
    path = _three_kinds_table(tmp_path)
    before = db_state()
    login(coordinator02, "/datapool/imports/new/")
    page.locator("main input[type=file]").set_input_files(str(path))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/datapool/imports/\d+/mapping/$"))
    page.get_by_test_id("mapping-form").wait_for(timeout=15_000)

    page.get_by_test_id("key-column").select_option("id")
    page.get_by_test_id("ref-date").fill("2024-12-31")
    page.get_by_test_id("map-action-Gesamt").select_option("new")
    page.get_by_test_id("map-key-Gesamt").fill("XHAIN_GESAMT")
    page.get_by_test_id("map-name-Gesamt").fill("Gesamt (Browsertest)")
    page.get_by_test_id("map-theme-Gesamt").select_option("bevoelkerung")
    page.get_by_test_id("map-unit-Gesamt").fill("Personen")
    page.get_by_test_id("map-value_type-Gesamt").select_option("count")
    page.get_by_test_id("map-aggregation-Gesamt").select_option("sum")
    page.get_by_test_id("mapping-submit").click()

    page.wait_for_url(re.compile(r"/datapool/imports/\d+/$"))
    groups = page.get_by_test_id("problem-groups")
    groups.wait_for(timeout=30_000)
    headlines = {
        section.get_attribute("data-kind"): section.locator("h2").inner_text()
        for section in groups.locator("section.problem-group").all()
    }
    assert set(headlines) == {"number", "unknown_key", "foreign_key"}
    assert headlines["number"].startswith("3 Werte sind keine gültigen Zahlen")
    assert headlines["unknown_key"].startswith("2 Schlüssel gibt es im LOR 2021 nicht")
    assert (
        f"3 von 9 Schlüsseln liegen außerhalb von {KREUZBERG}"
        in (headlines["foreign_key"])
    )
    assert "fehlgeschlagen" in page.get_by_test_id("progress-failed").inner_text()
    page.screenshot(path=artifacts / "planner_day_bad_upload.png", full_page=True)

    run = ImportRun.objects.latest("pk")
    assert run.status == ImportRun.Status.FAILED
    assert run.district.code == "02"
    assert db_state() == before  # nothing written, not even the new variable


def test_an_indicator_export_names_afs_and_geoportal(
    page, login, planner02, ewr_imported, tmp_path, artifacts
):
    indicators_compute()
    login(
        planner02,
        f"/analysis/explorer/?variable={INDICATOR}&level=bezirksregion&bezirk=02",
    )
    wait_until_ready(page, "map", [INDICATOR, "bezirksregion"], separator="|")
    assert page.get_by_test_id("bezirk").input_value() == "02"
    page.screenshot(path=artifacts / "planner_day_explorer.png")

    with page.expect_download() as info:
        page.locator('#exports a[data-format="csv"]').click()
    path = tmp_path / "export.csv"
    info.value.save_as(path)
    rows = list(csv.reader(path.open(encoding="utf-8-sig"), delimiter=";"))
    meta = {row[0]: row[1] for row in rows[:5] if len(row) > 1}
    credits = " ".join((meta["Quelle"] + " " + meta["Lizenz"]).split())
    assert AFS in credits and EWR_LICENSE == "CC BY 3.0 DE" and EWR_LICENSE in credits
    assert GEOPORTAL in credits and LOR_LICENSE == "dl-de/by-2-0"
    assert LOR_LICENSE in credits
    assert KREUZBERG in meta["Titel"]
    # Only the Bezirksregionen of Friedrichshain-Kreuzberg, keys kept as text.
    keys = [row[0] for row in rows[7:] if row]
    assert keys and all(k.startswith(EXCEL_TEXT_MARK + "02") for k in keys)
