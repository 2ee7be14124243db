"""Server-rendered charts of the analysis page, on the real EWR matrix."""

from __future__ import annotations

import io
import json

import matplotlib.image
import numpy as np
import pytest
from django.urls import reverse

from explorer import charts
from explorer.selection import DerivedColumn, Selection, selection_evaluate

pytestmark = pytest.mark.django_db

SHARE = DerivedColumn(key="d1", label="Anteil Frauen", formula="E_EW / E_E * 100")
SELECTION = Selection(level="planungsraum", columns=["E_E", "E_EW"], derived=[SHARE])


def _url(kind: str, fmt: str = "svg", **params) -> str:
    from urllib.parse import urlencode

    params.setdefault("selection", json.dumps(SELECTION.as_dict()))
    return f"{reverse('analysis:chart', args=[kind, fmt])}?{urlencode(params)}"


def test_scatter_r_equals_numpy_corrcoef_on_non_suppressed_pairs(
    ewr_imported, client_logged_in
):
    result = selection_evaluate(selection=SELECTION)
    xs, ys = [], []
    for code, _name in result.units:
        a, b = result.cells["E_E"][code], result.cells["d1"][code]
        if "suppressed" not in (a.status, b.status) and None not in (a.value, b.value):
            xs.append(a.value)
            ys.append(b.value)
    expected = np.corrcoef(xs, ys)[0, 1]
    assert len(xs) == 540  # two of 542 Planungsräume are suppressed

    chart = charts.chart_scatter(result=result, x="E_E", y="d1", fmt="svg")
    assert chart.figures["n"] == 540
    assert chart.figures["r"] == pytest.approx(expected, abs=1e-12)

    response = client_logged_in.get(_url("scatter", x="E_E", y="d1"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    assert float(response["X-Correlation"]) == pytest.approx(expected, abs=1e-6)
    assert response["X-Pairs"] == "540"


def test_ranking_chart_renders_as_svg_and_png(ewr_imported, client_logged_in):
    svg = client_logged_in.get(_url("ranking", column="d1"))
    assert svg.status_code == 200 and b"<svg" in svg.content
    png = client_logged_in.get(_url("ranking", "png", column="E_E", download="1"))
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png["Content-Disposition"].startswith("attachment")
    assert matplotlib.image.imread(io.BytesIO(png.content), format="png").ndim == 3


def test_time_series_renders_for_selected_units(ewr_imported, client_logged_in):
    url = _url("timeseries", column="E_E", units="01100101,01100102")
    svg = client_logged_in.get(url)
    assert svg.status_code == 200 and b"<svg" in svg.content
    assert b"Zeitreihe" in svg.content
    png = client_logged_in.get(url.replace(".svg", ".png"))
    assert matplotlib.image.imread(io.BytesIO(png.content), format="png").ndim == 3


def test_age_structure_bands_sum_to_the_units_population(
    ewr_imported, client_logged_in
):
    chart = charts.chart_age_structure(unit_code="01100101", fmt="svg")
    assert chart.figures["total"] == 3580
    assert chart.figures["bands_sum"] == 3580
    assert b"<svg" in chart.content
    bezirk = charts.chart_age_structure(unit_code="01", fmt="svg")
    assert bezirk.figures["bands_sum"] == bezirk.figures["total"] == 397004
    response = client_logged_in.get(_url("agestructure", "png", unit="01100101"))
    assert response.status_code == 200
    image = matplotlib.image.imread(io.BytesIO(response.content), format="png")
    assert image.shape[0] > image.shape[1]


def test_age_band_labels_are_years():
    assert charts.age_band_label("E_E00_01") == "0"
    assert charts.age_band_label("E_E03_05") == "3–4"
    assert charts.age_band_label("E_E95_110") == "95+"


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("pie", {}),
        ("scatter", {"x": "E_E", "y": "NOPE"}),
        ("scatter", {"x": "E_E", "y": "E_EW", "selection": "{kaputt"}),
        ("scatter", {"x": "E_E", "y": "E_EW", "selection": "[]"}),
        ("ranking", {"selection": '{"level": "planungsraum", "columns": ["XX"]}'}),
        ("timeseries", {"column": "d1", "units": "01100101"}),
        ("timeseries", {"column": "E_E", "units": "1,2,3,4,5,6"}),
        ("timeseries", {"column": "E_E", "units": "99999999"}),
        ("timeseries", {"column": "E_E", "units": ""}),
        ("agestructure", {"unit": "03400831"}),
        ("agestructure", {"unit": "nope"}),
    ],
)
def test_bad_parameters_give_400_with_a_german_message(
    ewr_imported, client_logged_in, kind, params
):
    response = client_logged_in.get(_url(kind, **params))
    assert response.status_code == 400
    assert response.content.decode().startswith("Diagramm nicht möglich:")


def test_unknown_image_format_gives_400(ewr_imported, client_logged_in):
    response = client_logged_in.get(_url("ranking", "gif", column="E_E"))
    assert response.status_code == 400


def test_charts_need_a_login(client):
    response = client.get(_url("agestructure", unit="01"))
    assert response.status_code == 302


def test_analyse_page_renders(ewr_imported, client_logged_in):
    response = client_logged_in.get(reverse("analysis:analyse"))
    assert response.status_code == 200
    assert b'data-testid="analyse-table"' in response.content
