"""Bad input is a 400 with a German message, never a server error (finding 9).

Each input below once gave a 500 or a silently wrong 200: non-finite and huge
numbers, NUL characters, invalid levels and dates, a derived column hiding a real
one, and a UTM GeoJSON without crs.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datapool.formula import FormulaError, formula_evaluate, formula_parse
from lor.models import CustomAreaSet, LorUnit
from queries.models import SavedQuery

pytestmark = pytest.mark.django_db

TABLE = "/api/analysis/table/"
EXPORT = "/analysis/export/"
HUGE = "9" * 400


def _selection(**extra) -> str:
    return json.dumps({"level": "bezirk", "columns": ["E_E", "E_EW"], **extra})


def _derived(formula: str, key: str = "D") -> str:
    return _selection(derived=[{"key": key, "label": "abgeleitet", "formula": formula}])


@pytest.fixture
def planner(client_logged_in):
    return client_logged_in


# --- the formula language ---------------------------------------------------------


@pytest.mark.parametrize("text", ["E_E * 1e999", "1e999 - 1e999", HUGE, f"E_E*{HUGE}"])
def test_formula_refuses_literals_beyond_the_float_range(text):
    with pytest.raises(FormulaError, match="zu groß"):
        formula_parse(text)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("E_E * 1e300 * 1e300", {"E_E": 2.0}),
        ("E_E * 1e300 * 1e300 - E_E * 1e300 * 1e300", {"E_E": 2.0}),
        ("E_E / 1e-300 / 1e-300", {"E_E": 2.0}),
        ("E_E + 1", {"E_E": float("inf")}),
        ("E_E + 1", {"E_E": float("nan")}),
    ],
)
def test_formula_results_that_overflow_are_missing(text, values):
    assert formula_evaluate(text, values) is None


def test_formula_still_computes_finite_values():
    assert formula_evaluate("E_EW / E_E * 100", {"E_EW": 1.0, "E_E": 4.0}) == 25.0


# --- the table API ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (_derived("E_E*1e999"), "zu groß"),
        (_derived("1e999-1e999"), "zu groß"),
        (_derived(HUGE), "zu groß"),
        (_derived(f"E_E * {HUGE}"), "zu groß"),
        (
            '{"level":"bezirk","columns":["E_E"],'
            '"conditions":[{"column":"E_E","op":">","value":NaN}]}',
            "keine endliche Zahl",
        ),
        (
            '{"level":"bezirk","columns":["E_E"],'
            '"conditions":[{"column":"E_E","op":">","value":Infinity}]}',
            "keine endliche Zahl",
        ),
        (
            '{"level":"bezirk","columns":["E_E"],'
            '"conditions":[{"column":"E_E","op":">","value":1e999}]}',
            "keine endliche Zahl",
        ),
        (
            _selection(conditions=[{"column": "E_E", "op": ">", "value": "nan"}]),
            "keine endliche Zahl",
        ),
        (
            '{"level":"bezirk","columns":["E_E"],'
            f'"conditions":[{{"column":"E_E","op":">","value":{HUGE}}}]}}',
            "keine endliche Zahl",
        ),
        (_selection(columns=["E_\x00E"]), "Nullzeichen"),
        (_selection(derived=[{"key": "D", "label": "a\x00", "formula": "1"}]), "Null"),
        (_selection(level="5"), "Unbekannte Ebene „5“."),
        (_selection(level="custom:abc"), "Unbekannte Ebene"),
        (_selection(level="custom:999999"), "Gebietskulisse"),
        (_selection(date="9999-12-31"), "Für diesen Stichtag gibt es keine Werte"),
        (_selection(date="2024-02-30"), "ungültig"),
        (_derived("E_E * 2", key="E_E"), "Schlüssel E_E"),
        (
            _selection(
                derived=[
                    {"key": "D", "label": "a", "formula": "E_E"},
                    {"key": "D", "label": "b", "formula": "E_EW"},
                ]
            ),
            "Schlüssel D",
        ),
        (_derived("E_E", key="E_E__status"), "Schlüssel"),
        (_derived("E_E", key="code"), "Schlüssel"),
        (_derived("E_E", key="E_E_status"), "Schlüssel E_E_status"),
        (_derived("E_E", key="geometry"), "Schlüssel"),
        (_selection(columns=["E_E", "E_E"]), "Die Spalte E_E ist doppelt gewählt."),
        ("[" * 100_000, "ungültig"),
    ],
)
def test_table_answers_bad_input_with_a_german_400(
    ewr_imported, planner, selection, message
):
    response = planner.get(TABLE, {"selection": selection})
    assert response.status_code == 400, response.content[:300]
    assert message in response.json()["selection"]


def test_table_keeps_a_column_without_values_at_a_date_other_columns_have(
    ewr_imported, planner
):
    # Only a date for which no column has values is refused.
    response = planner.get(TABLE, {"selection": _selection(date="2024-12-31")})
    assert response.status_code == 200
    assert len(response.json()["rows"]) == 12


# --- values and map values -------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/values/", "/api/maps/values/"])
@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"level": "5"}, "level", "Unbekannte Ebene „5“."),
        ({"level": "custom:abc"}, "level", "Unbekannte Ebene"),
        ({"level": "custom:999999"}, "level", "Gebietskulisse"),
        ({"level": "bez\x00irk"}, "level", "Null"),
        ({"level": "bezirk", "date": "9999-12-31"}, "date", "keine Werte"),
        ({"level": "bezirk", "date": "2024-12-31\x00"}, "date", "Null"),
        ({"level": "bezirk", "date": "31.12.2024"}, "date", "JJJJ-MM-TT"),
        ({"level": "bezirk", "compare": "0000-01-01"}, "compare", "JJJJ-MM-TT"),
    ],
)
def test_values_and_map_values_refuse_alike(
    ewr_imported, planner, url, params, field, message
):
    response = planner.get(url, {"variable": "E_E", **params})
    assert response.status_code == 400
    detail = response.json()[field]
    assert message in (detail if isinstance(detail, str) else detail[0])


@pytest.mark.parametrize("breaks", ["nan,inf", "1,1e999", f"1,{HUGE}", "-inf,5"])
def test_map_values_refuse_non_finite_breaks(ewr_imported, planner, breaks):
    response = planner.get(
        "/api/maps/values/",
        {"variable": "E_E", "level": "bezirk", "method": "manual", "breaks": breaks},
    )
    assert response.status_code == 400
    assert "Klassengrenzen" in response.json()["breaks"][0]


def test_values_answer_stays_as_it_was(ewr_imported, planner):
    response = planner.get("/api/values/", {"variable": "E_E", "level": "bezirk"})
    assert response.status_code == 200
    data = response.json()
    assert data["date"] == "2024-12-31"
    assert len(data["results"]) == 12


# --- exports and charts ----------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "csv", "selection": _selection(), "title": "a\x00b"}, "title"),
        ({"format": "csv", "selection": _derived("E_E*1e999")}, "zu groß"),
        ({"format": "csv", "selection": _selection(date="9999-12-31")}, "keine Werte"),
        ({"format": "csv", "selection": _selection(level="5")}, "Unbekannte Ebene"),
        (
            {"format": "csv", "selection": _selection(), "compare": "0000-01-01"},
            "JJJJ-MM-TT",
        ),
        (
            {"format": "csv", "selection": _selection(), "compare": "2024-12-31"},
            "vor dem Stichtag",
        ),
        (
            {"format": "png", "selection": _selection(), "breaks": "nan;inf"},
            "keine endliche Zahl",
        ),
        (
            {"format": "png", "selection": _selection(), "breaks": f"1;{HUGE}"},
            "Klassengrenzen",
        ),
    ],
)
def test_export_refuses_bad_input_with_a_german_400(
    ewr_imported, planner, params, message
):
    response = planner.get(EXPORT, params)
    assert response.status_code == 400
    text = response.content.decode()
    assert text.startswith("Export nicht möglich: ")
    assert message in text


def test_export_of_overflowing_derived_values_shows_them_as_missing(
    ewr_imported, planner
):
    response = planner.get(
        EXPORT,
        {"format": "csv-plain", "selection": _derived("E_E * 1e300 * 1e300")},
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig").lower()
    assert "inf" not in text and "nan" not in text


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        ("/analysis/charts/agestructure.svg", {"unit": "0\x001"}, "unit"),
        (
            "/analysis/charts/ranking.svg",
            {"selection": _derived("E_E*1e999"), "column": "D"},
            "zu groß",
        ),
        (
            "/analysis/charts/ranking.svg",
            {"selection": _selection(level="custom:abc"), "column": "E_E"},
            "Unbekannte Ebene",
        ),
        (
            "/analysis/charts/scatter.svg",
            {"selection": _selection(date="9999-12-31"), "x": "E_E", "y": "E_EW"},
            "keine Werte",
        ),
    ],
)
def test_charts_refuse_bad_input_with_a_german_400(
    ewr_imported, planner, url, params, message
):
    response = planner.get(url, params)
    assert response.status_code == 400
    text = response.content.decode()
    assert text.startswith("Diagramm nicht möglich: ")
    assert message in text


def test_scatter_of_overflowing_values_draws_them_as_missing(ewr_imported, planner):
    response = planner.get(
        "/analysis/charts/scatter.svg",
        {"selection": _derived("E_E * 1e300 * 1e300"), "x": "E_E", "y": "D"},
    )
    assert response.status_code == 200
    assert response["X-Pairs"] == "0"


# --- saved queries ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"selection": {"level": "5", "columns": ["E_E"]}}, "selection"),
        (
            {
                "selection": {
                    "level": "bezirk",
                    "columns": ["E_E"],
                    "date": "9999-12-31",
                }
            },
            "selection",
        ),
        ({"selection": {"level": "bezirk", "columns": ["E_\x00E"]}}, "selection"),
        (
            {
                "selection": {
                    "level": "bezirk",
                    "columns": ["E_E"],
                    "derived": [{"key": "E_E", "label": "x", "formula": "E_E"}],
                }
            },
            "selection",
        ),
        (
            {
                "selection": {"level": "bezirk", "columns": ["E_E"]},
                "presentation": {"title": "a\x00"},
            },
            "presentation",
        ),
        ({"title": "a\x00", "selection": {"level": "bezirk"}}, "title"),
    ],
)
def test_saved_query_api_refuses_bad_input(ewr_imported, planner, body, field):
    response = planner.post(
        "/api/queries/",
        json.dumps({"title": "Anfrage", **body}),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()
    assert not SavedQuery.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        '{"title":"A","selection":{"level":"bezirk","columns":["E_E"],'
        '"conditions":[{"column":"E_E","op":">","value":NaN}]}}',
        '{"title":"A","selection":{"level":"bezirk","columns":["E_E"]},'
        '"presentation":{"k":Infinity}}',
    ],
)
def test_saved_query_api_refuses_non_finite_numbers(ewr_imported, planner, body):
    response = planner.post("/api/queries/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert not SavedQuery.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"level": "bezirk", "columns": "E_E", "date": "9999-12-31"}, "keine Werte"),
        ({"level": "bezirk", "columns": "E_E", "conditions": f"E_E > {HUGE}"}, "Zahl"),
        (
            {"selection_json": _derived("E_E", key="E_E")},
            "Schlüssel E_E",
        ),
        ({"selection_json": '{"level":"bezirk","columns":["E_\\u0000E"]}'}, "Null"),
        (
            {
                "selection_json": _selection(),
                "presentation_json": '{"a": NaN}',
            },
            "keine endliche Zahl",
        ),
        ({"selection_json": "[" * 100_000}, "JSON"),
    ],
)
def test_saved_query_form_shows_a_german_error(ewr_imported, planner, data, message):
    response = planner.post(
        "/queries/new/", {"title": "Anfrage", "sharing": "private", **data}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SavedQuery.objects.exists()


# --- custom areas ----------------------------------------------------------------


def _geojson(geometry: dict, **extra) -> SimpleUploadedFile:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "A"}, "geometry": geometry}
        ],
        **extra,
    }
    return SimpleUploadedFile("gebiet.geojson", json.dumps(collection).encode())


def _plr_geometry(srid: int) -> dict:
    plr = LorUnit.objects.get(code="01100101")
    return json.loads(plr.geom.buffer(-5).transform(srid, clone=True).geojson)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        # A UTM file without crs: its metres are no degrees.
        (lambda: _geojson(_plr_geometry(25833)), "keine geographischen"),
        (
            lambda: _geojson(
                _plr_geometry(4326),
                crs={"type": "name", "properties": {"name": "EPSG:25833"}},
            ),
            "sehen aus wie geographische",
        ),
        (
            lambda: _geojson(
                _plr_geometry(25833),
                crs={"type": "name", "properties": {"name": "EPSG:3857"}},
            ),
            "EPSG:3857",
        ),
        (
            lambda: _geojson(
                {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 0], [1e400, 1], [0, 0]]],
                }
            ),
            "keine verwendbare Geometrie",
        ),
        (
            lambda: SimpleUploadedFile(
                "x.geojson", b'{"type":"FeatureCollection","features":5}'
            ),
            "kein lesbares GeoJSON",
        ),
    ],
)
def test_custom_area_geojson_is_checked_against_its_crs(
    ewr_imported, planner, upload, message
):
    response = planner.post(
        "/analysis/areas/new/", {"name": "QM", "kind": "qm", "polygons": upload()}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CustomAreaSet.objects.exists()


def test_custom_area_from_utm_with_crs_is_read_in_utm(ewr_imported, planner):
    upload = _geojson(
        _plr_geometry(25833),
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
    )
    response = planner.post(
        "/analysis/areas/new/", {"name": "QM", "kind": "qm", "polygons": upload}
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    area = CustomAreaSet.objects.get().areas.get()
    assert [m.planungsraum.code for m in area.members.all()] == ["01100101"]


@pytest.mark.parametrize(
    "data",
    [
        {"keys": "Gebiet\x00: 01"},
        {"keys": f"{'x' * 200}: 01"},
        {"name": "Q\x00M", "keys": "A: 01"},
    ],
)
def test_custom_area_form_refuses_nul_and_overlong_names(ewr_imported, planner, data):
    response = planner.post(
        "/analysis/areas/new/", {"name": "QM", "kind": "qm", **data}
    )
    assert response.status_code == 200
    assert not CustomAreaSet.objects.exists()


@pytest.mark.parametrize(
    "params", [{"old": "6\x00I"}, {"new": "l&_\x01"}, {"old": "123"}]
)
def test_crosswalk_refuses_keys_that_are_not_eight_digits(planner, params):
    # Found by the fuzzer: a NUL in a key parameter reached the database (500).
    response = planner.get("/api/crosswalk/", params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)
