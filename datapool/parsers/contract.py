"""What every parser hands to the import: variables, rows, problems, unknown keys.

The shared contract of ``datapool.parsers``: a parser reads one file and returns a
``ParsedDelivery`` or raises ``ImportValidationError`` with located problems.
Parsers never write; ``datapool.services.imports`` writes what they return.

Below the contract are the steps the parsers share: reading CSV text, checking
months and keys, and applying the user's decisions on unknown keys.
"""

from __future__ import annotations

import calendar
import csv
import gc
import io
import re
from collections.abc import Callable, Container, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from django.conf import settings

from lor import hierarchy
from lor.models import LorUnit
from lor.selectors import lor_key_renames

SUPPRESSED_TOKENS = {"", "na", "n/a", ".", "-", "–", "x", "*"}
MAX_PROBLEMS = 50

ProgressCallback = Callable[[int, int], None]


@dataclass
class Problem:
    """One reason a file cannot be imported, located as exactly as possible."""

    message: str
    file: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    # What kind of problem (PROBLEM_KINDS): the run page groups a report by it.
    kind: str = ""

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"Zeile {self.line}")
        if self.column:
            where.append(f"Spalte „{self.column}“")
        text = ", ".join(where) + f": {self.message}"
        if self.value is not None:
            text += f" (Wert „{self.value}“)"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "kind": self.kind,
            "text": str(self),
        }


# The kinds of problems a file is checked for in one pass, so that a report
# names all of them at once (with counts) instead of one kind per upload.
NUMBER = "number"
UNKNOWN_KEY = "unknown_key"
FOREIGN_KEY = "foreign_key"
FOREIGN_VARIABLE = "foreign_variable"
EXAMPLES_PER_KIND = 5


class ImportValidationError(Exception):
    """The file has problems; nothing may be written.

    ``counts`` holds the number of problems per kind beyond those listed; a
    parser that read the whole file hands its ``delivery`` along, so that the
    import can add the checks that only it can make (districts) to one report.
    """

    def __init__(
        self,
        problems: list[Problem],
        *,
        counts: dict[str, int] | None = None,
        delivery: ParsedDelivery | None = None,
    ) -> None:
        self.problems = problems
        self.counts = counts or {}
        self.delivery = delivery
        super().__init__("; ".join(str(p) for p in problems[:3]))


class ProblemList(list[Problem]):
    """At most MAX_PROBLEMS problems, but every kind counted and exemplified."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.counts: dict[str, int] = {}

    def add(self, problem: Problem) -> None:
        seen = self.counts.get(problem.kind, 0)
        self.counts[problem.kind] = seen + 1
        if len(self) < MAX_PROBLEMS or (problem.kind and seen < EXAMPLES_PER_KIND):
            self.append(problem)

    def raise_if_any(self, delivery: ParsedDelivery | None = None) -> None:
        if self:
            raise ImportValidationError(
                list(self), counts=dict(self.counts), delivery=delivery
            )


@dataclass
class UnknownKey:
    """A key in the file that the LOR scheme does not know, with what is known
    about it (a documented rename; the old scheme's unit of that key)."""

    key: str
    line: int
    suggestion: str | None = None
    suggestion_name: str | None = None
    suggestion_reason: str | None = None
    # The name of the LOR 2006 Planungsraum with this key, if there is one.
    old_scheme_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "line": self.line,
            "suggestion": self.suggestion,
            "suggestion_name": self.suggestion_name,
            "suggestion_reason": self.suggestion_reason,
            "old_scheme_name": self.old_scheme_name,
        }


@dataclass
class VariableSpec:
    key: str
    name: str
    theme: str = "sonstiges"
    unit: str = ""
    value_type: str = "count"
    aggregation: str = "sum"
    description: str = ""
    definition: str = ""
    source: str = ""
    license: str = ""
    time_reference: str = "stichtag"
    delivery_cycle: str = "irregular"
    metadata_complete: bool = True
    numerator: str | None = None
    denominator: str | None = None
    weight: str | None = None
    factor: float = 1.0


class ObservationRow(NamedTuple):
    """One value of a delivery: which variable, where, when, and what."""

    variable_key: str
    unit_code: str
    ref_date: date
    value: float | None  # None where suppressed or missing
    status: str  # an Observation.Status value
    note: str


