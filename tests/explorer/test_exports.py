"""Exports of explorer selections: every file is opened and its content checked."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import geopandas as gpd
import matplotlib.image
import pyogrio
import pytest
from django.urls import reverse
from openpyxl import load_workbook

from explorer import exports
from explorer.selection import DerivedColumn, Selection, selection_evaluate

pytestmark = pytest.mark.django_db

SHARE = DerivedColumn(key="anteil", label="Anteil E_EW", formula="E_EW / E_E * 100")


@pytest.fixture
def bezirke(ewr_imported):
    selection = Selection(level="bezirk", columns=["E_E", "E_EW"], derived=[SHARE])
    return selection_evaluate(selection=selection)


@pytest.fixture
def planungsraeume(ewr_imported):
    selection = Selection(level="planungsraum", columns=["E_E"])
    return selection_evaluate(selection=selection)


def test_csv_german_has_bom_semicolons_decimal_comma_and_metadata(bezirke):
    content, content_type, filename = exports.export_csv(
        result=bezirke, title="Einwohner 2024"
    )
    assert content.startswith(b"\xef\xbb\xbf")
    assert content_type.startswith("text/csv") and filename.endswith(".csv")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Titel;Einwohner 2024"
    assert lines[1].startswith("Quelle;") and "PRISMA Berlin" in lines[1]
    assert lines[2].startswith("Lizenz;")
    assert lines[3].startswith("Stichtag;") and "31.12.2024" in lines[3]
    blank = lines.index("")
    rows = list(csv.reader(lines[blank + 1 :], delimiter=";"))
    header, data = rows[0], rows[1:]
    assert header[:2] == ["Schlüssel", "Name"]
    assert len(data) == 12
    share = data[0][header.index("Anteil E_EW")]
    assert "," in share and "." not in share
    assert 0 < float(share.replace(",", ".")) < 100


def test_csv_plain_uses_comment_lines_commas_and_decimal_points(bezirke):
    content, _type, _name = exports.export_csv(
        result=bezirke, title="Einwohner", german=False
    )
    assert not content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8")
    meta = [line for line in text.splitlines() if line.startswith("#")]
    assert meta[0] == "# Titel: Einwohner" and any("Lizenz" in m for m in meta)
    rows = list(csv.reader(line for line in text.splitlines() if line[:1] != "#"))
    assert len(rows) == 13
    share = rows[1][rows[0].index("Anteil E_EW")]
    assert "." in share and float(share) > 0


def test_csv_neutralises_formula_title(bezirke):
    content, _type, _name = exports.export_csv(result=bezirke, title="=HYPERLINK(1)")
    assert content.decode("utf-8-sig").splitlines()[0] == "Titel;'=HYPERLINK(1)"


def test_xlsx_has_numbers_suppressed_cells_and_neutralised_title(planungsraeume):
    content, _type, filename = exports.export_xlsx(
        result=planungsraeume, title="=SUM(A1:A9)"
    )
    assert filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content))["Daten"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Titel", "'=SUM(A1:A9)")
    assert sheet.cell(row=1, column=2).data_type == "s"
    header_index = rows.index(next(r for r in rows if r[0] == "Schlüssel"))
    header, data = rows[header_index], rows[header_index + 1 :]
    assert len(data) == 542
    assert len(header) == 4
    by_code = {row[0]: row for row in data}
    assert by_code["03400831"][2] is None
    assert by_code["03400831"][3] == "gesperrt"
    assert any(isinstance(row[2], float | int) and row[2] > 0 for row in data)


def test_neutralise_leaves_plain_text_and_marks_formula_starts():
    assert exports.neutralise("Mitte") == "Mitte"
    for text in ("=1+1", "+1", "-1", "@SUM(1)"):
        assert exports.neutralise(text) == f"'{text}"


def test_geojson_has_12_features_in_lon_lat_and_metadata(bezirke):
    content, content_type, _name = exports.export_geojson(
        result=bezirke, title="Bezirke"
    )
    data = json.loads(content)
    assert content_type == "application/geo+json"
    assert len(data["features"]) == 12
    assert data["metadata"]["title"] == "Bezirke"
    assert data["metadata"]["crs"] == "EPSG:4326"
    assert "PRISMA Berlin" in data["metadata"]["source"]
    lon, lat = data["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 13.0 < lon < 13.8 and 52.3 < lat < 52.7
    assert "E_E" in data["features"][0]["properties"]


@pytest.mark.parametrize("fixture, count", [("bezirke", 12), ("planungsraeume", 542)])
def test_gpkg_is_epsg_25833_with_rows_columns_and_metadata(
    request, tmp_path, fixture, count
):
    result = request.getfixturevalue(fixture)
    content, _type, _name = exports.export_gpkg(result=result, title="Test")
    path = tmp_path / "out.gpkg"
    path.write_bytes(content)
    info = pyogrio.read_info(path, layer="auswahl")
    assert info["crs"] == "EPSG:25833"
    assert info["features"] == count
    frame = gpd.read_file(path, layer="auswahl")
    assert {"code", "name", "E_E", "E_E_status"} <= set(frame.columns)
    meta = gpd.read_file(path, layer="metadaten")
    assert "Titel" in set(meta["schluessel"])


def test_shapefile_zip_has_all_parts_and_reads_back(planungsraeume, tmp_path):
    content, content_type, filename = exports.export_shapefile(
        result=planungsraeume, title="PLR"
    )
    assert content_type == "application/zip" and filename.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(content))
    names = archive.namelist()
    for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        assert any(n.endswith(ext) for n in names), ext
    readme = archive.read("README.txt").decode("utf-8")
    assert "Titel: PLR" in readme and "Lizenz" in readme and "S_E_E" in readme
    assert archive.read("auswahl.cpg").decode().strip().upper().startswith("UTF")
    archive.extractall(tmp_path)
    frame = gpd.read_file(tmp_path / "auswahl.shp")
    assert frame.crs.to_epsg() == 25833
    assert len(frame) == 542
    assert all(len(c) <= 10 for c in frame.columns)


def test_shapefile_field_names_are_short_and_unique(bezirke):
    names = exports.shapefile_field_names(bezirke).values()
    assert all(len(n) <= 10 for n in names)
    assert len(set(names)) == len(names)


def test_map_png_decodes_with_expected_size(planungsraeume):
    content, content_type, _name = exports.export_map(
        result=planungsraeume, title="Einwohner", fmt="png", column="E_E"
    )
    assert content_type == "image/png"
    image = matplotlib.image.imread(io.BytesIO(content), format="png")
    assert image.shape[:2] == (exports.MAP_SIZE_PX[1], exports.MAP_SIZE_PX[0])


@pytest.mark.parametrize("method", ["equal_interval", "natural_breaks", "std_mean"])
def test_map_svg_with_each_method(bezirke, method):
    content, _type, _name = exports.export_map(
        result=bezirke, title="Anteil", fmt="svg", column="anteil", method=method, k=4
    )
    assert content.startswith(b"<?xml") and b"<svg" in content


def test_map_pdf_with_manual_breaks_and_suppressed_legend(planungsraeume):
    content, content_type, _name = exports.export_map(
        result=planungsraeume,
        title="Einwohner",
        fmt="pdf",
        method="manual",
        breaks=[1000, 5000, 10000],
        palette="Blues",
    )
    assert content.startswith(b"%PDF") and content_type == "application/pdf"


def test_class_breaks_end_at_maximum_and_reject_bad_k():
    import numpy as np

    values = np.arange(1, 101, dtype=float)
    bounds = exports.class_breaks(values, method="quantiles", k=4)
    assert len(bounds) == 4 and bounds[-1] == 100
    with pytest.raises(exports.ExportError):
        exports.class_breaks(values, method="quantiles", k=12)


@pytest.mark.parametrize("method", ["quantiles", "equal_interval", "natural_breaks"])
def test_class_breaks_fall_back_to_numpy_without_mapclassify(monkeypatch, method):
    import sys

    import numpy as np

    monkeypatch.setitem(sys.modules, "mapclassify", None)
    values = np.arange(1, 101, dtype=float)
    bounds = exports.class_breaks(values, method=method, k=5)
    assert len(bounds) == 5 and bounds[-1] == 100
    assert exports.class_breaks(values, method="std_mean", k=5)[-1] == 100


def test_chart_png_and_svg(bezirke):
    png, _type, _name = exports.export_chart(result=bezirke, title="Ranking")
    assert matplotlib.image.imread(io.BytesIO(png), format="png").shape[0] > 0
    svg, _type, _name = exports.export_chart(result=bezirke, title="R", fmt="svg")
    assert b"<svg" in svg


def _url(**params) -> str:
    from urllib.parse import urlencode

    return f"{reverse('analysis:selection-export')}?{urlencode(params)}"


def test_view_downloads_csv(client_logged_in, ewr_imported):
    selection = Selection(level="bezirk", columns=["E_E"]).as_dict()
    response = client_logged_in.get(
        _url(format="csv", selection=json.dumps(selection), title="Bezirke")
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="bezirke.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(
    "params",
    [
        {"format": "exe", "selection": '{"level": "bezirk", "columns": ["E_E"]}'},
        {"format": "csv", "selection": "{kaputt"},
        {"format": "csv", "selection": "[1, 2]"},
        {"format": "csv", "selection": '{"columns": ["E_E"]}'},
        {"format": "csv", "selection": '{"level": "bezirk", "columns": ["NOPE"]}'},
        {"format": "csv", "selection": '{"level": 5, "columns": ["E_E"]}'},
        {
            "format": "csv",
            "selection": '{"level": "bezirk", "columns": ["E_E"], '
            '"conditions": [{"column": "E_E", "op": "<", "value": "x"}]}',
        },
        {
            "format": "csv",
            "selection": '{"level": "bezirk", "columns": ["E_E"], "date": "gestern"}',
        },
        {"format": "csv", "selection": '{"level": "mond", "columns": ["E_E"]}'},
        {
            "format": "png",
            "selection": '{"level": "bezirk", "columns": ["E_E"]}',
            "palette": "Nope",
        },
        {
            "format": "png",
            "selection": '{"level": "bezirk", "columns": ["E_E"]}',
            "k": "x",
        },
        {
            "format": "png",
            "selection": '{"level": "bezirk", "columns": ["E_E"]}',
            "column": "E_X",
        },
    ],
)
def test_view_rejects_bad_input_with_400(client_logged_in, ewr_imported, params):
    response = client_logged_in.get(_url(**params))
    assert response.status_code == 400
    assert response.content.decode().startswith("Export nicht möglich")


def test_view_requires_login(client):
    response = client.get(_url(format="csv", selection="{}"))
    assert response.status_code == 302


# --- change exports (compare=) --------------------------------------------------

CHANGE = "Veränderung 31.12.2024 gegenüber 31.12.2023"
SOME_PLR = ("01100101", "01100102", "03400831", "06200418", "12601235")


def _change_url(fmt: str, level: str = "planungsraum", **params) -> str:
    selection = Selection(level=level, columns=["E_E"]).as_dict()
    return _url(
        format=fmt,
        selection=json.dumps(selection),
        title="Einwohner – Planungsräume",
        column="E_E",
        **params,
    )


def _api_change(client, level: str = "planungsraum") -> dict:
    response = client.get(
        reverse("datapool-api:values"),
        {"variable": "E_E", "level": level, "compare": "2023-12-31"},
    )
    assert response.status_code == 200
    return {r["code"]: r for r in response.json()["results"]}


def test_view_csv_with_compare_holds_the_api_change_values(client_logged_in, ewr_2023):
    response = client_logged_in.get(_change_url("csv-plain", compare="2023-12-31"))
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    meta = [line for line in text.splitlines() if line.startswith("#")]
    assert meta[0] == f"# Titel: Einwohner – Planungsräume – {CHANGE}"
    assert "# Stichtag: 31.12.2024" in meta
    assert "# Vergleichsstichtag: 31.12.2023" in meta
    assert any(m.startswith("# Quelle:") and "Amt für Statistik" in m for m in meta)
    rows = list(csv.reader(line for line in text.splitlines() if line[:1] != "#"))
    header, data = rows[0], {row[0]: row for row in rows[1:]}
    assert header[2] == f"Einwohner insgesamt – {CHANGE} [%]"
    api = _api_change(client_logged_in)
    assert len(data) == len(api) == 542
    for code in SOME_PLR:
        exported = data[code][2]
        if api[code]["value"] is None:
            assert exported == "" and api[code]["status"] == "suppressed"
            assert data[code][3] == "gesperrt"
        else:
            assert float(exported) == pytest.approx(api[code]["value"], abs=1e-6)
    assert float(data["01100101"][2]) == pytest.approx((3580 / 3570 - 1) * 100)


def test_view_xlsx_with_compare_holds_the_api_change_values(client_logged_in, ewr_2023):
    response = client_logged_in.get(
        _change_url("xlsx", level="bezirk", compare="2023-12-31")
    )
    assert response.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(response.content))["Daten"].iter_rows(values_only=True)
    )
    assert rows[0][1].endswith(CHANGE)
    assert ("Vergleichsstichtag", "31.12.2023") in [r[:2] for r in rows]
    header_index = rows.index(next(r for r in rows if r[0] == "Schlüssel"))
    assert CHANGE in rows[header_index][2]
    data = {r[0]: r for r in rows[header_index + 1 :]}
    api = _api_change(client_logged_in, "bezirk")
    assert len(data) == 12
    for code in ("01", "02", "12"):
        assert data[code][2] == pytest.approx(api[code]["value"], abs=1e-9)


def test_view_png_map_with_compare_names_both_dates(client_logged_in, ewr_2023):
    from PIL import Image

    response = client_logged_in.get(_change_url("png", compare="2023-12-31"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert CHANGE in image.text["Title"]
    assert "PRISMA" in image.text["Description"]


def test_view_geojson_with_compare_names_the_comparison_date(
    client_logged_in, ewr_2023
):
    response = client_logged_in.get(_change_url("geojson", compare="2023-12-31"))
    assert response.status_code == 200
    meta = response.json()["metadata"]
    assert meta["compare_date"] == "2023-12-31"
    assert CHANGE in meta["title"] and CHANGE in meta["columns"][0]["label"]


@pytest.mark.parametrize(
    ("compare", "message"),
    [
        ("gestern", "JJJJ-MM-TT"),
        ("2023-31-12", "JJJJ-MM-TT"),
        ("2024-12-31", "Der Vergleichsstichtag muss vor dem Stichtag liegen."),
        ("2022-12-31", "Für diesen Vergleichsstichtag gibt es keine Werte."),
    ],
)
def test_view_refuses_a_bad_compare_date_in_german(
    client_logged_in, ewr_2023, compare, message
):
    response = client_logged_in.get(_change_url("csv", compare=compare))
    assert response.status_code == 400
    text = response.content.decode()
    assert text.startswith("Export nicht möglich") and message in text


def test_view_refuses_compare_with_derived_columns(client_logged_in, ewr_2023):
    selection = Selection(
        level="bezirk", columns=["E_E", "E_EW"], derived=[SHARE]
    ).as_dict()
    response = client_logged_in.get(
        _url(format="csv", selection=json.dumps(selection), compare="2023-12-31")
    )
    assert response.status_code == 400
    assert "abgeleitete Spalten" in response.content.decode()
