"""Time in the explorer and on the unit page, in a real browser: the slider walks
every date from 2017, the clicked unit's series marks the LOR reform and its
estimated values, a change map across the reform says it is estimated.

The values are made with the factories (12 Bezirke, half-yearly from 31.12.2017,
estimated before 2021 as the converted old-scheme years are stored).
"""

from __future__ import annotations

from datetime import date

import pytest

from datapool.models import Observation, Variable
from datapool.services.observations import coverage_refresh
from lor import hierarchy
from lor.models import LorUnit
from tests.browser.test_accessibility import BLOCKING, _describe, _violations
from tests.factories import ImportRunFactory, IndicatorFactory, VariableFactory
from tests.support.pages import wait_until_ready

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

KEY = "KI_TS_BROWSER"
DATES = [date(2017, 12, 31)] + [
    date(year, month, 30 if month == 6 else 31)
    for year in range(2018, 2025)
    for month in (6, 12)
]
OLD = [d for d in DATES if hierarchy.before_reform(d)]


@pytest.fixture
def series_data(lor_units):
    variable = VariableFactory(
        key=KEY,
        name="Anteil Testgruppe",
        unit="%",
        value_type=Variable.ValueType.SHARE,
        aggregation=Variable.Aggregation.NONE,
        source="Testquelle (Beispieldaten)",
        license="CC BY 4.0",
    )
    # Sources travel from the indicator's inputs (datapool.lineage).
    inputs = {"source": "Testquelle (Beispieldaten)", "license": "CC BY 4.0"}
    IndicatorFactory(
        variable=variable,
        numerator=VariableFactory(**inputs),
        denominator=VariableFactory(**inputs),
    )
    bezirke = LorUnit.objects.filter(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK
    )
    run = ImportRunFactory()
    Observation.objects.bulk_create(
        Observation(
            variable=variable,
            unit=bezirk,
            ref_date=ref_date,
            value=10.0 + n + int(bezirk.code) / 10,
            status=(
                Observation.Status.ESTIMATED
                if hierarchy.before_reform(ref_date)
                else Observation.Status.OK
            ),
            import_run=run,
        )
        for bezirk in bezirke
        for n, ref_date in enumerate(DATES)
    )
    coverage_refresh(variable_ids=[variable.id])
    return variable


def _assert_accessible(page, name: str, artifacts) -> None:
    violations = _violations(page)
    (artifacts / f"axe_{name}.txt").write_text(_describe(violations) + "\n")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, _describe(blocking)


def test_explorer_series_marks_reform_and_estimated_values(
    page, login, planner, series_data, artifacts, live_server
):
    login(planner, f"/analysis/explorer/?variable={KEY}&level=bezirk")
    wait_until_ready(page, "map", [KEY, "bezirk", "2024-12-31"], separator="|")
    # The slider walks every date with values, from 31.12.2017.
    slider = page.get_by_test_id("date-slider")
    assert slider.get_attribute("max") == str(len(DATES) - 1)

    page.locator('#map path[data-code="01"]').click(force=True)
    chart = page.get_by_test_id("panel-chart")
    chart.get_by_test_id("series-reform").wait_for(state="attached")
    assert "LOR-Reform 2021" in chart.get_by_test_id("series-reform").text_content()
    assert chart.get_by_test_id("series-estimated-marker").count() == len(OLD)
    # Every segment up to the first date after the reform is dashed.
    assert chart.get_by_test_id("series-estimated-segment").count() == len(OLD)
    legend = chart.get_by_test_id("series-estimated-legend")
    assert "geschätzt (umgerechnet aus LOR 2006)" in legend.inner_text()
    link = chart.get_by_test_id("series-chart-link").get_attribute("href")
    svg = page.request.get(live_server.url + link)
    assert svg.ok and "LOR-Reform 2021" in svg.text()
    page.screenshot(path=artifacts / "explorer_series.png")
    _assert_accessible(page, "explorer_series", artifacts)

    # A change map across the reform: estimated, and the legend says so.
    page.get_by_test_id("compare").select_option("2019-12-31")
    wait_until_ready(page, "map", [KEY, "2024-12-31", "2019-12-31"], separator="|")
    estimated = page.get_by_test_id("legend-estimated")
    assert "geschätzt (umgerechnet aus LOR 2006)" in estimated.inner_text()
    assert "12" in estimated.inner_text()


def test_unit_page_shows_a_series_per_kernindikator(
    page, login, planner, series_data, artifacts
):
    login(planner, "/lor/01/")
    wait_until_ready(page, "unit-series", ["1"])
    box = page.get_by_test_id("unit-series")
    assert "Anteil Testgruppe" in box.inner_text()
    assert "Quellen:" in box.get_by_test_id("series-sources").first.inner_text()
    assert box.get_by_test_id("series-reform").count() == 1
    assert box.get_by_test_id("series-estimated-marker").count() == len(OLD)
    page.screenshot(path=artifacts / "unit_series.png")
    _assert_accessible(page, "unit_series", artifacts)
