"""The first map in a real browser: log in, drill down Bezirk → Planungsraum."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for_units(page, count: int, level: str):
    page.wait_for_function(
        "([n, level]) => { const m = document.getElementById('map');"
        " return m.dataset.featureCount === String(n) && m.dataset.level === level; }",
        arg=[count, level],
    )
    assert page.locator("#map path.leaflet-interactive").count() == count


def _click_unit(page, code: str):
    """Click inside the unit's polygon (its box centre may lie in a neighbour)."""
    path = page.locator(f'#map path[data-code="{code}"]')
    box = path.bounding_box()
    for fx, fy in (
        (0.5, 0.5),
        (0.4, 0.4),
        (0.6, 0.6),
        (0.4, 0.6),
        (0.6, 0.4),
        (0.3, 0.5),
        (0.7, 0.5),
        (0.5, 0.3),
        (0.5, 0.7),
    ):
        x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.dataset?.code", [x, y]
        )
        if hit == code:
            page.mouse.move(x, y)
            page.locator(".leaflet-tooltip", has_text=code).wait_for()
            page.mouse.click(x, y)
            return
    raise AssertionError(f"no clickable point found inside unit {code}")


def test_drill_down_from_bezirk_to_planungsraum(
    page, login, live_server, planner, artifacts
):
    login(planner, "/map/")
    _wait_for_units(page, 12, "bezirk")
    assert page.get_by_test_id("level-select").input_value() == "bezirk"
    page.screenshot(path=artifacts / "lor_map_bezirke.png")

    _click_unit(page, "01")
    _wait_for_units(page, 4, "prognoseraum")
    assert "Mitte" in page.get_by_test_id("breadcrumb").inner_text()

    _click_unit(page, "0110")
    _wait_for_units(page, 4, "bezirksregion")

    _click_unit(page, "011001")
    _wait_for_units(page, 4, "planungsraum")
    crumbs = page.get_by_test_id("breadcrumb").inner_text()
    assert all(
        part in crumbs for part in ("Berlin", "Mitte", "Zentrum", "Tiergarten Süd")
    )

    _click_unit(page, "01100101")
    panel = page.get_by_test_id("unit-panel")
    panel.wait_for(state="visible")
    assert "Stülerstraße" in panel.inner_text()
    assert page.get_by_test_id("unit-code").inner_text() == "01100101"
    page.screenshot(path=artifacts / "lor_map_planungsraum.png")

    # The panel links to the unit page with its parent.
    panel.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/lor/01100101/"))
    assert "Tiergarten Süd (011001)" in page.content()

    # Back at the top of the breadcrumb, all Bezirke are shown again.
    page.goto(f"{live_server.url}/map/?unit=011001")
    _wait_for_units(page, 4, "planungsraum")
    page.get_by_test_id("breadcrumb").get_by_role("link", name="Berlin").click()
    _wait_for_units(page, 12, "bezirk")


def test_level_switch_shows_all_planungsraeume(page, login, planner):
    login(planner, "/map/")
    _wait_for_units(page, 12, "bezirk")
    page.get_by_test_id("level-select").select_option("planungsraum")
    _wait_for_units(page, 542, "planungsraum")
