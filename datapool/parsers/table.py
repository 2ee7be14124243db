"""Parser of generic tables (CSV/XLSX): one key column, one column per variable.

A table has one column of LOR 2021 keys at one level (as many digits as
``lor.hierarchy`` gives the level; a leading zero lost in Excel is restored) and
one column per variable. What the columns mean is not in the file:
the user maps them in the preview step (or on the command line), and the mapping
travels in ``ImportRun.options``::

    {
      "key_column": "id",
      "ref_date": "2024-12-31",
      "decimal": "point",                 # or "comma"; guessed when absent
      "sheet": "Tabelle1",                # XLSX only; default: the first sheet
      "supplier": "Bezirksamt …",         # optional, also "source", "license"
      "columns": {
        "inhabitants": {                  # a new variable
          "variable": "EW_INSGESAMT",
          "new": {"name": "Einwohnende", "theme": "bevoelkerung",
                  "unit": "Personen", "value_type": "count", "aggregation": "sum"}
        },
        "E_E": {"variable": "E_E"}        # a variable of the catalogue
      }
    }

Columns not named under ``columns`` are ignored.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from lor import hierarchy
from lor.models import LorUnit

from ..models import Variable
from ..themes import Theme
from .contract import (
    BLANK_TOKENS,
    BLANK_ZERO,
    MAX_PROBLEMS,
    NUMBER,
    ImportValidationError,
    KeyDecisions,
    ObservationRow,
    ParsedDelivery,
    Problem,
    ProblemList,
    ProgressCallback,
    VariableSpec,
    blank_meaning,
    blank_meanings,
    decode_text,
    is_suppressed,
    lor_codes,
    read_csv_rows,
    scheme_of,
    sniff_delimiter,
)
from .limits import (
    SheetCounter,
    TableLimits,
    csv_check,
    file_check_size,
    table_limits,
    workbook_check,
)

PREVIEW_ROWS = 10
# Workbooks are always tables; a CSV file is one when no other format claims it.
SUFFIXES = frozenset({".xlsx", ".xlsm"})
WORKBOOK_MAGIC = b"PK\x03\x04"
# The levels' names in the (German) problem messages.
LEVEL_NAMES = {
    hierarchy.BERLIN: "Berlin",
    hierarchy.BEZIRK: "Bezirk",
    hierarchy.PROGNOSERAUM: "Prognoseraum",
    hierarchy.BEZIRKSREGION: "Bezirksregion",
    hierarchy.PLANUNGSRAUM: "Planungsraum",
}
LEVEL_LABELS = {
    hierarchy.BERLIN: f"Berlin ({hierarchy.BERLIN_KEY})",
    **{
        level: f"{LEVEL_NAMES[level]} ({hierarchy.key_length(level)}-stellig)"
        for level in hierarchy.LEVELS_BELOW_BERLIN
    },
}
# For the problem of a malformed key: "2, 4, 6 oder 8", "Bezirk, …, Planungsraum".
_DIGITS = [str(hierarchy.key_length(lvl)) for lvl in hierarchy.LEVELS_BELOW_BERLIN]
KEY_DIGITS = ", ".join(_DIGITS[:-1]) + " oder " + _DIGITS[-1]
KEY_LEVELS = ", ".join(LEVEL_NAMES[lvl] for lvl in hierarchy.LEVELS_BELOW_BERLIN)
# Excel drops the leading zero of Bezirke 01–09 in numeric columns: such a key
# is one digit short of a level's length.
SHORT_KEY_LENGTHS = frozenset(n - 1 for n in hierarchy.KEY_LENGTH.values())
KEY_HEADERS = {
    "id",
    "raumid",
    "plr_id",
    "plr",
    "bzr_id",
    "bzr",
    "pgr_id",
    "pgr",
    "bez_id",
    "bez",
    "schluessel",
    "schlüssel",
    "lor",
    "key",
}
SHARE_HINTS = ("percent", "prozent", "anteil", "quote", "rate", "%")
VARIABLE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
NON_SUMMABLE = {"share", "index", "class"}
NEW_AGGREGATIONS = ("sum", "none", "ratio", "weighted_mean")
# Strict number formats: float() alone would accept "nan", "inf", "1e5" or "1_0".
NUMBER_POINT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
NUMBER_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d*)?$|^[+-]?,\d+$")
COMMA_DECIMAL_HINT = re.compile(r"^[+-]?\d*,\d+$|^[+-]?\d{1,3}(\.\d{3})+,\d+$")
POINT_DECIMAL_HINT = re.compile(r"^[+-]?\d*\.\d+$")

Cell = Any  # str in CSV; str, int, float, datetime, bool or None in XLSX


@dataclass
class Table:
    """The cells of a CSV file or one worksheet, with the file line of every row."""

    file_name: str
    format: str  # "csv" or "xlsx"
    header: list[str]
    rows: list[tuple[int, list[Cell]]]  # (line, cells), the header is line 1
    header_line: int = 1
    delimiter: str = ""
    encoding: str = ""
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return len(self.header)


# --- reading -----------------------------------------------------------------


def table_read(path: Path, file_name: str, *, sheet: str | None = None) -> Table:
    """The header and non-empty rows of a CSV or XLSX file, or a validation error.

    Tables beyond the limits of ``datapool.parsers.limits`` are refused before
    their rows are held in memory.
    """
    limits = table_limits()
    file_check_size(path, file_name, limits)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportValidationError(
            [Problem(f"Die Datei ist nicht lesbar ({exc.strerror}).", file_name)]
        ) from exc
    if raw.startswith(WORKBOOK_MAGIC):
        table = _read_workbook(path, file_name, sheet=sheet, limits=limits)
    else:
        table = _read_csv(raw, file_name, limits)
    problems = ProblemList()
    if not any(table.header) and not table.rows:
        problems.add(Problem("Die Datei ist leer.", file_name))
    elif not table.rows:
        problems.add(
            Problem(
                "Die Datei enthält nur die Kopfzeile, keine Datenzeilen.",
                file_name,
                line=table.header_line,
            )
        )
    seen: dict[str, int] = {}
    for index, name in enumerate(table.header):
        if name in seen:
            problems.add(
                Problem(
                    f"Spaltenname doppelt (auch Spalte {seen[name] + 1}); "
                    "jede Spalte braucht einen eigenen Namen",
                    file_name,
                    line=table.header_line,
                    column=name,
                )
            )
        seen.setdefault(name, index)
    problems.raise_if_any()
    return table


def _read_csv(raw: bytes, file_name: str, limits: TableLimits) -> Table:
    text = decode_text(raw, file_name)
    try:
        raw.decode("utf-8-sig")
        encoding = "UTF-8"
    except UnicodeDecodeError:
        encoding = "Windows-1252"
    delimiter = sniff_delimiter(text, file_name)
    csv_check(text, delimiter, file_name, limits)
    header, body = read_csv_rows(text, delimiter, file_name)
    rows = [
        (offset + 2, list(cells))
        for offset, cells in enumerate(body)
        if any(cell.strip() for cell in cells)
    ]
    header, rows = _trim_columns(header, rows)
    return Table(
        file_name=file_name,
        format="csv",
        header=header,
        rows=rows,
        delimiter=delimiter,
        encoding=encoding,
    )


def _read_workbook(
    path: Path, file_name: str, *, sheet: str | None, limits: TableLimits
) -> Table:
    from openpyxl import load_workbook

    workbook_check(path, file_name, limits)
    try:
        values_book = load_workbook(path, read_only=True, data_only=True)
        formula_book = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportValidationError(
            [
                Problem(
                    "Die Arbeitsmappe kann nicht gelesen werden (beschädigt oder "
                    f"kein XLSX-Format: {type(exc).__name__}).",
                    file_name,
                )
            ]
        ) from exc
    try:
        names = values_book.sheetnames
        if sheet and sheet not in names:
            raise ImportValidationError(
                [
                    Problem(
                        f"Tabellenblatt „{sheet}“ fehlt; vorhanden: {', '.join(names)}",
                        file_name,
                    )
                ]
            )
        name = sheet or names[0]
        # Counted first: the formula check reads every cell of the sheet too.
        rows = _sheet_rows(values_book[name], SheetCounter(limits, file_name))
        _refuse_formulas(formula_book[name], values_book[name], name, file_name)
        grid = [
            (line, values)
            for line, values in rows
            if any(_cell_text(c).strip() for c in values)
        ]
    finally:
        values_book.close()
        formula_book.close()
    if not grid:
        return Table(file_name, "xlsx", [], [], sheet=name, sheets=names)
    start = _header_index(grid)
    header_line, header_cells = grid[start]
    header = [_cell_text(c).strip() for c in header_cells]
    header, rows = _trim_columns(header, grid[start + 1 :])
    return Table(
        file_name=file_name,
        format="xlsx",
        header=header,
        rows=rows,
        header_line=header_line,
        sheet=name,
        sheets=names,
    )


def _header_index(grid: list[tuple[int, list[Cell]]]) -> int:
    """The header is the first row as wide as the table; titles above it are not."""

    def filled(cells: list[Cell]) -> int:
        return sum(bool(_cell_text(c).strip()) for c in cells)

    widest = max(filled(cells) for _, cells in grid[:20])
    return next(i for i, (_, cells) in enumerate(grid[:20]) if filled(cells) == widest)


def _sheet_rows(worksheet: Any, counter: SheetCounter) -> list[tuple[int, list[Cell]]]:
    """(row number, values) of the rows that have a cell; numbers from the cells."""
    # The stored dimensions may be wrong (some writers omit them): read all rows.
    worksheet.reset_dimensions()
    rows = []
    for row in worksheet.iter_rows():
        counter.row(len(row))
        number = next((c.row for c in row if getattr(c, "row", None)), None)
        if number is None:
            continue
        width = max(c.column for c in row if getattr(c, "column", None))
        values: list[Cell] = [None] * width
        for cell in row:
            if getattr(cell, "column", None):
                values[cell.column - 1] = cell.value
        rows.append((number, values))
    return rows


def _refuse_formulas(
    formula_sheet: Any, values_sheet: Any, name: str, file_name: str
) -> None:
    """Formulas are refused: without Excel's cached result openpyxl reads nothing,
    and a cached result may be stale."""
    formula_sheet.reset_dimensions()
    formulas = [
        cell
        for row in formula_sheet.iter_rows()
        for cell in row
        if getattr(cell, "data_type", None) == "f"
    ]
    if not formulas:
        return
    wanted = {cell.coordinate for cell in formulas[:MAX_PROBLEMS]}
    values_sheet.reset_dimensions()
    cached = {
        cell.coordinate: cell.value
        for row in values_sheet.iter_rows()
        for cell in row
        if getattr(cell, "coordinate", None) in wanted
    }
    problems = ProblemList()
    for cell in formulas:
        has_cache = cached.get(cell.coordinate) is not None
        problems.add(
            Problem(
                f"Tabellenblatt „{name}“, Zelle {cell.coordinate} enthält eine "
                f"Formel ({cell.value})"
                + ("" if has_cache else " ohne gespeicherten Wert")
                + "; Formeln werden nicht importiert – bitte in Excel die Werte "
                "als Werte einfügen („Inhalte einfügen → Werte“) und neu hochladen",
                file_name,
                line=cell.row,
                column=cell.column_letter,
                value=str(cell.value),
            )
        )
    raise ImportValidationError(list(problems))


def _trim_columns(
    header: list[str], rows: list[tuple[int, list[Cell]]]
) -> tuple[list[str], list[tuple[int, list[Cell]]]]:
    """Drop trailing unnamed empty columns; name other unnamed columns by position."""
    width = len(header)
    while width and not header[width - 1]:
        if any(
            len(cells) >= width and _cell_text(cells[width - 1]).strip()
            for _, cells in rows
        ):
            break
        width -= 1
    header = [name or f"Spalte {i + 1}" for i, name in enumerate(header[:width])]
    trimmed = []
    for line, cells in rows:
        if len(cells) > width and not any(_cell_text(c).strip() for c in cells[width:]):
            cells = cells[:width]
        trimmed.append((line, cells))
    return header, trimmed


def _cell_text(cell: Cell) -> str:
    """A cell as the user sees it (numbers without a trailing .0)."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "WAHR" if cell else "FALSCH"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time(0) else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


