"""Upload a real table in the browser, map its columns, find the new variables."""

import re

import pytest

from datapool.models import ImportRun, Observation
from datapool.services.imports import import_run_create
from datapool.services.inspection import import_run_inspect
from lor.models import BERLIN_CODE
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T2 = SHARED_DATA / "einwohner_plr_2024-12-31_t2_altersgruppen.csv"


def _new_variable(page, column: str, key: str, name: str, unit: str = "Personen"):
    page.get_by_test_id(f"map-action-{column}").select_option("new")
    page.get_by_test_id(f"map-key-{column}").fill(key)
    page.get_by_test_id(f"map-name-{column}").fill(name)
    page.get_by_test_id(f"map-theme-{column}").select_option("bevoelkerung")
    page.get_by_test_id(f"map-unit-{column}").fill(unit)
    page.get_by_test_id(f"map-value_type-{column}").select_option("count")
    page.get_by_test_id(f"map-aggregation-{column}").select_option("sum")


def test_upload_table_map_columns_and_find_variable(
    page, login, live_server, administrator, artifacts
):
    # Berlin-wide tables are uploaded by administrators (issue 7 roles).
    login(administrator, "/datapool/imports/new/")
    page.locator("main input[type=file]").set_input_files(str(T2))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/datapool/imports/\d+/mapping/$"))

    preview = page.get_by_test_id("preview-table")
    assert "01100101" in preview.inner_text()
    assert preview.locator("tbody tr").count() == 10
    page.get_by_test_id("key-column").select_option("id")
    page.get_by_test_id("ref-date").fill("2024-12-31")
    # The fields of a new variable appear once the column is to become one.
    assert not page.get_by_test_id("map-name-inhabitants").is_visible()
    _new_variable(
        page, "inhabitants", "EW_BROWSER", "Einwohnende insgesamt (Browsertest)"
    )
    _new_variable(
        page,
        "inhabitants_age_below_6",
        "EW_BROWSER_U6",
        "Kinder unter 6 Jahren (Browsertest)",
    )
    page.screenshot(path=artifacts / "upload_mapping.png", full_page=True)
    page.get_by_test_id("mapping-submit").click()

    page.wait_for_url(re.compile(r"/datapool/imports/\d+/$"))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=progress-percent]')"
        "?.textContent.trim() === '100'"
    )
    run = ImportRun.objects.latest("pk")
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert page.get_by_test_id("run-status").inner_text() == run.get_status_display()
    assert "EW_BROWSER_U6" in page.get_by_test_id("run-variables").inner_text()
    page.screenshot(path=artifacts / "upload_done.png", full_page=True)
    berlin = Observation.objects.get(variable__key="EW_BROWSER", unit__code=BERLIN_CODE)
    assert berlin.value == 3_897_145

    page.goto(f"{live_server.url}/datapool/")
    page.locator("main input[name=q]").fill("Browsertest")
    page.locator("main form[role=search] button[type=submit]").click()
    page.wait_for_url(re.compile(r"[?&]q=Browsertest"))
    catalogue = page.get_by_test_id("catalogue").inner_text()
    assert "Kinder unter 6 Jahren (Browsertest)" in catalogue
    assert "Einwohnende insgesamt (Browsertest)" in catalogue
    page.screenshot(path=artifacts / "upload_catalogue.png", full_page=True)


def test_mapping_errors_are_shown_in_the_page(page, login, administrator):
    login(administrator, "/datapool/imports/new/")
    page.locator("main input[type=file]").set_input_files(str(T2))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/mapping/$"))
    page.get_by_test_id("ref-date").fill("")
    page.get_by_test_id("mapping-submit").click()  # nothing mapped, no date
    page.get_by_test_id("form-errors").wait_for()
    assert "zwingend erforderlich" in page.get_by_test_id("error-ref_date").inner_text()
    assert ImportRun.objects.latest("pk").status == ImportRun.Status.DRAFT


def test_mapping_page_waits_for_the_inspection_then_shows_the_form(
    page, login, administrator, artifacts
):
    # A run as the upload leaves it while the worker has not read the table yet.
    run = import_run_create(
        kind=ImportRun.Kind.TABLE,
        path=T2,
        original_name=T2.name,
        user=administrator,
        status=ImportRun.Status.QUEUED,
    )
    ImportRun.objects.filter(pk=run.pk).update(inspection={})
    login(administrator, f"/datapool/imports/{run.pk}/mapping/")
    assert page.get_by_test_id("inspection-pending").is_visible()
    assert page.get_by_test_id("mapping-form").count() == 0
    page.screenshot(path=artifacts / "upload_inspection_pending.png", full_page=True)

    import_run_inspect(import_run=run)  # what the worker does

    # The page polls the run and shows the form once the inspection is stored.
    page.get_by_test_id("mapping-form").wait_for(timeout=15_000)
    assert "01100101" in page.get_by_test_id("preview-table").inner_text()
