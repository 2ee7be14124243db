"""The common inquiry in few actions: „Anteil der Kinder unter 6 Jahren in den
Planungsräumen von Friedrichshain-Kreuzberg, die fünf höchsten“.

There is no Kernindikator for children under 6, so the planner builds the share
on the analysis page by picking variables by name. Every user action is counted.
"""

import csv
from urllib.parse import parse_qs, urlsplit

import pytest

from core.access import Role
from tests.conftest import SHARED_DATA
from tests.support.login import user_with_role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ewr_imported"),
]


def _expected_top5() -> list[tuple[str, float]]:
    """(E_EU1 + E_E1U6) / E_E * 100 per Planungsraum of Bezirk 02, by hand."""
    path = SHARED_DATA / "EWR_L21_202412E_Matrix.csv"
    with path.open(encoding="utf-8-sig") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter=";") if r["BEZ"] == "02"]
    shares = [
        (r["RAUMID"], (int(r["E_EU1"]) + int(r["E_E1U6"])) / int(r["E_E"]) * 100)
        for r in rows
        if int(r["E_E"])
    ]
    return sorted(shares, key=lambda s: -s[1])[:5]


def test_under_six_share_in_friedrichshain_kreuzberg(page, login, lor_units):
    planner = user_with_role("planung02", Role.PLANNER, "02")
    actions = 0

    login(planner, "/analysis/analyse/")  # 1: open the analysis page
    actions += 1
    page.locator("#variable-names option[value='Einwohner insgesamt']").wait_for(
        state="attached"
    )
    assert page.get_by_test_id("level").input_value() == "planungsraum"
    page.get_by_test_id("within").select_option("02")  # 2: only Bezirk 02
    page.get_by_test_id("share-a").fill("Einwohner unter 1 Jahr")  # 3
    page.get_by_test_id("share-b").fill("Einwohner 1 bis unter 6 Jahre")  # 4
    page.get_by_test_id("share-of").fill("Einwohner insgesamt")  # 5
    page.get_by_test_id("add-share").click()  # 6
    actions += 5
    assert actions <= 6

    # Read the ranking: the five highest shares (no further action).
    top = page.get_by_test_id("ranking-top").locator("li")
    expected = _expected_top5()
    page.wait_for_function(
        "n => document.querySelectorAll('#ranking-top li').length === n "
        "&& document.getElementById('ranking-of').value.startsWith('d')",
        arg=len(expected),
    )
    shown = [
        (item.get_attribute("data-code"), float(item.get_attribute("data-value")))
        for item in top.all()
    ]
    assert [code for code, _ in shown] == [code for code, _ in expected]
    for (_, value), (_, wanted) in zip(shown, expected, strict=True):
        assert value == pytest.approx(wanted, abs=1e-6)
    assert page.get_by_test_id("derived-formula").input_value() == (
        "(E_EU1 + E_E1U6) / E_E * 100"
    )

    # The CSV export of this selection names the Bezirk in its title.
    href = page.locator('#exports a[data-format="csv"]').get_attribute("href")
    response = page.request.get(page.url.split("/analysis/")[0] + href)
    assert response.ok
    assert "within" in parse_qs(urlsplit(href).query)["selection"][0]
    assert "Friedrichshain-Kreuzberg" in response.body().decode("utf-8-sig")


def test_explorer_restricted_to_a_bezirk(page, login, lor_units):
    """Bezirk 02 from the permalink: ranking, rank "von N", units and export."""
    planner = user_with_role("planung02", Role.PLANNER, "02")
    login(planner, "/analysis/explorer/?variable=E_E&level=planungsraum&bezirk=02")
    page.locator("#map[data-ready^='E_E|']").wait_for(state="attached")
    page.wait_for_function("document.querySelectorAll('#ranking-top li').length === 5")
    codes = (
        page.get_by_test_id("ranking-top")
        .locator("li")
        .evaluate_all("items => items.map(i => i.dataset.code)")
    )
    assert all(code.startswith("02") for code in codes)
    assert "Personen" in page.get_by_test_id("ranking-top").inner_text()
    assert page.get_by_test_id("map").get_attribute("data-bezirk") == "02"
    assert "Personen" in page.get_by_test_id("legend-unit").inner_text()
    href = page.locator('#exports a[data-format="csv"]').get_attribute("href")
    assert '"within": "02"' in parse_qs(urlsplit(href).query)["selection"][0] or (
        '"within":"02"' in parse_qs(urlsplit(href).query)["selection"][0]
    )

    # Search by name picks the variable; the panel tells the rank "von N".
    page.get_by_test_id("variable-search").fill("Einwohner unter 1 Jahr")
    page.locator("#map[data-ready^='E_EU1|']").wait_for(state="attached")
    page.get_by_test_id("tab-table").click()
    page.locator("#explorer-table tr[data-code^='02']").first.wait_for()
    page.get_by_test_id("tab-map").click()
    page.locator(f"#map path[data-code='{codes[0]}']").click(force=True)
    panel = page.get_by_test_id("unit-panel")
    panel.wait_for()
    assert " von " in panel.inner_text()
