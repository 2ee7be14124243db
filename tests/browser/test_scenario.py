"""Issue 13, done criterion: a planner opens a scenario, adds a Kita with 90
places in a Planungsraum with a deficit and sees that Planungsraum's
Versorgungsgrad rise, while the published map (explorer, VS_KITA_VG_2SFCA)
is unchanged. Real data: the EWR matrix 31.12.2024 (E_E1U6) and the
Geoportal's Kitas as register facilities."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from core.access import Role
from infrastructure.layer_import import facilities_import_gis
from infrastructure.supply import CATCHMENT, supply_compute
from infrastructure.supply_publish import supply_rule_publish
from tests.conftest import SHARED_DATA
from tests.infrastructure.scenario_support import kita_rule
from tests.support.login import user_with_role
from tests.support.pages import wait_until_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ON = date(2024, 12, 31)
PUBLISHED = "VS_KITA_VG_2SFCA"


def _observations() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), "
            "'')) FROM datapool_observation t"
        )
        observations = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), "
            "'')) FROM infrastructure_facility t"
        )
        return observations, cursor.fetchone()


def _number(text: str) -> float:
    return float(text.replace(".", "").replace(",", ".").replace("\u202f", ""))


@pytest.fixture
def kita_world(ewr_imported):
    rule = kita_rule()
    facilities_import_gis(
        path=SHARED_DATA / "infra_kitas_epsg25833.geojson", type_key="kita"
    )
    supply_rule_publish(rule=rule, ref_dates=[ON])
    result = supply_compute(rule=rule, ref_date=ON)
    # A Planungsraum of Mitte with children and a deficit by the 2SFCA.
    code = next(
        unit.code
        for unit in sorted(result.units.values(), key=lambda u: u.code)
        if unit.code.startswith("01")
        and unit.demand
        and unit.demand > 100
        and (unit.versorgungsgrad(CATCHMENT) or 0) < 90
    )
    return rule, code, result.units[code].versorgungsgrad(CATCHMENT)


def _published_value(page, base: str, code: str):
    answer = page.request.get(
        f"{base}/api/maps/values/?variable={PUBLISHED}&level=planungsraum"
        f"&date={ON.isoformat()}"
    ).json()
    return next(u["value"] for u in answer["results"] if u["code"] == code)


def test_a_planner_adds_a_kita_and_sees_the_versorgungsgrad_rise(
    page, login, live_server, kita_world, artifacts
):
    rule, code, grade = kita_world
    planner = user_with_role("planung01", Role.PLANNER, "01")
    base = live_server.url
    login(planner, f"/analysis/explorer/?variable={PUBLISHED}&level=planungsraum")
    wait_until_ready(page, "map", [PUBLISHED, "planungsraum"], separator="|")
    published_before = _published_value(page, base, code)
    assert published_before == pytest.approx(grade, abs=0.01)
    stored = _observations()

    page.goto(f"{base}/infrastructure/scenarios/")
    page.get_by_test_id("scenario-create").click()
    assert (
        "Szenario – nicht veröffentlicht"
        in page.get_by_test_id("scenario-marker").inner_text()
    )
    page.get_by_label("Titel").fill("Neue Kita in Mitte")
    page.get_by_label("Einrichtungsart und Versorgungsregel").select_option(
        str(rule.pk)
    )
    page.get_by_label("Stichtag").fill(ON.isoformat())
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url("**/infrastructure/scenarios/*/")
    assert (
        "Szenario – nicht veröffentlicht"
        in page.get_by_test_id("scenario-marker").inner_text()
    )
    wait_until_ready(page, "scenario-status", ["result", "planungsraum", "2sfca"])

    # A click on the right map chooses a place (the form shows it) ...
    # (West of Berlin: no facility marker there to catch the click.)
    page.get_by_test_id("map-after").click(position={"x": 30, "y": 220})
    assert page.locator("#id_lat").input_value()
    # ... here the Planungsraum's population point is taken instead.
    page.locator("#id_lat").fill("")
    page.locator("#id_lon").fill("")
    form = page.get_by_test_id("change-form")
    form.get_by_label("Art der Änderung").select_option("add")
    form.get_by_label("Name der neuen Einrichtung").fill("Kita am Park")
    form.get_by_label("Kapazität").fill("90")
    form.get_by_label("Planungsraum").select_option(code)
    page.get_by_test_id("change-submit").click()
    page.wait_for_load_state()
    assert "Kita am Park" in page.get_by_test_id("changes").inner_text()
    wait_until_ready(page, "scenario-status", ["result", "planungsraum", "2sfca"])

    row = page.get_by_test_id(f"row-{code}")
    before = _number(row.get_by_test_id("before").inner_text())
    after = _number(row.get_by_test_id("after").inner_text())
    assert before == pytest.approx(grade, abs=0.05)
    assert after > before
    assert _number(row.get_by_test_id("change").inner_text()) == pytest.approx(
        after - before, abs=0.11
    )
    page.screenshot(path=str(artifacts / "scenario.png"), full_page=True)

    # Within borders the 90 places are all the Planungsraum's own.
    page.get_by_test_id("method").select_option("grenzen")
    wait_until_ready(page, "scenario-status", ["result", "planungsraum", "grenzen"])
    change = _number(
        page.get_by_test_id(f"row-{code}").get_by_test_id("change").inner_text()
    )
    assert change > 0

    # The published map and the stored data are as they were.
    page.goto(f"{base}/analysis/explorer/?variable={PUBLISHED}&level=planungsraum")
    wait_until_ready(page, "map", [PUBLISHED, "planungsraum"], separator="|")
    assert _published_value(page, base, code) == published_before
    assert _observations() == stored