# --- keys --------------------------------------------------------------------


def normalize_key(cell: Cell) -> tuple[str, bool]:
    """The key as digits and whether a lost leading zero was restored."""
    if isinstance(cell, bool):
        return _cell_text(cell), False
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = _cell_text(cell).strip()
    if re.fullmatch(r"\d+\.0+", text):  # e.g. "1100101.0" from a numeric export
        text = text.split(".", 1)[0]
    # A key one digit short that does not start with 0 lost its leading zero.
    if text.isdigit() and len(text) in SHORT_KEY_LENGTHS and not text.startswith("0"):
        return "0" + text, True
    return text, False


def _guess_key_column(table: Table, known: set[str]) -> str | None:
    best: tuple[float, int] | None = None
    for index in range(table.width):
        cells = [
            cells[index]
            for _, cells in table.rows[:200]
            if index < len(cells) and _cell_text(cells[index]).strip()
        ]
        if not cells:
            continue
        hits = sum(normalize_key(c)[0] in known for c in cells) / len(cells)
        if hits >= 0.8 and (best is None or hits > best[0]):
            best = (hits, index)
    if best is not None:
        return table.header[best[1]]
    for name in table.header:
        if name.strip().lower() in KEY_HEADERS:
            return name
    return None


# --- numbers -----------------------------------------------------------------


