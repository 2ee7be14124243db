"""Parser of the AfS Einwohnerregister matrix (EWR_L21_<YYYYMM><E|A>_Matrix.csv)."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from lor.models import LorUnit

from .contract import (
    ObservationRow,
    ParsedDelivery,
    Problem,
    ProblemList,
    ProgressCallback,
    UnknownKey,
    VariableSpec,
    decode_text,
    is_suppressed,
    lor_codes,
    month_end,
    read_csv_rows,
    sniff_delimiter,
    suggest_key,
)

FILE_NAME = re.compile(r"^EWR_L21_(\d{6})([EA])_Matrix", re.IGNORECASE)
STRUCTURE_COLUMNS = {"ZEIT", "RAUMID", "BEZ", "PGR", "BZR", "PLR", "BEZPGR"}
VALUE_COLUMN = re.compile(r"^[A-Z][A-Z0-9]*_[A-Z0-9_]+$")
SOURCE = "Amt für Statistik Berlin-Brandenburg, Einwohnerregisterstatistik (EWR)"
LICENSE = "CC BY 3.0 DE"


@cache
def known_columns() -> dict[str, dict[str, str]]:
    path = Path(settings.BASE_DIR) / "datapool" / "metadata" / "afs_ewr_variables.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["key"]: row for row in csv.DictReader(fh, delimiter=";")}


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
    text = decode_text(path.read_bytes(), file_name)
    delimiter = sniff_delimiter(text, file_name)
    header, body = read_csv_rows(text, delimiter, file_name)
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
    plr = lor_codes(level=LorUnit.Level.PLANUNGSRAUM)
    key_map: dict[str, str] = options.get("key_map", {})
    skip_keys: set[str] = set(options.get("skip_keys", []))
    delivery = ParsedDelivery(
        variables=[variable_spec(c) for c in value_columns], supplier="afs"
    )
    unknown: list[UnknownKey] = []
    seen: dict[tuple[str, str], int] = {}
    total = len(body)
    for offset, cells in enumerate(body):
        line = offset + 2
        if progress and offset % 100 == 0:
            progress(offset, total)
        if len(cells) != len(header):
            problems.add(
                Problem(
                    f"{len(cells)} statt {len(header)} Felder – Trennzeichen oder "
                    "Anführungszeichen fehlerhaft?",
                    file_name,
                    line=line,
                )
            )
            continue
        zeit = cells[index["ZEIT"]].strip()
        if not re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", zeit):
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
        if not re.fullmatch(r"\d{8}", key):
            problems.add(
                Problem(
                    "RAUMID ist kein 8-stelliger Planungsraum-Schlüssel",
                    file_name,
                    line,
                    "RAUMID",
                    key,
                )
            )
            continue
        if key in skip_keys:
            delivery.warnings.append(
                Problem(
                    f"Schlüssel {key} auf Wunsch übersprungen",
                    file_name,
                    line,
                    "RAUMID",
                    key,
                )
            )
            continue
        if key not in plr:
            if key in key_map:
                target = key_map[key]
                if target not in plr:
                    problems.add(
                        Problem(
                            f"Zuordnung {key} → {target}: Ziel ist kein Planungsraum",
                            file_name,
                            line,
                            "RAUMID",
                            key,
                        )
                    )
                    continue
                delivery.warnings.append(
                    Problem(
                        f"Schlüssel {key} als {target} ({plr[target]}) übernommen",
                        file_name,
                        line,
                        "RAUMID",
                        key,
                    )
                )
                key = target
            else:
                unknown.append(UnknownKey(key=key, line=line))
                continue
        ref_date = month_end(zeit)
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
            if is_suppressed(raw):
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
    if unknown:
        present = {key for (_, key) in seen}
        candidates = {c: n for c, n in plr.items() if c not in present}
        for item in unknown:
            item.suggestion, item.suggestion_name = suggest_key(item.key, candidates)
        delivery.unknown_keys = unknown
    if progress:
        progress(total, total)
    return delivery