@contextmanager
def rows_building() -> Iterator[None]:
    """Pause Python's cycle collector while a parser builds its rows.

    The collector keeps tracking every ObservationRow (it stops tracking plain
    tuples of strings and numbers, not tuple subclasses), so building the
    360,000 rows of an EWR matrix set off pass after pass over the growing
    heap, which took three times as long as the parse itself. Rows form no
    cycles; the passes after the parse are all they need.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class LayerSpec:
    """What the options (or the file name) say about a facility layer."""

    key: str
    name: str
    theme: str
    source: str
    license: str
    metadata_complete: bool
    sum_attribute: str = ""
    name_attribute: str = ""

    @property
    def count_key(self) -> str:
        return f"{self.key.upper()}_ANZAHL"


@dataclass
class PlacedPoint:
    """A point inside Berlin, ready to be stored."""

    number: int
    x: float
    y: float
    unit_code: str
    name: str
    attributes: dict[str, Any]


@dataclass
class FacilityLayerDelivery:
    """The points of a facility layer; the import stores them beside the values."""

    spec: LayerSpec
    ref_date: date
    sum_attribute: str
    points: list[PlacedPoint]


@dataclass
class ParsedDelivery:
    """The content of one file, validated, ready to be written."""

    variables: list[VariableSpec]
    rows: list[ObservationRow] = field(default_factory=list)
    unknown_keys: list[UnknownKey] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    supplier: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Deliveries that bring more than values: the points of a facility layer,
    # written inside the import's transaction before the values.
    facility_layer: FacilityLayerDelivery | None = None
    # The line of each key in the file, where the parser knows it (for reports).
    key_lines: dict[str, int] = field(default_factory=dict)
    # False: the rows carry the keys as delivered, checked for their form only;
    # the import resolves them against a LOR scheme (the user's decisions on
    # unknown keys included), so that a parser serves files of either scheme.
    keys_resolved: bool = True
    # The column the keys were read from (for reports).
    key_column: str = ""

    @property
    def ref_dates(self) -> set[date]:
        return {row.ref_date for row in self.rows}


class Parser(Protocol):
    """A parser: reads one file, validates it whole, and returns its delivery."""

    def __call__(
        self,
        path: Path,
        *,
        file_name: str,
        options: dict[str, Any],
        progress: ProgressCallback | None = None,
    ) -> ParsedDelivery: ...


def decode_text(raw: bytes, file_name: str) -> str:
    """UTF-8 (with or without BOM) or Windows-1252, as AfS and Excel write."""
    if not raw.strip():
        raise ImportValidationError([Problem("Die Datei ist leer.", file_name)])
    if raw.startswith(b"PK\x03\x04"):
        raise ImportValidationError(
            [Problem("Die Datei ist keine Textdatei (ZIP/XLSX?).", file_name)]
        )
    if b"\x00" in raw[:4096]:
        raise ImportValidationError(
            [Problem("Die Datei ist keine Textdatei (UTF-16 oder binär?).", file_name)]
        )
    # A NUL byte further down cannot be stored in PostgreSQL text, not even in
    # the report of a failed run: refuse it here, located.
    nul = raw.find(b"\x00", 4096)
    if nul != -1:
        raise ImportValidationError(
            [
                Problem(
                    "Die Datei enthält ein Nullzeichen (beschädigt oder binär?).",
                    file_name,
                    line=_line_of(raw, nul),
                )
            ]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ImportValidationError(
            [
                Problem(
                    "Die Kodierung ist weder UTF-8 noch Windows-1252 "
                    f"(Byte {exc.start}).",
                    file_name,
                    line=_line_of(raw, exc.start),
                )
            ]
        ) from exc


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def sniff_delimiter(text: str, file_name: str) -> str:
    """The most frequent of semicolon, comma and tab in the header line."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    delimiter, count = max(counts.items(), key=lambda item: item[1])
    if count == 0:
        raise ImportValidationError(
            [
                Problem(
                    "Kein Trennzeichen erkannt: erwartet werden Semikolon, Komma "
                    "oder Tabulator zwischen den Spalten.",
                    file_name,
                    line=1,
                )
            ]
        )
    return delimiter