def parse_value(cell: Cell, *, decimal_comma: bool) -> float:
    """A finite number from a cell, strictly in the chosen decimal notation."""
    if isinstance(cell, bool):
        raise ValueError(cell)
    if isinstance(cell, int | float):
        value = float(cell)
    elif isinstance(cell, str):
        text = cell.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
        if decimal_comma:
            if not NUMBER_COMMA.match(text):
                raise ValueError(cell)
            value = float(text.replace(".", "").replace(",", "."))
        else:
            if not NUMBER_POINT.match(text):
                raise ValueError(cell)
            value = float(text)
    else:
        raise ValueError(cell)
    if not math.isfinite(value):
        raise ValueError(cell)
    return value


def _guess_decimal(table: Table, key_index: int | None) -> str:
    if table.format == "xlsx":
        return "point"
    comma = point = 0
    for _, cells in table.rows[:500]:
        for index, cell in enumerate(cells):
            if index == key_index or not isinstance(cell, str):
                continue
            text = cell.strip()
            if COMMA_DECIMAL_HINT.match(text):
                comma += 1
            elif POINT_DECIMAL_HINT.match(text):
                point += 1
    return "comma" if comma > point else "point"


# --- the mapping ---------------------------------------------------------------


def parse_ref_date(value: Any) -> date | None:
    """A reference date from YYYY-MM-DD or DD.MM.YYYY; None if it is neither."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def variable_key_suggestion(column: str, index: int) -> str:
    """A catalogue key derived from a column name (INHABITANTS_AGE_BELOW_6)."""
    text = column.upper()
    for umlaut, plain in (("Ä", "AE"), ("Ö", "OE"), ("Ü", "UE"), ("ß", "SS")):
        text = text.replace(umlaut, plain)
    text = re.sub(r"[^A-Z0-9]+", "_", text).strip("_")[:64]
    return text or f"SPALTE_{index + 1}"


@dataclass
class _Column:
    name: str
    index: int
    variable: str
    value_type: str


def _mapping_problems(
    table: Table, options: dict[str, Any]
) -> tuple[ProblemList, str | None, date | None, list[_Column], list[VariableSpec]]:
    """Check the mapping against the file and the catalogue."""
    file_name = table.file_name
    line = table.header_line
    problems = ProblemList()
    index = {name: i for i, name in enumerate(table.header)}
    key_column = str(options.get("key_column") or "").strip() or None
    found = ", ".join(table.header[:10]) + (" …" if table.width > 10 else "")
    if key_column is None:
        problems.add(
            Problem(
                "Keine Schlüsselspalte gewählt (Spalte mit den LOR-Schlüsseln); "
                f"Spalten der Datei: {found}",
                file_name,
                line=line,
            )
        )
    elif key_column not in index:
        problems.add(
            Problem(
                f"Schlüsselspalte fehlt in der Datei; gefunden: {found}",
                file_name,
                line=line,
                column=key_column,
            )
        )
    ref_date = parse_ref_date(options.get("ref_date"))
    if ref_date is None:
        problems.add(
            Problem(
                "Kein gültiger Stichtag angegeben (z. B. 2024-12-31 oder 31.12.2024)",
                file_name,
                value=str(options["ref_date"]) if options.get("ref_date") else None,
            )
        )
    columns_option = options.get("columns") or {}
    if not isinstance(columns_option, dict):
        columns_option = {}
    entries: dict[str, dict[str, Any]] = {}
    for column, entry in columns_option.items():
        if isinstance(entry, str):
            entry = {"variable": entry}
        if not isinstance(entry, dict) or entry.get("ignore"):
            continue
        entries[column] = entry
    if not entries:
        problems.add(
            Problem(
                "Keine Spalte einer Variablen zugeordnet; bitte mindestens eine "
                "Spalte einer neuen oder vorhandenen Variablen zuordnen",
                file_name,
                line=line,
            )
        )
    catalogue = {
        v.key: v
        for v in Variable.objects.filter(
            key__in=[str(e.get("variable") or "") for e in entries.values()]
        )
    }
    mapped_keys = {str(e.get("variable") or "") for e in entries.values()}
    used: dict[str, str] = {}
    columns: list[_Column] = []
    specs: list[VariableSpec] = []
    for column, entry in entries.items():
        key = str(entry.get("variable") or "").strip()

        def problem(
            message: str, value: str | None = None, column: str = column
        ) -> None:
            problems.add(Problem(message, file_name, line, column, value))

        if column not in index:
            problem(f"Spalte fehlt in der Datei; gefunden: {found}")
            continue
        if column == key_column:
            problem("Die Schlüsselspalte kann nicht zugleich Variable sein")
            continue
        if not key:
            problem("Keine Variable angegeben")
            continue
        if key in used:
            problem(f"Variable {key} ist schon Spalte „{used[key]}“ zugeordnet", key)
            continue
        used[key] = column
        new = entry.get("new")
        # A "new" variable the catalogue already has (the same mapping used for
        # the next delivery) is that variable; its curated metadata stays.
        if new is None or key in catalogue:
            variable = catalogue.get(key)
            if variable is None:
                problem("Variable gibt es im Katalog nicht", key)
                continue
            columns.append(_Column(column, index[column], key, variable.value_type))
            specs.append(VariableSpec(key=key, name=variable.name))
            continue
        spec = _new_spec(key, new, options, catalogue, mapped_keys, problem)
        if spec is not None:
            columns.append(_Column(column, index[column], key, spec.value_type))
            specs.append(spec)
    return problems, key_column, ref_date, columns, specs


def _new_spec(
    key: str,
    new: Any,
    options: dict[str, Any],
    catalogue: dict[str, Variable],
    mapped_keys: set[str],
    problem: Callable[..., None],
) -> VariableSpec | None:
    if not isinstance(new, dict):
        problem("Angaben zur neuen Variablen fehlen", key)
        return None
    if not VARIABLE_KEY.match(key):
        problem(
            "Schlüssel der neuen Variablen ungültig (Buchstaben, Ziffern, _ und -, "
            "höchstens 64 Zeichen)",
            key,
        )
        return None
    name = str(new.get("name") or "").strip()
    theme = new.get("theme") or Theme.SONSTIGES
    value_type = new.get("value_type") or Variable.ValueType.COUNT
    aggregation = new.get("aggregation") or (
        "none" if value_type in NON_SUMMABLE else "sum"
    )
    ok = True
    if not name:
        problem("Name der neuen Variablen fehlt", key)
        ok = False
    if theme not in Theme.values:
        problem(f"Unbekanntes Thema; erlaubt: {', '.join(Theme.values)}", theme)
        ok = False
    if value_type not in Variable.ValueType.values:
        problem(
            f"Unbekannter Werttyp; erlaubt: {', '.join(Variable.ValueType.values)}",
            value_type,
        )
        ok = False
    if aggregation not in NEW_AGGREGATIONS:
        problem(
            f"Unbekannte Aggregationsregel; erlaubt: {', '.join(NEW_AGGREGATIONS)}",
            aggregation,
        )
        ok = False
    elif aggregation == "sum" and value_type in NON_SUMMABLE:
        problem(
            "Anteile, Indizes und Klassen lassen sich nicht summieren; "
            "Aggregationsregel „none“ oder „ratio“ wählen",
            aggregation,
        )
        ok = False
    components = {}
    for part in ("numerator", "denominator", "weight"):
        component = str(new.get(part) or "").strip() or None
        if (
            component
            and component not in mapped_keys | set(catalogue)
            and not Variable.objects.filter(key=component).exists()
        ):
            problem(f"Variable {component} ({part}) gibt es nicht", component)
            ok = False
        components[part] = component
    if aggregation == "ratio" and not (
        components["numerator"] and components["denominator"]
    ):
        problem("Ein Verhältnis braucht Zähler und Nenner (numerator, denominator)")
        ok = False
    if aggregation == "weighted_mean" and not components["weight"]:
        problem("Ein gewichtetes Mittel braucht eine Gewichtsvariable (weight)")
        ok = False
    if not ok:
        return None
    unit = str(new.get("unit") or "").strip()
    source = str(new.get("source") or options.get("source") or "").strip()
    try:
        factor = float(new.get("factor") or 1.0)
    except (TypeError, ValueError):
        factor = 1.0
    return VariableSpec(
        key=key,
        name=name[:200],
        theme=theme,
        unit=unit[:40],
        value_type=value_type,
        aggregation=aggregation,
        description=str(new.get("description") or "").strip(),
        source=source[:300],
        license=str(new.get("license") or options.get("license") or "")[:120],
        metadata_complete=bool(unit and source),
        numerator=components["numerator"],
        denominator=components["denominator"],
        weight=components["weight"],
        factor=factor,
    )


# --- parsing -------------------------------------------------------------------


def parse_table(
    path: Path,
    *,
    file_name: str,
    options: dict[str, Any],
    progress: ProgressCallback | None = None,
) -> ParsedDelivery:
    """Validate the whole table against its mapping; problems name line and column."""
    table = table_read(path, file_name, sheet=options.get("sheet") or None)
    problems, key_column, ref_date, columns, specs = _mapping_problems(table, options)
    problems.raise_if_any()
    assert key_column is not None and ref_date is not None
    key_index = table.header.index(key_column)
    decimal = options.get("decimal") or _guess_decimal(table, key_index)
    if decimal not in ("point", "comma"):
        problems.add(
            Problem(
                "Dezimaltrennzeichen muss „point“ (Punkt) oder „comma“ (Komma) sein",
                file_name,
                value=str(decimal),
            )
        )
        problems.raise_if_any()
    decimal_comma = decimal == "comma"
    blanks = blank_meanings(options)

    keyed, padded, levels = _read_keys(table, key_index, problems)
    _check_one_level(levels, problems, file_name=file_name, key_column=key_column)
    level = next(iter(levels), LorUnit.Level.PLANUNGSRAUM)
    delivery = ParsedDelivery(
        variables=specs,
        supplier=str(options.get("supplier") or "").strip()
        or "Tabellenimport (Lieferant nicht angegeben)",
    )
    scheme = scheme_of(options)
    decisions = KeyDecisions(
        known=lor_codes(level=level, scheme=scheme),
        scheme=scheme,
        options=options,
        delivery=delivery,
        problems=problems,
        file_name=file_name,
        column=key_column,
        not_a_target=f"kein Schlüssel der Ebene {LEVEL_LABELS[level]}",
    )
    seen: dict[str, int] = {}
    total = len(keyed)
    for offset, row in enumerate(keyed):
        line, key, cells = row.line, row.key, row.cells
        if progress and offset % 100 == 0:
            progress(offset, total)
        resolved = decisions.resolve(key, line)
        if resolved is None:
            continue
        key = resolved
        if key in seen:
            problems.add(
                Problem(
                    f"Schlüssel {key} doppelt (schon in Zeile {seen[key]})",
                    file_name,
                    line,
                    key_column,
                    key,
                )
            )
            continue
        seen[key] = line
        for column in columns:
            _add_value(
                delivery,
                problems,
                column,
                cells[column.index],
                key=key,
                ref_date=ref_date,
                line=line,
                file_name=file_name,
                decimal_comma=decimal_comma,
                blanks=blanks,
            )
    delivery.rows_read = len(table.rows)
    delivery.key_lines = seen
    # The unknown keys travel with the other problems: one report names all.
    delivery.unknown_keys = decisions.unknown_keys(seen)
    problems.raise_if_any(delivery)
    if padded:
        example_old, example_new = padded[0]
        delivery.warnings.append(
            Problem(
                f"Führende Null bei {len(padded)} Schlüsseln ergänzt (z. B. "
                f"{example_old} → {example_new}; Excel entfernt sie in Zahlenspalten)",
                file_name,
                column=key_column,
            )
        )
    delivery.extra = {"table": {"level": level, "key_column": key_column}}
    if progress:
        progress(total, total)
    return delivery


@dataclass
class _KeyedRow:
    line: int
    key: str
    cells: list[Cell]


def _read_keys(
    table: Table, key_index: int, problems: ProblemList
) -> tuple[list[_KeyedRow], list[tuple[str, str]], dict[str, list[_KeyedRow]]]:
    """Rows with a well-formed key, the restored keys, and the rows per level."""
    file_name, key_column = table.file_name, table.header[key_index]
    keyed: list[_KeyedRow] = []
    padded: list[tuple[str, str]] = []
    levels: dict[str, list[_KeyedRow]] = {}
    for line, cells in table.rows:
        if table.format == "csv" and len(cells) != table.width:
            problems.add(
                Problem(
                    f"{len(cells)} statt {table.width} Felder – Trennzeichen "
                    f"(„{_delimiter_name(table.delimiter)}“) oder Anführungszeichen "
                    "fehlerhaft?",
                    file_name,
                    line=line,
                )
            )
            continue
        cells = cells + [None] * (table.width - len(cells))
        raw_key = cells[key_index]
        key, restored = normalize_key(raw_key)
        level = hierarchy.level_of_key(key)
        if not key:
            problems.add(
                Problem("Schlüssel fehlt", file_name, line, key_column, value="")
            )
            continue
        if level is None:
            problems.add(
                Problem(
                    f"kein LOR-Schlüssel: erwartet werden {KEY_DIGITS} Ziffern "
                    f"({KEY_LEVELS})",
                    file_name,
                    line,
                    key_column,
                    _cell_text(raw_key).strip(),
                )
            )
            continue
        if restored:
            padded.append((_cell_text(raw_key).strip(), key))
        row = _KeyedRow(line, key, cells)
        levels.setdefault(level, []).append(row)
        keyed.append(row)
    return keyed, padded, levels


def _check_one_level(
    levels: dict[str, list[_KeyedRow]],
    problems: ProblemList,
    *,
    file_name: str,
    key_column: str,
) -> None:
    """One level per file: the rows of the rarer levels are named, then refused."""
    if len(levels) < 2:
        return
    main = max(levels, key=lambda lvl: len(levels[lvl]))
    for level, rows in levels.items():
        if level == main:
            continue
        first = rows[0]
        more = [str(row.line) for row in rows[1:6]]
        hint = (
            " – Summenzeile für Berlin? Bitte entfernen"
            if first.key == hierarchy.BERLIN_KEY
            else ""
        )
        problems.add(
            Problem(
                f"Die Schlüsselspalte mischt Ebenen: {len(rows)} "
                f"Schlüssel der Ebene {LEVEL_LABELS[level]}, "
                f"{len(levels[main])} der Ebene {LEVEL_LABELS[main]}; eine "
                "Datei darf nur eine Ebene enthalten"
                + (f" (weitere Zeilen: {', '.join(more)})" if more else "")
                + hint,
                file_name,
                first.line,
                key_column,
                first.key,
            )
        )
    problems.raise_if_any()


def _add_value(
    delivery: ParsedDelivery,
    problems: ProblemList,
    column: _Column,
    cell: Cell,
    *,
    key: str,
    ref_date: date,
    line: int,
    file_name: str,
    decimal_comma: bool,
    blanks: dict[str, str],
) -> None:
    meaning = (
        blank_meaning(cell, blanks) if cell is None or isinstance(cell, str) else None
    )
    if meaning == BLANK_ZERO:
        delivery.rows.append(
            ObservationRow(column.variable, key, ref_date, 0.0, "ok", "")
        )
        return
    if meaning is not None:
        delivery.rows.append(
            ObservationRow(column.variable, key, ref_date, None, meaning, "")
        )
        return
    shown = _cell_text(cell).strip()
    try:
        value = parse_value(cell, decimal_comma=decimal_comma)
    except ValueError:
        hint = ""
        if isinstance(cell, str) and re.fullmatch(r"[+-]?[\d.,]+", shown):
            hint = (
                " (Dezimaltrennzeichen: "
                + ("Komma" if decimal_comma else "Punkt")
                + " gewählt – passt es zur Datei?)"
            )
        problems.add(
            Problem("keine Zahl" + hint, file_name, line, column.name, shown, NUMBER)
        )
        return
    if column.value_type == Variable.ValueType.COUNT:
        if value < 0:
            problems.add(
                Problem(
                    "Anzahl darf nicht negativ sein",
                    file_name,
                    line,
                    column.name,
                    shown,
                    NUMBER,
                )
            )
            return
        if not value.is_integer():
            problems.add(
                Problem(
                    "Anzahl muss eine ganze Zahl sein",
                    file_name,
                    line,
                    column.name,
                    shown,
                    NUMBER,
                )
            )
            return
    delivery.rows.append(
        ObservationRow(column.variable, key, ref_date, value, "ok", "")
    )


def _delimiter_name(delimiter: str) -> str:
    return {";": "Semikolon", ",": "Komma", "\t": "Tabulator"}.get(delimiter, delimiter)


# --- preview -------------------------------------------------------------------


def table_preview(
    path: Path,
    file_name: str,
    options: dict[str, Any] | None = None,
    *,
    earlier: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The first rows of a table and guesses for its mapping, for the preview step.

    ``earlier`` maps column headers to the variables the same district chose for
    them in earlier imports; those are the first suggestions.
    """
    options = options or {}
    table = table_read(path, file_name, sheet=options.get("sheet") or None)
    # A table of the old scheme has its key column too (it is recognised as
    # such later, when its keys are checked).
    known = set(lor_codes()) | set(lor_codes(scheme=LorUnit.Scheme.LOR_2006))
    key_column = _guess_key_column(table, known)
    key_index = table.header.index(key_column) if key_column else None
    catalogue = _catalogue_by_name()
    earlier = {
        header: key for header, key in (earlier or {}).items() if key in catalogue
    }
    columns = []
    for index, name in enumerate(table.header):
        cells = [
            cells[index]
            for _, cells in table.rows
            if index < len(cells) and _cell_text(cells[index]).strip()
        ]
        columns.append(
            {
                "name": name,
                "index": index,
                "is_key": name == key_column,
                "samples": [_cell_text(c) for c in cells[:3]],
                **_column_guess(name, index, cells, catalogue, earlier),
            }
        )
        if name == key_column:  # the keys are no variable
            columns[-1].update(action="ignore", variable="", suggested_by="")
    return {
        "file_name": file_name,
        "format": table.format,
        "encoding": table.encoding,
        "delimiter": _delimiter_name(table.delimiter) if table.delimiter else "",
        "sheet": table.sheet,
        "sheets": table.sheets,
        "header": table.header,
        "rows": [
            [_cell_text(c) for c in (cells + [None] * table.width)[: table.width]]
            for _, cells in table.rows[:PREVIEW_ROWS]
        ],
        "rows_total": len(table.rows),
        "header_line": table.header_line,
        "key_column": key_column,
        "ref_date": _ref_date_in_name(file_name),
        "decimal": _guess_decimal(table, key_index),
        "blanks": _blanks_present(table, key_index),
        "columns": columns,
    }


