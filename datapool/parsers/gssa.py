"""Parser of the Gesundheits- und Sozialstrukturatlas 2022 table per Planungsraum.

``plrID,plrNAME,GESIx_2013,GESIx_2022,…``: indices on the keys of the old LOR
scheme (2006; 448 Planungsräume), decimals written like ``.707``, empty cells
for uninhabited units. The atlas was published in old keys after the reform, so
the file is imported into LOR 2006 and converted (datapool.services.conversion:
indices only where a new unit maps 1:1 or is a union of whole old units).
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path
from typing import Any

from lor.models import LorUnit

from . import contract
from .contract import (
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

SOURCE = (
    "Senatsverwaltung für Wissenschaft, Gesundheit und Pflege: Gesundheits- und "
    "Sozialstrukturatlas Berlin 2022 (via ODIS open-data-product)"
)
LICENSE = "CC BY 4.0 (Quelle: CC BY 3.0 DE)"
KEY_COLUMN = "plrID"
# GESIx_2022: the index column and the year of the atlas's computation.
VALUE_COLUMN = re.compile(r"^(?P<column>[A-Za-z]+)_(?P<year>\d{4})$")
UNINHABITED = "unbewohnt (im Atlas ohne Wert)"


def known_columns() -> dict[str, dict[str, str]]:
    return contract.metadata_columns("gssa2022_variables.csv", "column")


def looks_like_gssa(header: list[str], file_name: str = "") -> bool:
    return KEY_COLUMN in header and any(c.startswith("GESIx_") for c in header)


def parse_gssa(
    path: Path,
    *,
    file_name: str,
    options: dict[str, Any],
    progress: ProgressCallback | None = None,
) -> ParsedDelivery:
    """Every known index column and year; empty cells are uninhabited units."""
    header, body = contract.read_csv_file(path, file_name)
    problems = ProblemList()
    if KEY_COLUMN not in header:
        problems.add(Problem(f"Pflichtspalte {KEY_COLUMN} fehlt", file_name, line=1))
    columns: list[tuple[int, str, date]] = []
    for index, name in enumerate(header):
        match = VALUE_COLUMN.match(name)
        if match and match["column"] in known_columns():
            meta = known_columns()[match["column"]]
            columns.append((index, meta["key"], date(int(match["year"]), 12, 31)))
    if not columns:
        problems.add(
            Problem("Keine bekannte GSSA-Spalte (z. B. GESIx_2022)", file_name, line=1)
        )
    problems.raise_if_any()
    delivery = ParsedDelivery(
        variables=[
            VariableSpec(
                key=meta["key"],
                name=meta["name"],
                theme=meta["theme"],
                unit=meta["unit"],
                value_type=meta["value_type"],
                aggregation="none",
                description=meta["description"],
                source=SOURCE,
                license=LICENSE,
                time_reference="zeitraum",
                delivery_cycle="irregular",
                metadata_complete=meta["complete"] == "1",
            )
            for meta in known_columns().values()
            if any(key == meta["key"] for _, key, _ in columns)
        ],
        supplier="senwgp",
    )
    scheme = contract.scheme_of(options)
    decisions = KeyDecisions(
        known=contract.lor_codes(level=LorUnit.Level.PLANUNGSRAUM, scheme=scheme),
        scheme=scheme,
        options=options,
        delivery=delivery,
        problems=problems,
        file_name=file_name,
        column=KEY_COLUMN,
        not_a_target="kein Planungsraum",
    )
    key_index = header.index(KEY_COLUMN)
    seen: dict[str, int] = {}
    for offset, cells in enumerate(body):
        line = offset + 2
        if progress and offset % 100 == 0:
            progress(offset, len(body))
        wrong_width = contract.width_problem(cells, header, file_name, line)
        if wrong_width:
            problems.add(wrong_width)
            continue
        key = cells[key_index].strip()
        if not PLR_KEY.fullmatch(key):
            problems.add(
                Problem(
                    f"kein {PLR_DIGITS}-stelliger Planungsraum-Schlüssel",
                    file_name,
                    line,
                    KEY_COLUMN,
                    key,
                )
            )
            continue
        resolved = decisions.resolve(key, line)
        if resolved is None:
            continue
        if resolved in seen:
            problems.add(
                Problem(
                    f"Planungsraum doppelt (schon in Zeile {seen[resolved]})",
                    file_name,
                    line,
                    KEY_COLUMN,
                    key,
                )
            )
            continue
        seen[resolved] = line
        for index, var_key, ref_date in columns:
            raw = cells[index].strip()
            if not raw:
                delivery.rows.append(
                    ObservationRow(
                        var_key, resolved, ref_date, None, "missing", UNINHABITED
                    )
                )
                continue
            try:
                value = float(raw)  # also reads ".707" and "-.055"
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                problems.add(Problem("keine Zahl", file_name, line, header[index], raw))
                continue
            delivery.rows.append(
                ObservationRow(var_key, resolved, ref_date, value, "ok", "")
            )
    delivery.rows_read = len(body)
    delivery.key_lines = dict(seen)
    problems.raise_if_any(delivery)
    delivery.unknown_keys = decisions.unknown_keys(seen)
    if progress:
        progress(len(body), len(body))
    return delivery