def read_csv_rows(
    text: str, delimiter: str, file_name: str = ""
) -> tuple[list[str], list[list[str]]]:
    """The header (quotes stripped) and the records, without trailing empty ones."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    start = 1  # the line the record being read begins on
    try:
        for row in reader:
            rows.append(row)
            start = reader.line_num + 1
    except csv.Error as exc:
        # E.g. an opening quote that is never closed swallows the rest of a large
        # file until the csv module's field limit.
        raise ImportValidationError(
            [
                Problem(
                    "Die Zeile ist als CSV nicht lesbar – fehlt ein schließendes "
                    f"Anführungszeichen? ({exc})",
                    file_name,
                    line=start,
                )
            ]
        ) from exc
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        return [], []
    header = [cell.strip().strip('"') for cell in rows[0]]
    return header, rows[1:]


def month_end(yyyymm: str) -> date:
    """The last day of the month YYYYMM (the reference date of a monthly table)."""
    year, month = int(yyyymm[:4]), int(yyyymm[4:6])
    return date(year, month, calendar.monthrange(year, month)[1])


def is_suppressed(raw: str | None) -> bool:
    return raw is None or raw.strip().lower() in SUPPRESSED_TOKENS


# What a placeholder cell means is the file's convention, not ours: the AfS
# half-yearly tables of 30.06.2022 write "–" for zero, most others for a value
# kept secret. The user chooses per file (option "blanks"); "-" counts as "–".
BLANK_TOKENS = ("–", ".", "")
BLANK_SUPPRESSED, BLANK_ZERO, BLANK_MISSING = "suppressed", "zero", "missing"
BLANK_MEANINGS = (BLANK_SUPPRESSED, BLANK_ZERO, BLANK_MISSING)


def blank_meanings(options: Mapping[str, Any]) -> dict[str, str]:
    """The meaning of "–", "." and empty cells chosen in the options (default:
    suppressed)."""
    chosen = options.get("blanks") or {}
    if not isinstance(chosen, Mapping):
        chosen = {}
    meanings = {}
    for token in BLANK_TOKENS:
        meaning = chosen.get(token)
        meanings[token] = meaning if meaning in BLANK_MEANINGS else BLANK_SUPPRESSED
    return meanings


def blank_meaning(raw: str | None, meanings: Mapping[str, str]) -> str | None:
    """What a placeholder cell stands for; None if the cell is no placeholder."""
    text = "" if raw is None else raw.strip()
    if text == "-":
        text = "–"
    if text in meanings:
        return meanings[text]
    return BLANK_SUPPRESSED if is_suppressed(text) else None


# The option that imports a delivery into the old scheme (LOR 2006 units); its
# values are then converted to LOR 2021 (datapool.services.conversion).
SCHEME_OPTION = "scheme"
OLD_SCHEME = "lor2006"


def scheme_of(options: Mapping[str, Any]) -> str:
    """The LOR scheme (a ``LorUnit.Scheme`` value) a run's keys belong to."""
    if options.get(SCHEME_OPTION) == OLD_SCHEME:
        return LorUnit.Scheme.LOR_2006
    return LorUnit.Scheme.LOR_2021


def lor_codes(
    *, level: str | None = None, scheme: str = LorUnit.Scheme.LOR_2021
) -> dict[str, str]:
    """Key → name of the units of a scheme (of one level)."""
    qs = LorUnit.objects.filter(scheme=scheme)
    if level:
        qs = qs.filter(level=level)
    return dict(qs.values_list("code", "name"))


# Why a suggestion is made. There are only two: a key the source documents as
# renamed (the same area under another key), and a key of the old scheme, which
# is not mapped to one new key but converted with the crosswalk. A key that
# merely looks like another one is never suggested: neighbouring keys name
# different areas (02010103 Moritzplatz is not 02100103 Am Berlin Museum).
SUGGESTED_RENAME = "rename"


