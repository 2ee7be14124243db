"""Parser of the AfS Einwohnerregister matrix (EWR_L21_<YYYYMM><E|A>_Matrix.csv)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lor.models import LorUnit

from . import contract
from .contract import (
    MONTH,
    PLR_DIGITS,
    PLR_KEY,
    KeyDecisions,
    ObservationRow,
    ParsedDelivery,
    Problem,
    ProblemList,
    ProgressCallback,
    VariableSpec,
)

FILE_NAME = re.compile(r"^EWR_L21_(\d{6})([EA])_Matrix", re.IGNORECASE)
# STADTRAUM: the matrices of the old scheme (until 31.12.2020) mark inner and
# outer city (1/2) in it.
STRUCTURE_COLUMNS = {
    "ZEIT",
    "RAUMID",
    "BEZ",
    "PGR",
    "BZR",
    "PLR",
    "BEZPGR",
    "STADTRAUM",
}
VALUE_COLUMN = re.compile(r"^[A-Z][A-Z0-9]*_[A-Z0-9_]+$")
SOURCE = "Amt für Statistik Berlin-Brandenburg, Einwohnerregisterstatistik (EWR)"
LICENSE = "CC BY 3.0 DE"


def known_columns() -> dict[str, dict[str, str]]:
    return contract.metadata_columns("afs_ewr_variables.csv", "key")


def looks_like_ewr(header: list[str], file_name: str) -> bool:
    return bool(FILE_NAME.match(file_name)) or {"ZEIT", "RAUMID"} <= set(header)


def variable_spec(column: str) -> VariableSpec:
    meta = known_columns().get(column)
    if meta is None:
        return VariableSpec(
            key=column,
            name=column,
            theme="bevoelkerung",
            unit="Personen",
            description="Spalte der EWR-Matrix ohne hinterlegte Metadaten.",
            source=SOURCE,
            license=LICENSE,
            delivery_cycle="semiannual",
            metadata_complete=False,
        )
    return VariableSpec(
        key=column,
        name=meta["name"],
        theme=meta["theme"],
        unit=meta["unit"],
        value_type=meta["value_type"],
        aggregation=meta["aggregation"],
        description=meta["description"],
        source=SOURCE,
        license=LICENSE,
        delivery_cycle="semiannual",
    )


def parse_ewr(
    path: Path,
    *,
    file_name: str,
    options: dict[str, Any],
    progress: ProgressCallback | None = None,
) -> ParsedDelivery:
    """Validate the whole matrix; every problem names line, column and value."""
    header, body = contract.read_csv_file(path, file_name)
    problems = ProblemList()
    missing = [c for c in ("ZEIT", "RAUMID") if c not in header]
    if missing:
        problems.add(
            Problem(
                f"Pflichtspalte(n) {', '.join(missing)} fehlen; gefunden: "
                f"{', '.join(header[:8])}{' …' if len(header) > 8 else ''}",
                file_name,
                line=1,
            )
        )
        problems.raise_if_any()
    if not body:
        problems.add(Problem("Die Datei enthält nur die Kopfzeile.", file_name, line=1))
        problems.raise_if_any()
    seen_columns: set[str] = set()
    for column in header:
        if column in seen_columns:
            problems.add(Problem("Spalte doppelt", file_name, line=1, column=column))
        seen_columns.add(column)
    value_columns = [c for c in header if c not in STRUCTURE_COLUMNS]
    for column in value_columns:
        if not VALUE_COLUMN.match(column):
            problems.add(
                Problem(
                    "Spaltenname ist keine AfS-Variable "
                    "(erwartet z. B. E_E, E_EM, E_E00_01)",
                    file_name,
                    line=1,
                    column=column or "(leer)",
                )
            )
    problems.raise_if_any()

    index = {c: i for i, c in enumerate(header)}
    delivery = ParsedDelivery(
        variables=[variable_spec(c) for c in value_columns], supplier="afs"
    )
    scheme = contract.scheme_of(options)
    decisions = KeyDecisions(
        known=contract.lor_codes(level=LorUnit.Level.PLANUNGSRAUM, scheme=scheme),
        scheme=scheme,
        options=options,
        delivery=delivery,
        problems=problems,
        file_name=file_name,
        column="RAUMID",
        not_a_target="kein Planungsraum",
    )
    seen: dict[tuple[str, str], int] = {}
    total = len(body)
    for offset, cells in enumerate(body):
        line = offset + 2
        if progress and offset % 100 == 0:
            progress(offset, total)
        wrong_width = contract.width_problem(cells, header, file_name, line)
        if wrong_width:
            problems.add(wrong_width)
            continue
        zeit = cells[index["ZEIT"]].strip()
        if not MONTH.fullmatch(zeit):
            problems.add(
                Problem(
                    "ZEIT ist kein Monat im Format JJJJMM",
                    file_name,
                    line,
                    "ZEIT",
                    zeit,
                )
            )
            continue
        key = cells[index["RAUMID"]].strip()
        if not PLR_KEY.fullmatch(key):
            problems.add(
                Problem(
                    f"RAUMID ist kein {PLR_DIGITS}-stelliger Planungsraum-Schlüssel",
                    file_name,
                    line,
                    "RAUMID",
                    key,
                )
            )
            continue
        resolved = decisions.resolve(key, line)
        if resolved is None:
            continue
        key = resolved
        ref_date = contract.month_end(zeit)
        if (zeit, key) in seen:
            problems.add(
                Problem(
                    f"Planungsraum {key} für {zeit} doppelt (schon in Zeile "
                    f"{seen[(zeit, key)]})",
                    file_name,
                    line,
                    "RAUMID",
                    key,
                )
            )
            continue
        seen[(zeit, key)] = line
        for column in value_columns:
            raw = cells[index[column]]
            if contract.is_suppressed(raw):
                delivery.rows.append(
                    ObservationRow(column, key, ref_date, None, "suppressed", "")
                )
                continue
            text_value = raw.strip()
            # isdigit() alone also accepts "²" and other digits float() refuses.
            if not (text_value.isascii() and text_value.isdigit()):
                if text_value.startswith("-") and text_value[1:].isdigit():
                    message = "Anzahl darf nicht negativ sein"
                else:
                    message = "keine ganze Zahl"
                problems.add(Problem(message, file_name, line, column, text_value))
                continue
            delivery.rows.append(
                ObservationRow(column, key, ref_date, float(text_value), "ok", "")
            )
    delivery.rows_read = total
    problems.raise_if_any()
    delivery.unknown_keys = decisions.unknown_keys({key for (_, key) in seen})
    if progress:
        progress(total, total)
    return delivery
