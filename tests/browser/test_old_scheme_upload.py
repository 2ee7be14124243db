"""A coordinator uploads a file in LOR 2006 keys, is told so, converts it and finds
the values marked as estimated in the explorer and its export."""

import re

import pytest
from django.core.management import call_command

from datapool.models import ImportRun
from lor.models import LorUnit
from tests.lor.conftest import CORRECTIONS
from tests.support.pages import wait_until_ready

from ..datapool.test_conversion import OLD_2020

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARK = "geschätzt (umgerechnet aus LOR 2006)"


@pytest.fixture
def mitte_2020(tmp_path, lor_units):
    """The old scheme with its crosswalk, and the 2020 matrix of Mitte (Bezirk 01)
    in old keys: what Mitte's coordinator may upload."""
    if not LorUnit.objects.filter(scheme=LorUnit.Scheme.LOR_2006).exists():
        call_command("lor2006_import", "--corrections", str(CORRECTIONS), verbosity=0)
    call_command("lor_crosswalk", verbosity=0)
    header, *rows = OLD_2020.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "EWR202012E_Matrix.csv"
    mitte = [row for row in rows if row.split(";")[1].startswith("01")]
    path.write_text("\n".join([header, *mitte]) + "\n", encoding="utf-8")
    return path, len(mitte)


def test_old_scheme_upload_is_converted_and_shown_as_estimated(
    page, login, live_server, coordinator, mitte_2020, artifacts, tmp_path
):
    path, keys = mitte_2020
    login(coordinator, "/datapool/imports/new/")
    page.locator("main input[type=file]").set_input_files(str(path))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/datapool/imports/\d+/$"))
    notice = page.get_by_test_id("old-scheme")
    notice.wait_for()
    text = notice.inner_text()
    assert "Schlüssel des LOR-Schemas 2006" in text
    assert f"{keys} von {keys} Schlüsseln sind LOR-2006-Planungsräume" in text
    # Many unknown keys: a summary and "skip all", no question per key.
    assert page.get_by_test_id("unknown-summary").is_visible()
    assert page.locator("main input[type=radio]").count() == 0
    page.screenshot(path=artifacts / "old_scheme_review.png", full_page=True)

    page.get_by_test_id("convert-lor2006").click()
    page.get_by_test_id("conversion").wait_for()
    run = ImportRun.objects.get(kind=ImportRun.Kind.EWR)
    assert run.status == ImportRun.Status.SUCCEEDED
    conversion = ImportRun.objects.get(kind=ImportRun.Kind.CONVERSION)
    assert conversion.status == ImportRun.Status.SUCCEEDED, conversion.error
    assert "geschätzt" in page.get_by_test_id("conversion").inner_text()

    page.goto(
        f"{live_server.url}/analysis/explorer/?variable=E_E&level=planungsraum"
        "&date=2020-12-31&bezirk=01"
    )
    wait_until_ready(page, "map", ["E_E", "planungsraum", "2020-12-31"], separator="|")
    legend = page.get_by_test_id("legend")
    assert MARK in page.get_by_test_id("legend-estimated").inner_text()
    sources = page.get_by_test_id("legend-sources").inner_text()
    assert "Umschlüsselung LOR 2006" in sources
    page.screenshot(path=artifacts / "old_scheme_explorer.png")
    assert "Einwohner" in legend.inner_text()

    page.get_by_test_id("tab-table").click()
    table = page.get_by_test_id("explorer-table")
    table.wait_for(state="visible")
    estimated_rows = table.locator('tbody tr[data-status="estimated"]')
    assert estimated_rows.count() > 0
    assert MARK in estimated_rows.first.inner_text()

    with page.expect_download() as info:
        page.locator('#exports a[data-format="csv"]').click()
    target = tmp_path / "export.csv"
    info.value.save_as(target)
    exported = target.read_text(encoding="utf-8-sig")
    assert MARK in exported
    assert "Umschlüsselung LOR 2006 → LOR 2021" in exported
