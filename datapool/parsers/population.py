"""Parser of the half-yearly population tables per LOR unit (open-data-product).

Files ``berlin-lor-population-YYYY-0H-tN-<level>.csv`` derived by
open-data-product from the AfS Statistischer Bericht A I 16 (tables T1, T2):

* The reference date is in the file name: ``-01`` is 30 June, ``-02`` is
  31 December of the year (the AfS half-year naming ``hj 1``/``hj 2``). A file
  named otherwise needs the option ``ref_date`` (or an ISO date in its name).
* Key column ``id``: 8, 6, 4 or 2 digits (Planungsraum, Bezirksregion,
  Prognoseraum, Bezirk); every row of a file has the same level. The parser
  checks the keys' form only and hands them on unresolved: which scheme's unit
  a key names (LOR 2021, or LOR 2006 for the 2017–2019 files) is decided by the
  import (``ParsedDelivery.keys_resolved``), so one parser reads both.
* Count columns are mapped onto catalogue variables by
  ``datapool/metadata/lor_population_columns.csv``. The ``_percentage``
  columns are derived by the data product and are not imported: PRISMA
  recomputes shares from numerator and denominator.
* Zero rows: the data product writes a Planungsraum without registered
  residents as a row of zeros (e.g. 03400831 Pankower Tor), where the raw AfS
  matrix leaves the row empty. The zeros are true zeros: the Berlin totals of
  the reports equal the sum over the other Planungsräume, the published
  higher-level tables equal the sums including these rows, and the same tables
  publish counts as small as 3 (06200418 on 31.12.2021), so nothing is hidden
  by suppression here. They are imported as 0 with a note; an empty cell would
  still be read as suppressed.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from lor import hierarchy

from . import contract
from .contract import (
    ImportValidationError,
    ObservationRow,
    ParsedDelivery,
    Problem,
    ProblemList,
    ProgressCallback,
    VariableSpec,
)

FILE_NAME = re.compile(
    r"^berlin-lor-population-(?P<year>\d{4})-(?P<half>0[12])-t(?P<table>\d+)"
    r"-(?P<level>planning-areas|district-regions|forecast-areas|districts)\.csv$",
    re.IGNORECASE,
)
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
FILE_LEVELS = {
    "planning-areas": hierarchy.PLANUNGSRAUM,
    "district-regions": hierarchy.BEZIRKSREGION,
    "forecast-areas": hierarchy.PROGNOSERAUM,
    "districts": hierarchy.BEZIRK,
}
KEY_COLUMN = "id"
DERIVED_SUFFIX = "_percentage"
SOURCE = (
    "Amt für Statistik Berlin-Brandenburg, Statistischer Bericht A I 16 "
    "(Einwohnerregister), Halbjahrestabellen T1/T2 je LOR, aufbereitet von "
    "open-data-product"
)
LICENSE = "CC BY 3.0 DE (AfS); Aufbereitung CC BY 4.0"
ZERO_NOTE = "keine Einwohner gemeldet (Quelle: Zeile mit Nullen)"


def known_columns() -> dict[str, dict[str, str]]:
    return contract.metadata_columns("lor_population_columns.csv", "column")


def looks_like_population(header: list[str], file_name: str) -> bool:
    """The data product's file name (which also carries the reference date).

    A renamed copy (``einwohner_plr_2024-12-31_t2_….csv``) stays a generic
    table whose columns the user maps, or is imported with ``--kind
    population`` and the option ``ref_date``.
    """
    return bool(FILE_NAME.match(Path(file_name).name))


def reference_date(file_name: str, options: dict[str, Any]) -> date | None:
    """The reference date the file name states (or the option ``ref_date``)."""
    if options.get("ref_date"):
        return date.fromisoformat(str(options["ref_date"]))
    match = FILE_NAME.match(Path(file_name).name)
    if match:
        year = int(match["year"])
        return date(year, 6, 30) if match["half"] == "01" else date(year, 12, 31)
    iso = ISO_DATE.search(Path(file_name).name)
    if iso:
        try:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    return None


def variable_spec(column: str) -> VariableSpec:
    meta = known_columns()[column]
    return VariableSpec(
        key=meta["key"],
        name=meta["name"],
        theme="bevoelkerung",
        unit=meta["unit"],
        value_type="count",
        aggregation="sum",
        description=meta["description"],
        source=SOURCE,
        license=LICENSE,
        delivery_cycle="semiannual",
    )


def parse_population(
    path: Path,
    *,
    file_name: str,
    options: dict[str, Any],
    progress: ProgressCallback | None = None,
) -> ParsedDelivery:
    """Validate the whole table; keys stay as delivered (resolved by the import)."""
    header, body = contract.read_csv_file(path, file_name)
    problems = ProblemList()
    try:
        ref_date = reference_date(file_name, options)
    except ValueError:
        ref_date = None
        problems.add(
            Problem(
                "Der angegebene Stichtag ist kein Datum JJJJ-MM-TT.",
                file_name,
                value=str(options.get("ref_date")),
            )
        )
        problems.raise_if_any()
    if ref_date is None:
        problems.add(
            Problem(
                "Der Stichtag steht nicht im Dateinamen (erwartet "
                "berlin-lor-population-JJJJ-01|02-…csv: 01 = 30.06., 02 = 31.12., "
                "oder ein Datum JJJJ-MM-TT im Namen); bitte die Datei so benennen "
                "oder den Stichtag angeben (Kommandozeile: --option "
                "ref_date=JJJJ-MM-TT).",
                file_name,
            )
        )
    if not header or header[0] != KEY_COLUMN:
        problems.add(
            Problem(
                f"Die erste Spalte muss „{KEY_COLUMN}“ (LOR-Schlüssel) heißen.",
                file_name,
                line=1,
                column=header[0] if header else "(leer)",
            )
        )
    seen_columns: set[str] = set()
    for column in header[1:]:
        if column in seen_columns:
            problems.add(Problem("Spalte doppelt", file_name, line=1, column=column))
        seen_columns.add(column)
        if column.endswith(DERIVED_SUFFIX) or column in known_columns():
            continue
        problems.add(
            Problem(
                "Spalte unbekannt: keine Einwohnerzahl der Halbjahrestabellen "
                "(erwartet z. B. inhabitants, inhabitants_age_below_6)",
                file_name,
                line=1,
                column=column or "(leer)",
            )
        )
    if not body:
        problems.add(Problem("Die Datei enthält nur die Kopfzeile.", file_name, line=1))
    problems.raise_if_any()
    assert ref_date is not None

    value_columns = [c for c in header[1:] if c in known_columns()]
    derived = [c for c in header[1:] if c.endswith(DERIVED_SUFFIX)]
    match = FILE_NAME.match(Path(file_name).name)
    file_level = FILE_LEVELS[match["level"].lower()] if match else None
    keys = {variable_spec(c).key for c in value_columns}
    delivery = ParsedDelivery(
        variables=[variable_spec(c) for c in value_columns],
        supplier="afs",
        keys_resolved=False,
        key_column=KEY_COLUMN,
        extra={
            "derived_columns_not_imported": derived,
            "ref_date_from": "option" if options.get("ref_date") else "file name",
        },
    )
    if len(keys) != len(value_columns):
        raise ImportValidationError(
            [Problem("Zwei Spalten nennen dieselbe Variable.", file_name, line=1)]
        )
    levels: dict[str, int] = {}
    total = len(body)
    for offset, cells in enumerate(body):
        line = offset + 2
        if progress and offset % 100 == 0:
            progress(offset, total)
        wrong_width = contract.width_problem(cells, header, file_name, line)
        if wrong_width:
            problems.add(wrong_width)
            continue
        key = cells[0].strip()
        level = hierarchy.level_of_key(key) if key.isascii() else None
        if level in (None, hierarchy.BERLIN) or (
            file_level is not None and level != file_level
        ):
            expected = (
                f"{hierarchy.key_length(file_level)}-stelliger Schlüssel"
                if file_level
                else "LOR-Schlüssel mit 8, 6, 4 oder 2 Ziffern"
            )
            problems.add(
                Problem(
                    f"Kein gültiger Schlüssel: erwartet {expected}",
                    file_name,
                    line,
                    KEY_COLUMN,
                    key,
                )
            )
            continue
        levels.setdefault(level, line)
        if key in delivery.key_lines:
            problems.add(
                Problem(
                    f"Schlüssel doppelt (schon in Zeile {delivery.key_lines[key]})",
                    file_name,
                    line,
                    KEY_COLUMN,
                    key,
                )
            )
            continue
        delivery.key_lines[key] = line
        rows: list[ObservationRow] = []
        for index, column in enumerate(header[1:], start=1):
            if column not in known_columns():
                continue
            variable_key = known_columns()[column]["key"]
            raw = cells[index]
            if contract.is_suppressed(raw):
                rows.append(
                    ObservationRow(variable_key, key, ref_date, None, "suppressed", "")
                )
                continue
            text_value = raw.strip()
            if not (text_value.isascii() and text_value.isdigit()):
                message = (
                    "Anzahl darf nicht negativ sein"
                    if text_value.startswith("-") and text_value[1:].isdigit()
                    else "keine ganze Zahl"
                )
                problems.add(
                    Problem(
                        message,
                        file_name,
                        line,
                        column,
                        text_value,
                        kind=contract.NUMBER,
                    )
                )
                continue
            rows.append(
                ObservationRow(variable_key, key, ref_date, float(text_value), "ok", "")
            )
        if rows and all(row.value == 0 for row in rows):
            rows = [row._replace(note=ZERO_NOTE) for row in rows]
            delivery.warnings.append(
                Problem(
                    "Alle Werte 0: als „keine Einwohner gemeldet“ übernommen "
                    "(die AfS-Matrix lässt solche Zeilen leer)",
                    file_name,
                    line,
                    KEY_COLUMN,
                    key,
                )
            )
        delivery.rows.extend(rows)
    if len(levels) > 1:
        problems.add(
            Problem(
                "Die Datei mischt Ebenen (Schlüssel verschiedener Länge: "
                + ", ".join(f"{lvl} ab Zeile {ln}" for lvl, ln in levels.items())
                + ")",
                file_name,
                column=KEY_COLUMN,
            )
        )
    delivery.rows_read = total
    problems.raise_if_any(delivery)
    if progress:
        progress(total, total)
    return delivery
