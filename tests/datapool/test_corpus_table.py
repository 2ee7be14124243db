"""Malformed tables: each is refused with a located German message, nothing written."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from datapool.models import ImportRun
from datapool.services.imports import import_run_create, import_run_execute
from tests.datapool.conftest import db_state

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus" / "table"

OPTIONS = {
    "key_column": "id",
    "ref_date": "2024-12-31",
    "columns": {
        "inhabitants": {
            "variable": "KORPUS_EW",
            "new": {
                "name": "Einwohnende (Korpus)",
                "theme": "bevoelkerung",
                "unit": "Personen",
                "value_type": "count",
                "aggregation": "sum",
            },
        }
    },
}
SHARE = {
    "variable": "KORPUS_ANTEIL",
    "new": {"name": "Anteil", "unit": "%", "value_type": "share"},
}

# file: (extra options, fragments that must all appear in one report line)
CASES = {
    "pipe_delimiter.csv": (
        {},
        ["pipe_delimiter.csv, Zeile 1: Kein Trennzeichen erkannt"],
    ),
    "utf16_encoding.csv": (
        {},
        ["utf16_encoding.csv: Die Datei ist keine Textdatei (UTF-16"],
    ),
    "undefined_byte_encoding.csv": (
        {},
        [
            "undefined_byte_encoding.csv, Zeile 3: Die Kodierung ist weder UTF-8 "
            "noch Windows-1252"
        ],
    ),
    "malformed_keys.csv": (
        {},
        [
            "malformed_keys.csv, Zeile 3, Spalte „id“: kein LOR-Schlüssel",
            "(Wert „0110010X“)",
        ],
    ),
    "duplicate_rows.csv": (
        {},
        [
            "duplicate_rows.csv, Zeile 4, Spalte „id“: Schlüssel 01100101 doppelt "
            "(schon in Zeile 2) (Wert „01100101“)"
        ],
    ),
    "text_in_numeric.csv": (
        {},
        [
            "text_in_numeric.csv, Zeile 3, Spalte „inhabitants“: keine Zahl "
            "(Wert „viele“)"
        ],
    ),
    "negative_count.csv": (
        {},
        [
            "negative_count.csv, Zeile 4, Spalte „inhabitants“: Anzahl darf nicht "
            "negativ sein (Wert „-12“)"
        ],
    ),
    "nan_value.csv": (
        {},
        ["nan_value.csv, Zeile 3, Spalte „inhabitants“: keine Zahl (Wert „nan“)"],
    ),
    "empty.csv": ({}, ["empty.csv: Die Datei ist leer."]),
    "header_only.csv": (
        {},
        ["header_only.csv, Zeile 1: Die Datei enthält nur die Kopfzeile"],
    ),
    "mixed_levels.csv": (
        {},
        [
            "mixed_levels.csv, Zeile 3, Spalte „id“: Die Schlüsselspalte mischt Ebenen",
            "Bezirksregion (6-stellig)",
            "(Wert „011001“)",
        ],
    ),
    "berlin_total_row.csv": (
        {},
        ["berlin_total_row.csv, Zeile 4, Spalte „id“", "Summenzeile für Berlin?"],
    ),
    "missing_key_column.csv": (
        {},
        [
            "missing_key_column.csv, Zeile 1, Spalte „id“: Schlüsselspalte fehlt in "
            "der Datei; gefunden: RAUMID, inhabitants"
        ],
    ),
    "ragged_rows.csv": (
        {},
        ["ragged_rows.csv, Zeile 3: 1 statt 2 Felder – Trennzeichen („Semikolon“)"],
    ),
    "decimal_comma_as_point.csv": (
        {"decimal": "point", "columns": {**OPTIONS["columns"], "share": SHARE}},
        [
            "decimal_comma_as_point.csv, Zeile 2, Spalte „share“: keine Zahl "
            "(Dezimaltrennzeichen: Punkt gewählt",
            "(Wert „12,5“)",
        ],
    ),
    "formula_without_value.xlsx": (
        {},
        [
            "formula_without_value.xlsx, Zeile 3, Spalte „C“: Tabellenblatt "
            "„Einwohner“, Zelle C3 enthält eine Formel (=B3*2) ohne gespeicherten "
            "Wert",
        ],
    ),
    "formula_with_cached_value.xlsx": (
        {},
        [
            "formula_with_cached_value.xlsx, Zeile 3, Spalte „C“: Tabellenblatt "
            "„Einwohner“, Zelle C3 enthält eine Formel (=B3*2); Formeln werden "
            "nicht importiert",
        ],
    ),
}


def test_every_corpus_file_has_a_case():
    files = {p.name for p in CORPUS.iterdir() if p.suffix in {".csv", ".xlsx"}}
    assert files == set(CASES)
    assert len(files) >= 8


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_table_is_refused_and_nothing_changes(name):
    extra, fragments = CASES[name]
    before = db_state()
    run = import_run_create(
        kind=ImportRun.Kind.TABLE,
        path=CORPUS / name,
        original_name=name,
        options={**OPTIONS, **extra},
    )
    run = import_run_execute(import_run=run)
    assert run.status == ImportRun.Status.FAILED
    assert run.error == "Die Datei wurde nicht importiert."
    texts = [item["text"] for item in run.report]
    assert any(all(f in text for f in fragments) for text in texts), texts
    assert db_state() == before


def test_malformed_keys_are_all_reported_with_line_and_value():
    run = import_run_create(
        kind=ImportRun.Kind.TABLE,
        path=CORPUS / "malformed_keys.csv",
        original_name="malformed_keys.csv",
        options=OPTIONS,
    )
    run = import_run_execute(import_run=run)
    located = {(item["line"], item["column"], item["value"]) for item in run.report}
    assert located == {
        (3, "id", "0110010X"),
        (4, "id", "123456789"),
        (5, "id", ""),
        (6, "id", "0110010"),  # 7 digits with a leading zero: not an Excel loss
    }


def test_formulas_refused_on_the_command_line_too():
    before = db_state()
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "datapool_import",
            str(CORPUS / "formula_without_value.xlsx"),
            "--option",
            "key_column=id",
            "--option",
            "ref_date=2024-12-31",
            "--option",
            "columns=inhabitants:E_E",
            verbosity=0,
        )
    assert "Zelle C3 enthält eine Formel" in str(excinfo.value)
    assert db_state() == before
