"""A coordinator imports a project file: one bad line is refused with line and
column and nothing is written; the fixed file imports; the steering map and table
and the Fördermittelbericht show the amounts; a guest sees no amount anywhere."""

from __future__ import annotations

import re
import subprocess

import pytest

from funding.models import Project, ProjectAmount
from tests.funding.conftest import csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Tiergarten Süd (Bezirksregion 011001) has no example project: what the table
# shows there comes from this file alone (10 000 € + 2 500 € + 0 €).
GOOD = [
    "B-001;Spielplatz Browsertest;efre;;01100101;;;Bezirksamt Mitte;"
    "Öffentlicher Raum;01.01.2023;31.12.2024;laufend;2023;10.000,00;4.000,00",
    "B-001;Spielplatz Browsertest;efre;;01100101;;;Bezirksamt Mitte;"
    "Öffentlicher Raum;01.01.2023;31.12.2024;laufend;2024;2.500,00;8.500,00",
]
BAD = [GOOD[0], GOOD[1].replace("2.500,00", "2.5OO,00")]


@pytest.fixture
def funding_data(ewr_imported):
    from core.access import Role
    from funding.services.examples import funding_examples_load
    from tests.support.login import user_with_role

    funding_examples_load()
    return {
        "coordinator": user_with_role("koordination01", Role.COORDINATOR, "01"),
        "guest": user_with_role("gast", Role.GUEST, None),
    }


def _upload(page, path) -> None:
    page.locator("main input[type=file]").set_input_files(str(path))
    page.get_by_test_id("funding-upload-submit").click()
    page.wait_for_url(re.compile(r"/funding/import/\d+/$"))


def test_coordinator_imports_fixes_and_sees_the_amounts_guest_sees_none(
    page, login, live_server, funding_data, artifacts, tmp_path
):
    bad_file = tmp_path / "massnahmen_mitte.csv"
    bad_file.write_bytes(csv_bytes(BAD))
    before = (Project.objects.count(), ProjectAmount.objects.count())

    login(funding_data["coordinator"], "/funding/import/")
    assert page.get_by_test_id("template-xlsx").is_visible()
    _upload(page, bad_file)
    groups = page.get_by_test_id("problem-groups")
    groups.wait_for()
    text = groups.inner_text()
    assert "Zeile 3" in text
    assert "Spalte „Bewilligt (EUR)“" in text
    assert "2.5OO,00" in text
    assert "nichts importiert" in page.get_by_test_id("run-error").inner_text()
    page.screenshot(path=artifacts / "funding_import_failed.png", full_page=True)
    assert (Project.objects.count(), ProjectAmount.objects.count()) == before

    page.get_by_test_id("upload-new").click()
    good_file = tmp_path / "massnahmen_mitte_korrigiert.csv"
    good_file.write_bytes(csv_bytes(GOOD))
    _upload(page, good_file)
    page.get_by_test_id("run-summary").wait_for()
    assert page.get_by_test_id("run-status").inner_text() == "erfolgreich"
    assert Project.objects.filter(number="B-001", district__code="01").exists()

    page.get_by_test_id("to-steering").click()
    page.wait_for_url(re.compile(r"/funding/\?district=01"))
    row = page.locator("[data-testid=funding-table] tr[data-code='011001']")
    assert "12.500" in row.inner_text()  # approved, both years
    assert "12.500" in row.inner_text().split("12.500", 1)[1]  # paid: 4 000 + 8 500
    page.locator("#funding-map path").first.wait_for(state="attached")
    legend = page.get_by_test_id("funding-legend")
    legend.get_by_text("EUR je Einwohner/in").wait_for()
    assert page.get_by_test_id("example-note").is_visible()
    page.screenshot(path=artifacts / "funding_steering.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_test_id("report-pdf").click()
    pdf = tmp_path / "bericht.pdf"
    download.value.save_as(pdf)
    report = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Fördermittelbericht Mitte" in report
    assert "Spielplatz Browsertest" in report
    assert "10.000,00" in report and "2.500,00" in report
    assert "Beispieldaten – keine amtlichen Zahlen" in report

    # A guest: no amount on the page, none from the API.
    page.context.clear_cookies()
    login(funding_data["guest"], "/funding/")
    assert page.get_by_test_id("amounts-hidden").is_visible()
    main = page.locator("main").inner_text()
    assert "12.500" not in main and "10.000" not in main
    assert page.locator("#funding-map").count() == 0
    values = page.request.get(f"{live_server.url}/api/funding/values/?level=bezirk")
    assert values.status == 403
    projects = page.request.get(f"{live_server.url}/api/funding/projects/")
    assert projects.status == 200
    body = projects.json()
    assert body["projects"] and all("amounts" not in p for p in body["projects"])
    report = page.request.get(f"{live_server.url}/funding/bericht/?bezirk=01")
    assert report.status == 403
    page.goto(f"{live_server.url}/funding/projekte/")
    assert "Spielplatz Browsertest" in page.locator("main").inner_text()
    assert "10.000" not in page.locator("main").inner_text()