def _blanks_present(table: Table, key_index: int | None) -> list[str]:
    """Which of "–", "." and empty cells the table has (the user says what they
    mean)."""
    found: set[str] = set()
    for _line, cells in table.rows:
        for index, cell in enumerate(cells):
            if index == key_index or not (cell is None or isinstance(cell, str)):
                continue
            text = "" if cell is None else cell.strip()
            text = "–" if text == "-" else text
            if text in BLANK_TOKENS:
                found.add(text)
        if len(found) == len(BLANK_TOKENS):
            break
    return [token for token in BLANK_TOKENS if token in found]


# Column headers that name a catalogue variable in other words (normalised:
# lower case, umlauts folded, separators as "_"). Share columns never match.
VARIABLE_ALIASES = {
    "E_E": ("gesamt", "insgesamt", "einwohner", "einwohnende", "ew", "ew_gesamt"),
    "E_EW": ("weiblich", "frauen", "einwohnerinnen", "ew_weiblich"),
    "E_EM": ("maennlich", "maenner", "ew_maennlich"),
}


def normalise_header(text: str) -> str:
    text = text.strip().lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


@dataclass(frozen=True)
class _CatalogueEntry:
    key: str
    name: str
    value_type: str
    unit: str


def _catalogue_by_name() -> dict[str, _CatalogueEntry]:
    return {
        key: _CatalogueEntry(key, name, value_type, unit)
        for key, name, value_type, unit in Variable.objects.values_list(
            "key", "name", "value_type", "unit"
        )
    }


