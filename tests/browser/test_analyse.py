"""The analysis page in a real browser on the real EWR data, as a planner uses it."""

import re

import pytest

from tests.support.pages import wait_until_ready

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ewr_imported"),
]


def _table_has(page, *parts):
    """Wait until the table shows a selection naming all parts (keys, ops …)."""
    wait_until_ready(page, "analyse-table", parts)


def _add_column(page, key):
    page.get_by_test_id("variable").select_option(key)
    page.get_by_test_id("add-column").click()
    _table_has(page, f'"{key}"')


def _add_condition(page, column, op, value, expected):
    page.get_by_test_id("cond-column").select_option(column)
    page.get_by_test_id("cond-op").select_option(op)
    page.get_by_test_id("cond-value").fill(value)
    page.get_by_test_id("add-condition").click()
    _table_has(page, *expected)


def test_join_derive_filter_and_correlate(page, login, planner, artifacts):
    login(planner, "/analysis/analyse/")
    page.get_by_test_id("variable").locator("option[value=E_EW]").wait_for(
        state="attached"
    )
    assert page.get_by_test_id("level").input_value() == "planungsraum"
    _add_column(page, "E_E")
    _add_column(page, "E_EW")
    table = page.get_by_test_id("analyse-table")
    assert table.get_attribute("data-rows") == "542"

    # The server refuses a formula over a column that is not in the table.
    page.get_by_test_id("derived-label").fill("Kaputt")
    page.get_by_test_id("derived-formula").fill("E_EM / E_E")
    page.get_by_test_id("add-derived").click()
    error = page.get_by_test_id("analyse-error")
    error.filter(has_text="E_EM").wait_for()
    assert "zuerst als Spalte" in error.inner_text()

    page.get_by_test_id("derived-label").fill("Anteil Frauen")
    page.get_by_test_id("derived-formula").fill("E_EW / E_E * 100")
    page.get_by_test_id("add-derived").click()
    _table_has(page, "Anteil Frauen")
    assert page.get_by_test_id("derived-d1").is_visible()

    _add_condition(page, "E_E", ">", "10000", ['"E_E","op":">"'])
    _add_condition(page, "d1", "<", "50", ['"d1","op":"<"'])
    count = page.get_by_test_id("match-count")
    n, m = int(count.get_attribute("data-n")), int(count.get_attribute("data-m"))
    assert m == 542 and 0 < n < m
    assert re.search(rf"\b{n}\b.*\b{m}\b", count.inner_text())
    rows = table.locator("tbody tr[data-match='1']")
    assert rows.count() == n
    for values in rows.evaluate_all(
        "rows => rows.map(r => ['E_E', 'd1'].map(k => "
        "Number(r.querySelector(`td[data-column=${k}]`).dataset.value)))"
    ):
        assert values[0] > 10000 and values[1] < 50
    # A suppressed unit never matches.
    assert table.locator("tr[data-code='03400831']").get_attribute("data-match") is None
    # The matches are shown on the map as a selection.
    page.wait_for_function(
        "n => document.getElementById('match-map').dataset.highlighted === String(n)",
        arg=n,
    )
    page.screenshot(path=artifacts / "analyse_table.png")

    page.get_by_test_id("scatter-x").select_option("E_E")
    page.get_by_test_id("scatter-y").select_option("E_EW")
    page.get_by_test_id("show-scatter").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=chart-scatter]').dataset.loaded === '1'"
    )
    r_text = page.get_by_test_id("scatter-r")
    r = float(r_text.get_attribute("data-r"))
    assert 0.9 < r <= 1  # women and all inhabitants go together closely
    assert "n = 540" in r_text.inner_text()

    page.get_by_test_id("ranking-column").select_option("d1")
    page.get_by_test_id("show-ranking").click()
    page.get_by_test_id("timeseries-units").fill("01100101, 01100102")
    page.get_by_test_id("show-timeseries").click()
    page.get_by_test_id("agestructure-unit").fill("01100101")
    page.get_by_test_id("show-agestructure").click()
    for kind in ("ranking", "timeseries", "agestructure"):
        page.wait_for_function(
            f"document.querySelector('[data-testid=chart-{kind}]')"
            ".dataset.loaded === '1'"
        )
    page.locator("section.charts").evaluate("el => el.scrollIntoView()")
    page.screenshot(path=artifacts / "analyse_charts.png")
    for kind in ("scatter", "agestructure", "timeseries"):
        page.get_by_test_id(f"chart-{kind}").screenshot(
            path=artifacts / f"analyse_chart_{kind}.png"
        )

    href = page.get_by_test_id("save-query").get_attribute("href")
    assert href.startswith("/queries/new/?selection_json=")
    export = page.locator("#exports a[data-format=xlsx]").get_attribute("href")
    assert export.startswith("/analysis/export/?format=xlsx&selection=")