def key_suggestions(
    unknown: list[UnknownKey], *, present: Container[str], scheme: str
) -> list[UnknownKey]:
    """The unknown keys, each with its documented rename (if the target is not
    in the file already) and, for LOR 2021 files, its LOR 2006 unit if it is one."""
    renames = lor_key_renames()
    names = lor_codes(scheme=scheme)
    old_names = (
        lor_codes(level=hierarchy.PLANUNGSRAUM, scheme=LorUnit.Scheme.LOR_2006)
        if scheme == LorUnit.Scheme.LOR_2021
        else {}
    )
    for item in unknown:
        target = renames.get(item.key)
        if scheme == LorUnit.Scheme.LOR_2021 and target and target not in present:
            item.suggestion, item.suggestion_name = target, names.get(target)
            item.suggestion_reason = SUGGESTED_RENAME
        item.old_scheme_name = old_names.get(item.key)
    return unknown


# --- steps the CSV parsers share ----------------------------------------------

# A month as the AfS writes it: JJJJMM.
MONTH = re.compile(r"\d{4}(0[1-9]|1[0-2])")
PLR_DIGITS = hierarchy.key_length(hierarchy.PLANUNGSRAUM)
PLR_KEY = re.compile(rf"\d{{{PLR_DIGITS}}}")


def read_csv_file(path: Path, file_name: str) -> tuple[list[str], list[list[str]]]:
    """The header and records of a delimited text file (encoding and separator
    recognised), or a validation error."""
    text = decode_text(path.read_bytes(), file_name)
    return read_csv_rows(text, sniff_delimiter(text, file_name), file_name)


def width_problem(
    cells: list[str], header: list[str], file_name: str, line: int
) -> Problem | None:
    """A record with more or fewer fields than the header, as a problem."""
    if len(cells) == len(header):
        return None
    return Problem(
        f"{len(cells)} statt {len(header)} Felder – Trennzeichen oder "
        "Anführungszeichen fehlerhaft?",
        file_name,
        line=line,
    )


@cache
def metadata_columns(file: str, key: str) -> dict[str, dict[str, str]]:
    """The rows of a metadata table in ``datapool/metadata``, by their ``key``."""
    path = Path(settings.BASE_DIR) / "datapool" / "metadata" / file
    with path.open(encoding="utf-8", newline="") as fh:
        return {row[key]: row for row in csv.DictReader(fh, delimiter=";")}


@dataclass
class KeyDecisions:
    """Applies the user's decisions on a file's unknown keys: skip or map them.

    The decisions come from the run's options (``skip_keys``, ``key_map``);
    every skipped or mapped row leaves a warning, a key nobody decided on is
    collected in ``unknown`` for the review step.
    """

    known: Mapping[str, str]  # key → name of the units a key may name
    options: dict[str, Any]
    delivery: ParsedDelivery
    problems: ProblemList
    file_name: str
    column: str
    not_a_target: str  # "kein Planungsraum": why a mapping's target is refused
    unknown: list[UnknownKey] = field(default_factory=list)
    scheme: str = LorUnit.Scheme.LOR_2021

    def __post_init__(self) -> None:
        self.key_map: dict[str, str] = self.options.get("key_map") or {}
        self.skip_keys: set[str] = set(self.options.get("skip_keys") or [])

    def resolve(self, key: str, line: int) -> str | None:
        """The known key the row stands for; None if it is skipped or unknown."""
        if key in self.skip_keys:
            self._warn(f"Schlüssel {key} auf Wunsch übersprungen", key, line)
            return None
        if key in self.known:
            return key
        target = self.key_map.get(key)
        if target is None:
            self.unknown.append(UnknownKey(key=key, line=line))
            return None
        if target not in self.known:
            self.problems.add(
                Problem(
                    f"Zuordnung {key} → {target}: Ziel ist {self.not_a_target}",
                    self.file_name,
                    line,
                    self.column,
                    key,
                )
            )
            return None
        self._warn(
            f"Schlüssel {key} als {target} ({self.known[target]}) übernommen",
            key,
            line,
        )
        return target

    def unknown_keys(self, present: Container[str]) -> list[UnknownKey]:
        """The unknown keys with their documented renames (``key_suggestions``)."""
        return key_suggestions(self.unknown, present=present, scheme=self.scheme)

    def _warn(self, message: str, key: str, line: int) -> None:
        self.delivery.warnings.append(
            Problem(message, self.file_name, line, self.column, key)
        )
