"""Parser of the Kriminalitätsatlas Berlin per Bezirksregion (Polizei Berlin).

The data product names its files
``berlin-lor-crime-atlas-YYYY-00-case-numbers-district-regions.csv`` (cases) and
``…-frequency-numbers-…`` (Häufigkeitszahlen: cases per 100,000 residents).
Key ``id`` is the 6-digit LOR 2021 Bezirksregion; twelve more rows ``xx9900``
("Bezirk, nicht zuzuordnen") hold cases the police could place in Bezirk ``xx``
but in none of its Bezirksregionen.

The rule for those rows: a Bezirksregion's value is its own row only; a Bezirk's
value is the sum of its Bezirksregionen plus its ``xx9900`` row; Berlin's is the
sum of all rows. The parser delivers the Bezirk and Berlin totals itself, and the
aggregation keeps a value delivered at a coarser level instead of summing the
finer ones (``datapool.services.aggregation``). A Prognoseraum is the plain sum of
its Bezirksregionen, so the sum of a Bezirk's Prognoseräume is smaller than the
Bezirk by its ``xx9900`` row.

Values count the calendar year YYYY (time reference "Zeitraum"); like every
period in the Datenpool they are stored at the period's last day, 31.12.YYYY.

Häufigkeitszahlen are never stored as values (they cannot be summed or averaged
to a Bezirk). The parser reads the frequency file of the same year beside the
case file (or in the shipped ``datapool/data/kriminalitaetsatlas``) to recover
the residents the atlas divided by, as the variable ``KRIM_EW``: for every
Bezirksregion, cases / Häufigkeitszahl × 100,000 of each offence column bounds
that number, and the bounds of all 17 columns together pin it to a few persons
(measured: at most ±5 of ~20,000; the 2022 file carries unrounded frequencies and
pins it exactly). For 2021–2023 these residents equal the AfS Einwohnerregister
of 30.06. of the year in all 143 Bezirksregionen, i.e. the atlas divides by the
mid-year population; no such table exists in LOR 2021 keys for 2019 and 2020.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings

from lor import hierarchy
from lor.models import LorUnit

from . import contract
from .contract import (
    NUMBER,
    UNKNOWN_KEY,
    ImportValidationError,
    ObservationRow,
    ParsedDelivery,
    Problem,
    ProblemList,
    ProgressCallback,
    VariableSpec,
)

FILE_NAME = re.compile(
    r"berlin-lor-crime-atlas-(?P<year>\d{4})-00-"
    r"(?P<kind>case-numbers|frequency-numbers)-district-regions",
    re.IGNORECASE,
)
CASES, FREQUENCIES = "case-numbers", "frequency-numbers"
KEY_COLUMN = "id"
NOT_ASSIGNABLE = "9900"  # xx9900: "Bezirk, nicht zuzuordnen"
BZR_DIGITS = hierarchy.key_length(hierarchy.BEZIRKSREGION)
BEZ_DIGITS = hierarchy.key_length(hierarchy.BEZIRK)
KEY = re.compile(rf"\d{{{BZR_DIGITS}}}")
PER = 100_000  # Häufigkeitszahl: cases per 100,000 residents

SOURCE = (
    "Polizei Berlin, Kriminalitätsatlas Berlin (Fallzahlen je Bezirksregion); "
    "Datenprodukt berlin-lor-crime-atlas (CC BY 4.0)"
)
# The residents are the AfS Einwohnerregister as the atlas used it: both credited.
RESIDENTS_SOURCE = (
    "Polizei Berlin, Kriminalitätsatlas Berlin (Bezugseinwohner der "
    "Häufigkeitszahlen: Amt für Statistik Berlin-Brandenburg, Einwohnerregister "
    "zum 30.06.); Datenprodukt berlin-lor-crime-atlas (CC BY 4.0)"
)
LICENSE = "CC BY 3.0 DE"
SUPPLIER = "polizei"
RESIDENTS_KEY = "KRIM_EW"

RULE = (
    "Bezirksregion: nur die Fälle ihrer eigenen Zeile. Bezirk: Summe seiner "
    "Bezirksregionen plus der Zeile xx9900 „Bezirk, nicht zuzuordnen“ (Fälle, die "
    "die Polizei dem Bezirk, aber keiner Bezirksregion zuordnen konnte); diese "
    "Summe wird auf Bezirksebene geliefert und geht der Summe der Bezirksregionen "
    "vor. Berlin: Summe aller Zeilen einschließlich xx9900. Prognoseraum: Summe "
    "seiner Bezirksregionen ohne xx9900 – die Prognoseräume eines Bezirks ergeben "
    "daher zusammen weniger als der Bezirk."
)
PERIOD = (
    "Kalenderjahr (01.01.–31.12.); im Datenpool beim Stichtag 31.12. des Jahres "
    "geführt."
)
ODDITY = (
    "Auffälligkeit der Quelle: 2023 haben 011001 (Tiergarten Süd) und 011002 "
    "(Regierungsviertel) beide 1.119 kiezbezogene Straftaten; so übernommen, wie "
    "geliefert."
)


def known_columns() -> dict[str, dict[str, str]]:
    return contract.metadata_columns("kriminalitaetsatlas_variables.csv", "column")


def shipped_dir() -> Path:
    return Path(settings.BASE_DIR) / "datapool" / "data" / "kriminalitaetsatlas"


def looks_like_crime_atlas(header: list[str], file_name: str = "") -> bool:
    if FILE_NAME.search(file_name):
        return True
    return KEY_COLUMN in header and {"offences", "kieztaten"} <= set(header)


def frequency_file_name(year: int) -> str:
    return f"berlin-lor-crime-atlas-{year}-00-{FREQUENCIES}-district-regions.csv"


def variable_specs() -> list[VariableSpec]:
    """The 17 offence columns and the derived residents, with their documentation."""
    specs = [
        VariableSpec(
            key=meta["key"],
            name=meta["name"],
            theme="wohnen",
            unit="Fälle",
            value_type="count",
            aggregation="sum",
            description=meta["description"],
            definition=f"Zeitraum: {PERIOD} Regel für „Bezirk, nicht zuzuordnen“: "
            f"{RULE}" + (f" {ODDITY}" if meta["column"] == "kieztaten" else ""),
            source=SOURCE,
            license=LICENSE,
            time_reference="zeitraum",
            delivery_cycle="annual",
        )
        for meta in known_columns().values()
    ]
    specs.append(
        VariableSpec(
            key=RESIDENTS_KEY,
            name="Bezugseinwohner des Kriminalitätsatlas",
            theme="bevoelkerung",
            unit="Personen",
            value_type="count",
            aggregation="sum",
            description=(
                "Die Einwohnerzahl je Bezirksregion, auf die der Kriminalitätsatlas "
                "seine Häufigkeitszahlen (Fälle je 100.000 Einwohner) bezieht; "
                "Nenner des Kernindikators KI_KIEZDELIKTE."
            ),
            definition=(
                "Abgeleitet beim Import: Fälle ÷ Häufigkeitszahl × 100.000, für "
                "jede der 17 Deliktspalten eine Schranke (die Häufigkeitszahlen "
                "sind gerundet), die Schnittmenge aller Schranken ergibt die Zahl "
                "auf wenige Personen genau (höchstens ±5; 2022 exakt, weil die "
                "Häufigkeitszahlen dort ungerundet geliefert sind). 2021–2023 "
                "stimmt sie in allen 143 Bezirksregionen mit dem Einwohnerregister "
                "(AfS) zum 30.06. des Jahres überein: der Atlas teilt durch die "
                "Einwohner zur Jahresmitte. Sie steht beim Stichtag 31.12. des "
                "Jahres wie die Fallzahlen. Bezirk und Berlin: Summe der "
                "Bezirksregionen (die Zeilen xx9900 haben keine Einwohner)."
            ),
            source=RESIDENTS_SOURCE,
            license=LICENSE,
            time_reference="zeitraum",
            delivery_cycle="annual",
        )
    )
    return specs


@dataclass
class _Table:
    """The rows of one atlas file by key, with the line each key stands on."""

    header: list[str]
    cells: dict[str, dict[str, str]]
    lines: dict[str, int]


def _read(
    path: Path,
    file_name: str,
    problems: ProblemList,
    bzr: dict[str, str],
    bezirke: dict[str, str],
) -> _Table:
    header, body = contract.read_csv_file(path, file_name)
    if KEY_COLUMN not in header:
        problems.add(Problem("Pflichtspalte id fehlt", file_name, line=1))
        problems.raise_if_any()
    unknown = [c for c in header if c != KEY_COLUMN and c not in known_columns()]
    for column in unknown:
        problems.add(
            Problem("unbekannte Deliktspalte", file_name, line=1, column=column)
        )
    missing = [c for c in known_columns() if c not in header]
    if missing:
        problems.add(
            Problem(f"Deliktspalte(n) fehlen: {', '.join(missing)}", file_name, line=1)
        )
    problems.raise_if_any()
    index = {c: i for i, c in enumerate(header)}
    table = _Table(header=header, cells={}, lines={})
    for offset, cells in enumerate(body):
        line = offset + 2
        wrong_width = contract.width_problem(cells, header, file_name, line)
        if wrong_width:
            problems.add(wrong_width)
            continue
        key = cells[index[KEY_COLUMN]].strip().strip('"')
        if not KEY.fullmatch(key):
            problems.add(
                Problem(
                    f"kein {BZR_DIGITS}-stelliger Bezirksregion-Schlüssel",
                    file_name,
                    line,
                    KEY_COLUMN,
                    key,
                )
            )
            continue
        if key not in bzr and not (
            key.endswith(NOT_ASSIGNABLE) and key[:BEZ_DIGITS] in bezirke
        ):
            problems.add(
                Problem(
                    "keine Bezirksregion des LOR 2021 und keine Zeile "
                    "„Bezirk, nicht zuzuordnen“ (xx9900)",
                    file_name,
                    line,
                    KEY_COLUMN,
                    key,
                    kind=UNKNOWN_KEY,
                )
            )
            continue
        if key in table.cells:
            problems.add(
                Problem(
                    f"Schlüssel doppelt (schon in Zeile {table.lines[key]})",
                    file_name,
                    line,
                    KEY_COLUMN,
                    key,
                )
            )
            continue
        table.cells[key] = {c: cells[i] for c, i in index.items()}
        table.lines[key] = line
    expected = set(bzr) | {code + NOT_ASSIGNABLE for code in bezirke}
    absent = sorted(expected - set(table.cells))
    if absent:
        problems.add(
            Problem(
                f"{len(absent)} Zeile(n) fehlen, ohne sie stimmen die Summen der "
                f"Bezirke nicht: {', '.join(absent[:10])}"
                + (" …" if len(absent) > 10 else ""),
                file_name,
            )
        )
    return table


def parse_crime_atlas(
    path: Path,
    *,
    file_name: str,
    options: dict[str, Any],
    progress: ProgressCallback | None = None,
) -> ParsedDelivery:
    """Cases per Bezirksregion, Bezirk totals with xx9900, Berlin, and KRIM_EW."""
    problems = ProblemList()
    match = FILE_NAME.search(file_name)
    if match is None:
        problems.add(
            Problem(
                "Das Jahr steht nicht im Dateinamen: erwartet wird "
                "berlin-lor-crime-atlas-JJJJ-00-case-numbers-district-regions.csv.",
                file_name,
            )
        )
        raise ImportValidationError(list(problems), counts=dict(problems.counts))
    if match.group("kind").lower() == FREQUENCIES:
        problems.add(
            Problem(
                "Häufigkeitszahlen (Fälle je 100.000 Einwohner) werden nicht als "
                "Werte gespeichert, weil sie sich nicht zu Bezirken zusammenfassen "
                "lassen. Bitte die Fallzahlen-Datei desselben Jahres "
                f"({match.group('year')}-00-case-numbers) importieren; sie liest "
                "diese Datei daneben, um die Bezugseinwohner abzuleiten.",
                file_name,
            )
        )
        problems.raise_if_any()
    year = int(match.group("year"))
    ref_date = date(year, 12, 31)
    bzr = contract.lor_codes(level=LorUnit.Level.BEZIRKSREGION)
    bezirke = contract.lor_codes(level=LorUnit.Level.BEZIRK)
    cases = _read(path, file_name, problems, bzr, bezirke)
    counts: dict[str, dict[str, int]] = {}
    for key, row in cases.cells.items():
        counts[key] = {}
        for column, meta in known_columns().items():
            raw = row[column].strip()
            if not (raw.isascii() and raw.isdigit()):
                problems.add(
                    Problem(
                        "Fallzahl ist keine ganze Zahl ≥ 0",
                        file_name,
                        cases.lines[key],
                        column,
                        raw,
                        kind=NUMBER,
                    )
                )
                continue
            counts[key][meta["key"]] = int(raw)
    problems.raise_if_any()

    delivery = ParsedDelivery(variables=variable_specs(), supplier=SUPPLIER)
    delivery.key_lines = {k: v for k, v in cases.lines.items() if k in bzr}
    bezirk_totals: dict[str, dict[str, int]] = {code: {} for code in bezirke}
    total = len(counts)
    for n, (key, values) in enumerate(sorted(counts.items())):
        if progress and n % 50 == 0:
            progress(n, total)
        totals = bezirk_totals[key[:BEZ_DIGITS]]
        for var_key, value in values.items():
            totals[var_key] = totals.get(var_key, 0) + value
            if key in bzr:
                delivery.rows.append(
                    ObservationRow(var_key, key, ref_date, float(value), "ok", "")
                )
    berlin: dict[str, int] = {}
    for code, totals in sorted(bezirk_totals.items()):
        outside = counts[code + NOT_ASSIGNABLE]
        for var_key, value in totals.items():
            berlin[var_key] = berlin.get(var_key, 0) + value
            delivery.rows.append(
                ObservationRow(
                    var_key,
                    code,
                    ref_date,
                    float(value),
                    "ok",
                    f"einschließlich {outside[var_key]} Fälle „Bezirk, nicht "
                    f"zuzuordnen“ ({code}{NOT_ASSIGNABLE})",
                )
            )
    not_assignable = {
        var_key: sum(counts[code + NOT_ASSIGNABLE][var_key] for code in bezirke)
        for var_key in berlin
    }
    for var_key, value in berlin.items():
        delivery.rows.append(
            ObservationRow(
                var_key,
                hierarchy.BERLIN_KEY,
                ref_date,
                float(value),
                "ok",
                f"einschließlich {not_assignable[var_key]} Fälle, die keiner "
                "Bezirksregion zuzuordnen sind",
            )
        )
    frequency_path = _frequency_path(path, year, options)
    residents = _residents(
        frequency_path, year, counts, bzr, bezirke, delivery, file_name
    )
    for key, (value, uncertainty) in sorted(residents.items()):
        delivery.rows.append(
            ObservationRow(
                RESIDENTS_KEY,
                key,
                ref_date,
                float(value),
                "ok",
                "aus Fall- und Häufigkeitszahlen abgeleitet"
                + (f" (±{uncertainty})" if uncertainty else ""),
            )
        )
    if not residents:
        delivery.variables = [v for v in delivery.variables if v.key != RESIDENTS_KEY]
    delivery.rows_read = len(cases.cells)
    delivery.extra = {
        "year": year,
        "not_assignable_kieztaten": not_assignable.get("KIEZ_DELIKTE"),
        "residents": sum(v for v, _ in residents.values()),
        "residents_max_uncertainty": max(
            (u for _, u in residents.values()), default=None
        ),
    }
    if progress:
        progress(total, total)
    return delivery


def _frequency_path(path: Path, year: int, options: dict[str, Any]) -> Path | None:
    """The frequency file of the year: in the folder the command line names
    (option ``frequency_dir``), beside the file, or among the shipped files."""
    name = frequency_file_name(year)
    folders = [Path(options["frequency_dir"])] if options.get("frequency_dir") else []
    for folder in (*folders, path.parent, shipped_dir()):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _residents(
    frequency_path: Path | None,
    year: int,
    counts: dict[str, dict[str, int]],
    bzr: dict[str, str],
    bezirke: dict[str, str],
    delivery: ParsedDelivery,
    file_name: str,
) -> dict[str, tuple[int, int]]:
    """Residents per Bezirksregion the atlas divided by, with their uncertainty.

    Empty (and a warning) when the frequency file of the year is not at hand or
    does not fit the cases.
    """
    if frequency_path is None:
        delivery.warnings.append(
            Problem(
                f"Häufigkeitszahlen {year} nicht gefunden "
                f"({frequency_file_name(year)}): Bezugseinwohner {RESIDENTS_KEY} "
                "und damit KI_KIEZDELIKTE bleiben für dieses Jahr leer.",
                file_name,
            )
        )
        return {}
    problems = ProblemList()
    frequencies = _read(frequency_path, frequency_path.name, problems, bzr, bezirke)
    if problems:
        delivery.warnings.extend(problems)
        return {}
    residents: dict[str, tuple[int, int]] = {}
    for key in bzr:
        low, high = 0.0, math.inf
        for column, meta in known_columns().items():
            cases = counts[key].get(meta["key"], 0)
            raw = frequencies.cells[key][column].strip()
            try:
                frequency = float(raw)
            except ValueError:
                continue
            if cases <= 0 or not math.isfinite(frequency) or frequency <= 0:
                continue
            # A whole number was rounded to a whole number; a fraction is exact
            # up to the float it was printed from.
            half = 0.5 if "." not in raw else frequency * 1e-12
            low = max(low, cases * PER / (frequency + half))
            high = min(high, cases * PER / (frequency - half))
        if not low or low > high:
            delivery.warnings.append(
                Problem(
                    "Fall- und Häufigkeitszahlen passen zu keiner Einwohnerzahl; "
                    "Bezugseinwohner nicht abgeleitet",
                    frequency_path.name,
                    frequencies.lines[key],
                    KEY_COLUMN,
                    key,
                )
            )
            continue
        value = round((low + high) / 2)
        # How many other whole numbers the bounds still allow on either side.
        spread = max(value - math.ceil(low), math.floor(high) - value, 0)
        residents[key] = (value, spread)
    return residents
