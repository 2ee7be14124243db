"""Parser of the Monitoring Soziale Stadtentwicklung 2021 tables (per Planungsraum)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from lor.models import LorUnit

from . import contract
from .contract import (
    MONTH,
    PLR_DIGITS,
    PLR_KEY,
    ObservationRow,
    ParsedDelivery,
    Problem,
    ProblemList,
    ProgressCallback,
    UnknownKey,
    VariableSpec,
)

SOURCE = (
    "Senatsverwaltung für Stadtentwicklung, Bauen und Wohnen: "
    "Monitoring Soziale Stadtentwicklung 2021"
)
LICENSE = "Datenlizenz Deutschland – Namensnennung 2.0 (Geoportal Berlin)"
VALID = "gültig"
SENTINEL = "-9999"  # "Planungsraum ohne Zuordnung"


def known_columns() -> dict[str, dict[str, str]]:
    return contract.metadata_columns("mss2021_variables.csv", "column")


def looks_like_mss(header: list[str], file_name: str = "") -> bool:
    return {"PLR_ID", "KOM"} <= set(header)


def parse_mss(
    path: Path,
    *,
    file_name: str,
    options: dict[str, Any],
    progress: ProgressCallback | None = None,
) -> ParsedDelivery:
    """Every known MSS column; invalid PLRs (KOM) become 'missing' with the reason."""
    header, body = contract.read_csv_file(path, file_name)
    problems = ProblemList()
    for column in ("ZEIT", "PLR_ID", "KOM"):
        if column not in header:
            problems.add(Problem(f"Pflichtspalte {column} fehlt", file_name, line=1))
    problems.raise_if_any()
    columns = [c for c in header if c in known_columns()]
    if not columns:
        problems.add(Problem("Keine bekannte MSS-Spalte gefunden", file_name, line=1))
        problems.raise_if_any()
    idx = {c: i for i, c in enumerate(header)}
    scheme = contract.scheme_of(options)
    plr = contract.lor_codes(level=LorUnit.Level.PLANUNGSRAUM, scheme=scheme)
    key_map = options.get("key_map", {})
    skip = set(options.get("skip_keys", []))
    delivery = ParsedDelivery(
        variables=[
            VariableSpec(
                key=known_columns()[c]["key"],
                name=known_columns()[c]["name"],
                theme=known_columns()[c]["theme"],
                unit=known_columns()[c]["unit"],
                value_type=known_columns()[c]["value_type"],
                aggregation="sum"
                if known_columns()[c]["value_type"] == "count"
                else "none",
                description=known_columns()[c]["description"],
                source=SOURCE,
                license=LICENSE,
                delivery_cycle="biennial",
                metadata_complete=known_columns()[c]["complete"] == "1",
            )
            for c in columns
        ],
        supplier="sensbw",
    )
    unknown: list[UnknownKey] = []
    seen: set[str] = set()
    for offset, cells in enumerate(body):
        line = offset + 2
        if progress and offset % 100 == 0:
            progress(offset, len(body))
        if len(cells) != len(header):
            problems.add(
                Problem(
                    f"{len(cells)} statt {len(header)} Felder", file_name, line=line
                )
            )
            continue
        zeit = cells[idx["ZEIT"]].strip()
        if not MONTH.fullmatch(zeit):
            problems.add(
                Problem("ZEIT ist kein Monat JJJJMM", file_name, line, "ZEIT", zeit)
            )
            continue
        key = cells[idx["PLR_ID"]].strip()
        if not PLR_KEY.fullmatch(key):
            problems.add(
                Problem(
                    f"kein {PLR_DIGITS}-stelliger Planungsraum-Schlüssel",
                    file_name,
                    line,
                    "PLR_ID",
                    key,
                )
            )
            continue
        if key in skip:
            continue
        key = key_map.get(key, key)
        if key not in plr:
            unknown.append(UnknownKey(key=key, line=line))
            continue
        if key in seen:
            problems.add(
                Problem("Planungsraum doppelt", file_name, line, "PLR_ID", key)
            )
            continue
        seen.add(key)
        kom = cells[idx["KOM"]].strip()
        ref_date = contract.month_end(zeit)
        for column in columns:
            var_key = known_columns()[column]["key"]
            raw = cells[idx[column]].strip()
            if column != "EW" and (kom != VALID or raw == SENTINEL):
                # The MSS publishes no index values for invalid PLRs; keep why.
                delivery.rows.append(
                    ObservationRow(var_key, key, ref_date, None, "missing", kom)
                )
                continue
            if contract.is_suppressed(raw):
                delivery.rows.append(
                    ObservationRow(var_key, key, ref_date, None, "suppressed", "")
                )
                continue
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):  # float() also reads "NaN" and "inf"
                problems.add(Problem("keine Zahl", file_name, line, column, raw))
                continue
            delivery.rows.append(
                ObservationRow(var_key, key, ref_date, value, "ok", "")
            )
    delivery.rows_read = len(body)
    problems.raise_if_any()
    delivery.unknown_keys = contract.key_suggestions(
        unknown, present=seen, scheme=scheme
    )
    return delivery
