"""Explorer output encoding (issue 15, finding 5): names and units from users and
files appear as text in the legend, table, layer list and tooltips; no element
is created from them. The page fixture bypasses the CSP, so an injected
``<img onerror>`` would really run and open a dialog.
"""

import json
import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HTML = "<img src=x onerror=alert(1)><b>fett</b>"
FILE_PAYLOAD = "<img src=x onerror=alert(2)>"  # a file name cannot hold "/"


@pytest.fixture
def poisoned(django_user_model, lor_units, tmp_path):
    """EWR data, a facility layer and custom areas named with HTML payloads."""
    from django.core.management import call_command

    from datapool.models import ImportRun, Variable
    from datapool.services.indicators import (
        indicator_run_create,
        indicator_run_execute,
    )
    from lor.services.custom_areas import AreaSpec, custom_area_set_create
    from tests.conftest import ewr_import, make_user

    ewr_import()
    Variable.objects.filter(key="E_E").update(name=HTML, unit=HTML)
    # One facility near Alexanderplatz; the layer is named after the file.
    points = tmp_path / f"{FILE_PAYLOAD}.geojson"
    points.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": HTML},
                        "geometry": {
                            "type": "Point",
                            "coordinates": [13.4132, 52.5219],
                        },
                    }
                ],
            }
        )
    )
    call_command(
        "datapool_import",
        str(points),
        "--option",
        "layer=pay",
        "--option",
        "ref_date=2024-12-31",
        verbosity=0,
    )
    from core.access import Role

    user = make_user(django_user_model, "planerin", Role.PLANNER, "01")
    user.set_password("Karte-2024!")
    user.save()
    area_set = custom_area_set_create(
        name=HTML,
        kind="other",
        areas=[
            AreaSpec(name=HTML, keys=["01"]),
            AreaSpec(name=f"{HTML} 2", keys=["02"]),
        ],
        owner=user,
    )
    run = indicator_run_execute(run=indicator_run_create(custom_areas=True))
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    return area_set


def _login(page, live_server, path):
    page.goto(f"{live_server.url}{path}")
    page.get_by_label("Benutzername").fill("planerin")
    page.get_by_label("Passwort").fill("Karte-2024!")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(re.escape(path)))


def _ready(page, *parts):
    page.wait_for_function(
        "(parts) => { const r = document.getElementById('map').dataset.ready || '';"
        " return parts.every(p => r.split('|').includes(p)); }",
        arg=list(parts),
    )


def _no_injected_elements(page, dialogs):
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("b", has_text="fett").count() == 0
    assert dialogs == []


def _hover_facility(page):
    """Move the mouse onto the only facility point (drawn on the canvas).

    The event goes to the canvas directly: the unit polygons' SVG lies above it.
    """
    position = page.evaluate(
        """() => {
          const canvas = document.querySelector('#map canvas');
          const data = canvas.getContext('2d')
            .getImageData(0, 0, canvas.width, canvas.height).data;
          const rect = canvas.getBoundingClientRect();
          for (let i = 0; i < data.length; i += 4) {
            // fill #1b7837 of the first layer
            if (Math.abs(data[i] - 27) < 12 && Math.abs(data[i + 1] - 120) < 12
                && Math.abs(data[i + 2] - 55) < 12 && data[i + 3] > 100) {
              const n = i / 4, x = n % canvas.width, y = Math.floor(n / canvas.width);
              const at = { clientX: rect.left + (x + 2) * rect.width / canvas.width,
                           clientY: rect.top + (y + 2) * rect.height / canvas.height };
              const move = Object.assign({ bubbles: true }, at);
              canvas.dispatchEvent(new MouseEvent('mousemove', move));
              return at;
            }
          }
          return null;
        }"""
    )
    assert position, "facility point not drawn"


def test_explorer_shows_names_units_and_layer_names_as_text(
    page, live_server, poisoned, artifacts
):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    level = f"custom:{poisoned.pk}"
    _login(page, live_server, f"/analysis/explorer/?variable=E_E&level={level}")
    _ready(page, "E_E", level)

    # Legend: the variable's name.
    legend = page.get_by_test_id("legend")
    assert legend.locator("h2").inner_text() == HTML

    # Tooltip of a unit: the area's name and the unit.
    codes = page.locator("#map path[data-code]").evaluate_all(
        "paths => paths.map(p => p.dataset.code)"
    )
    assert len(codes) == 2
    page.locator(f'#map path[data-code="{codes[0]}"]').hover(force=True)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert text.startswith(f"{HTML} ({codes[0]})")
    assert tooltip.locator("strong").inner_text().startswith(HTML)

    # Layer list: the layer's name, from the uploaded file's name.
    page.get_by_test_id("facility-pay").wait_for(state="attached")
    layers = page.locator("#facility-layers")
    assert FILE_PAYLOAD in layers.inner_text()
    assert layers.locator("input[type=checkbox]").count() == 1
    page.get_by_test_id("facility-pay").check()
    page.wait_for_function("document.getElementById('map').dataset.points === '1'")
    _hover_facility(page)
    point_tooltip = page.locator(".leaflet-tooltip").filter(
        has_text=re.compile(f"^{re.escape(HTML)}$")
    )
    point_tooltip.wait_for(state="visible")
    _no_injected_elements(page, dialogs)
    page.screenshot(path=artifacts / "output_encoding_map.png")

    # Table: the areas' names.
    page.get_by_test_id("tab-table").click()
    table = page.get_by_test_id("explorer-table")
    table.wait_for(state="visible")
    assert table.get_attribute("data-rows") == "2"
    names = table.locator("tbody tr[data-code] td:nth-child(2)").all_inner_texts()
    assert sorted(names) == [HTML, f"{HTML} 2"]
    _no_injected_elements(page, dialogs)


def test_analyse_shows_names_and_units_as_text(page, live_server, poisoned):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    level = f"custom:{poisoned.pk}"
    _login(page, live_server, "/analysis/analyse/")
    # The level's listener is attached once the variables are loaded.
    page.get_by_test_id("variable").locator("option[value=E_E]").wait_for(
        state="attached"
    )
    page.get_by_test_id("level").select_option(level)
    page.get_by_test_id("variable").select_option("E_E")
    page.get_by_test_id("add-column").click()
    page.wait_for_function(
        "(level) => { const r = document.getElementById('analyse-table')"
        ".dataset.ready || ''; return r.includes('E_E') && r.includes(level); }",
        arg=level,
    )
    table = page.get_by_test_id("analyse-table")
    assert f"{HTML} ({HTML})" in table.locator("thead").inner_text()
    names = table.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(names) == [HTML, f"{HTML} 2"]
    # Tooltip of the map of matching units.
    path = page.locator("#match-map path.leaflet-interactive").first
    path.wait_for(state="attached")
    path.hover(force=True)
    tooltip = page.locator("#match-map .leaflet-tooltip")
    tooltip.wait_for(state="visible")
    assert tooltip.inner_text().startswith(HTML)
    _no_injected_elements(page, dialogs)