def _suggestion(
    name: str,
    value_type: str,
    catalogue: dict[str, _CatalogueEntry],
    earlier: dict[str, str],
) -> tuple[str, str] | None:
    """(variable key, why) for a column header, or None."""
    if name in earlier:
        return earlier[name], "earlier"
    if name in catalogue:
        return name, "key"
    header = normalise_header(name)
    if not header:
        return None
    share = value_type == Variable.ValueType.SHARE

    def fits(entry: _CatalogueEntry) -> bool:
        # A share is no count: "Anteil weiblich" is not E_EW.
        return (entry.value_type == Variable.ValueType.SHARE) == share

    for entry in catalogue.values():
        if header == normalise_header(entry.key) and fits(entry):
            return entry.key, "key"
    for entry in catalogue.values():
        if header == normalise_header(entry.name) and fits(entry):
            return entry.key, "name"
    if not share:
        for key, aliases in VARIABLE_ALIASES.items():
            if header in aliases and key in catalogue and fits(catalogue[key]):
                return key, "alias"
    return None


def _ref_date_in_name(file_name: str) -> date | None:
    match = re.search(r"(\d{4}-\d{2}-\d{2})", file_name)
    return parse_ref_date(match.group(1)) if match else None


def _column_guess(
    name: str,
    index: int,
    cells: list[Cell],
    catalogue: dict[str, _CatalogueEntry],
    earlier: dict[str, str],
) -> dict[str, Any]:
    numbers = []
    for cell in cells[:500]:
        if isinstance(cell, str) and is_suppressed(cell):
            continue
        for comma in (False, True):
            try:
                numbers.append(parse_value(cell, decimal_comma=comma))
                break
            except ValueError:
                continue
    numeric = bool(numbers) and len(numbers) >= 0.9 * len(
        [c for c in cells[:500] if not (isinstance(c, str) and is_suppressed(c))]
    )
    lowered = name.lower()
    if any(hint in lowered for hint in SHARE_HINTS):
        value_type, aggregation, unit = "share", "none", "%"
    elif numeric and all(n >= 0 and n.is_integer() for n in numbers):
        value_type, aggregation, unit = "count", "sum", ""
    else:
        value_type, aggregation, unit = "amount", "none", ""
    suggested = _suggestion(name, value_type, catalogue, earlier)
    return {
        "numeric": numeric,
        "action": "existing" if suggested else "ignore",
        "variable": suggested[0] if suggested else "",
        "suggested_by": suggested[1] if suggested else "",
        "new_key": variable_key_suggestion(name, index),
        "new_name": name,
        "value_type": value_type,
        "aggregation": aggregation,
        "unit": unit,
    }
