"""The explorer in a real browser on the real EWR data, as a planner uses it."""

import re

import pytest

from tests.support.login import login_form_submit
from tests.support.pages import wait_until_ready

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ewr_imported"),
]


def _ready(page, *parts):
    wait_until_ready(page, "map", parts, separator="|")


def test_choropleth_legend_classes_panel_and_table(page, login, planner, artifacts):
    login(planner, "/analysis/explorer/")
    _ready(page, "E_E", "planungsraum", "quantiles")
    assert page.get_by_test_id("map").get_attribute("data-feature-count") == "542"
    assert page.locator("#map path[data-code]").count() == 542
    legend = page.get_by_test_id("legend")
    assert "Einwohner insgesamt" in legend.inner_text()
    assert "gesperrt" in page.get_by_test_id("legend-suppressed").inner_text()
    # A suppressed unit is drawn hatched, never in a class colour.
    fill = page.locator('#map path[data-code="03400831"]').get_attribute("fill")
    assert fill == "url(#prisma-hatch)"
    quantile_bounds = legend.get_attribute("data-bounds")
    page.screenshot(path=artifacts / "explorer_map.png")

    page.get_by_test_id("method").select_option("natural_breaks")
    _ready(page, "E_E", "natural_breaks")
    assert legend.get_attribute("data-bounds") != quantile_bounds

    page.get_by_test_id("method").select_option("manual")
    page.get_by_test_id("breaks").fill("3.000; 6.000; 9.000")
    page.get_by_test_id("breaks").dispatch_event("change")
    _ready(page, "E_E", "manual")
    assert legend.get_attribute("data-bounds").split("|")[:3] == [
        "3000",
        "6000",
        "9000",
    ]
    page.get_by_test_id("method").select_option("natural_breaks")
    _ready(page, "E_E", "natural_breaks")

    page.locator('#map path[data-code="01100101"]').click(force=True)
    panel = page.get_by_test_id("unit-panel")
    panel.wait_for(state="visible")
    assert "Stülerstraße (01100101)" in panel.inner_text()
    assert "3.580" in panel.inner_text()

    page.get_by_test_id("tab-table").click()
    table = page.get_by_test_id("explorer-table")
    table.wait_for(state="visible")
    assert table.get_attribute("data-rows") == "542"
    assert "3.897.145" in page.get_by_test_id("berlin-row").inner_text()
    page.get_by_test_id("table-filter").fill("Stüler")
    assert table.get_attribute("data-rows") == "1"
    page.screenshot(path=artifacts / "explorer_table.png")


def test_facility_layer_overlay(page, login, planner):
    from tests.conftest import jfe_import

    jfe_import()
    login(planner, "/analysis/explorer/")
    _ready(page, "E_E", "planungsraum")
    page.get_by_test_id("facility-jfe").check()
    page.wait_for_function("document.getElementById('map').dataset.points === '407'")


def test_downloads_of_the_current_view(page, login, planner, tmp_path):
    import geopandas as gpd
    import openpyxl
    from matplotlib import image

    login(planner, "/analysis/explorer/")
    _ready(page, "E_E", "planungsraum")
    page.get_by_test_id("level").select_option("bezirk")
    _ready(page, "E_E", "bezirk")
    files = {}
    for fmt in ("xlsx", "gpkg", "png"):
        with page.expect_download() as info:
            page.locator(f'#exports a[data-format="{fmt}"]').click()
        path = tmp_path / f"export.{fmt}"
        info.value.save_as(path)
        files[fmt] = path
    sheet = openpyxl.load_workbook(files["xlsx"]).active
    values = [row for row in sheet.iter_rows(values_only=True) if row and row[0]]
    assert any(str(r[0]).startswith("01") for r in values)
    assert sum(1 for r in values if str(r[0]).isdigit() and len(str(r[0])) == 2) == 12
    frame = gpd.read_file(files["gpkg"], layer="auswahl")
    assert len(frame) == 12 and frame.crs.to_epsg() == 25833
    picture = image.imread(files["png"])
    assert picture.shape[1] >= 800 and picture.shape[0] >= 600


def test_save_the_view_as_query_and_reopen_it_after_login(page, login, planner):
    login(planner, "/analysis/explorer/")
    _ready(page, "E_E", "planungsraum")
    page.get_by_test_id("save-query").click()
    page.wait_for_url(re.compile(r"/queries/new/"))
    assert page.get_by_test_id("from-explorer").is_visible()
    page.get_by_label("Titel").fill("Einwohner je Planungsraum")
    page.get_by_label("Anfrage (Drucksache)").fill("Drucksache 19/12345")
    page.get_by_role("button", name="Abfrage speichern").click()
    page.wait_for_url(re.compile(r"/queries/\d+/$"))
    permalink = page.url
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.goto(permalink)
    login_form_submit(page, username=planner.username)
    page.wait_for_url(permalink)
    body = page.content()
    assert "Drucksache 19/12345" in body and "Stülerstraße" in body and "3.580" in body
    from queries.models import SavedQuery

    saved = SavedQuery.objects.get()
    assert saved.presentation["method"] == "quantiles"
    assert saved.presentation["map"]["zoom"] > 0
    assert "method=quantiles" in page.get_by_test_id("open-in-explorer").get_attribute(
        "href"
    )


def test_time_slider_and_change_map(page, login, planner, tmp_path):
    from django.core.management import call_command

    from tests.conftest import SHARED_DATA

    # An earlier reference date for the test: the real matrix with ZEIT 202406 and
    # every count 2 % lower (test data, not a real delivery).
    lines = (SHARED_DATA / "EWR_L21_202412E_Matrix.csv").read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(";")
        cells[0] = "202406"
        cells[7:] = [str(int(int(c) * 0.98)) if c else c for c in cells[7:]]
        out.append(";".join(cells))
    earlier = tmp_path / "EWR_L21_202406E_Matrix.csv"
    earlier.write_text("\n".join(out) + "\n")
    call_command(
        "datapool_import", str(earlier), "--map", "06200318=06200418", verbosity=0
    )
    login(planner, "/analysis/explorer/")
    _ready(page, "E_E", "planungsraum", "2024-12-31")
    assert page.get_by_test_id("date-label").inner_text() == "31.12.2024"
    slider = page.get_by_test_id("date-slider")
    slider.focus()
    page.keyboard.press("ArrowLeft")  # fires input and change like a drag
    _ready(page, "E_E", "2024-06-30")
    assert page.get_by_test_id("date-label").inner_text() == "30.06.2024"
    page.keyboard.press("ArrowRight")
    _ready(page, "E_E", "2024-12-31")
    page.get_by_test_id("compare").select_option("2024-06-30")
    _ready(page, "E_E", "2024-12-31", "2024-06-30")
    assert "Veränderung seit 30.06.2024" in page.get_by_test_id("legend").inner_text()
