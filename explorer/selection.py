"""A selection of the explorer: columns × units of one level at one date, filtered.

The same object backs the map, the table, charts, exports and saved queries; its
values come from the selectors behind ``/api/values/``, so every view shows the
same numbers. Suppressed values stay ``None`` with status ``suppressed``; a
derived column over a suppressed input is suppressed too, and filters never let a
suppressed value decide (a unit whose condition cannot be evaluated does not match).

Its level, date and numbers follow the rules of ``datapool.api_params`` (the
parameters of ``/api/values/``): no NUL characters, finite thresholds, a level
whose units exist, and a date for which at least one column has values. A
derived column's key never hides another column.
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, NamedTuple

from django.utils.translation import gettext

from datapool.api_params import (
    ParamError,
    date_parse,
    level_check,
    level_clean,
    number_parse,
    texts_check,
)
from datapool.formula import FormulaError, formula_evaluate, formula_variables
from datapool.models import Variable
from datapool.selectors import (
    ValuesQueryError,
    level_parse,
    observation_values,
    ref_date_check,
    values_answer,
    variable_dates,
)
from lor.models import LorUnit

OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}
MAX_COLUMNS = 12
# A derived column's key: usable in conditions and free of the "__" of the row
# keys ("E_E__status"). Exports add "<key>_status" beside each column, and every
# row has a code, a name, a match flag and in geodata a geometry.
DERIVED_KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")
ROW_KEYS = frozenset({"code", "name", "match", "geometry"})


class SelectionError(ValueError):
    """The selection cannot be evaluated; the message says why, in German."""


@dataclass
class DerivedColumn:
    key: str
    label: str
    formula: str


@dataclass
class Condition:
    column: str
    op: str
    value: float


@dataclass
class Selection:
    level: str
    columns: list[str]
    date: date | None = None  # None: the latest date of each column
    derived: list[DerivedColumn] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    within: str = ""  # only units whose key starts with this (e.g. a Bezirk "03")

    def as_dict(self) -> dict:
        data = asdict(self)
        data["date"] = self.date.isoformat() if self.date else None
        return data

    @classmethod
    def parse(cls, raw: str | dict | Selection | None) -> Selection:
        """A selection from a request: JSON text of ``as_dict()``, or that dict.

        Raises ``SelectionError`` with a German message for anything else: no
        selection, no JSON object, a missing key, a value of the wrong type or an
        unknown level. Whether the selection can be evaluated is not checked.
        """
        if isinstance(raw, Selection):
            raw = raw.as_dict()
        if raw is None or raw == "":
            raise SelectionError(gettext("The parameter „selection“ is missing."))
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except (ValueError, RecursionError) as exc:  # RecursionError: [[[[…
                raise SelectionError(gettext("The selection is not valid.")) from exc
        if not isinstance(raw, dict):
            raise SelectionError(gettext("The selection must be an object."))
        try:
            texts_check(raw)
            selection = cls.from_dict(raw)
            level_check(selection.level)
        except KeyError as exc:
            raise SelectionError(
                gettext("The selection lacks %(key)s.") % {"key": exc}
            ) from exc
        except (SelectionError, ParamError) as exc:
            raise SelectionError(str(exc)) from exc
        except (TypeError, ValueError, RecursionError) as exc:
            raise SelectionError(gettext("The selection is not valid.")) from exc
        return selection

    @classmethod
    def from_dict(cls, data: dict) -> Selection:
        """Raises ValueError, KeyError or TypeError for anything but a selection."""
        if not isinstance(data, dict):
            raise TypeError("Eine Auswahl ist ein JSON-Objekt.")
        raw_date = data.get("date")
        # Coerced here, so that JSON of the wrong types (a number as level, null
        # as a condition's value) is refused instead of failing during evaluation.
        return cls(
            level=str(data["level"]),
            columns=[str(c) for c in data.get("columns") or []],
            date=_date(raw_date) if raw_date else None,
            derived=[
                DerivedColumn(
                    key=str(d["key"]), label=str(d["label"]), formula=str(d["formula"])
                )
                for d in data.get("derived") or []
            ],
            conditions=[
                Condition(
                    column=str(c["column"]),
                    op=str(c["op"]),
                    value=_number(c["value"], column=str(c["column"])),
                )
                for c in data.get("conditions") or []
            ],
            within=str(data.get("within") or ""),
        )


def _date(value: Any) -> date:
    try:
        return date_parse(value)
    except ParamError as exc:
        # Not the parameter's own message: the date is one part of the selection.
        raise ValueError(str(exc)) from exc


def _number(value: Any, *, column: str) -> float:
    # JSON true is no threshold, and neither is a list or an object.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("Eine Bedingung braucht einen Zahlenwert.")
    try:
        return number_parse(value)
    except ParamError as exc:
        raise SelectionError(
            gettext("Condition on %(column)s: %(error)s")
            % {"column": column[:40], "error": exc.message}
        ) from exc


class SelectionUnit(NamedTuple):
    """One unit (row) of a selection: its LOR key and name."""

    code: str
    name: str


@dataclass
class Cell:
    value: float | None
    status: str
    incomplete: bool = False
    contains_suppressed: bool = False


@dataclass
class Column:
    key: str
    label: str
    unit: str
    date: date | None
    derived: bool = False
    # Set where the column holds the change since this earlier date (its unit
    # is then that of the change: per cent, or points for shares).
    compare: date | None = None


@dataclass
class SelectionResult:
    selection: Selection
    columns: list[Column]
    units: list[SelectionUnit]  # in key order
    cells: dict[str, dict[str, Cell]]  # column key → unit code → cell
    matches: list[str]  # unit codes meeting every condition
    # Whom the values were read for; context values are read for the same viewer.
    viewer: Any = None
    # The earlier date of a change selection (``selection_change_evaluate``).
    compare: date | None = None

    def rows(self) -> list[dict]:
        """One dict per unit: code, name, then value and status per column."""
        out = []
        for code, name in self.units:
            row: dict = {"code": code, "name": name, "match": code in self.matches}
            for column in self.columns:
                cell = self.cells[column.key].get(code) or Cell(None, "missing")
                row[column.key] = cell.value
                row[f"{column.key}__status"] = cell.status
            out.append(row)
        return out


def selection_evaluate(*, selection: Selection, viewer: Any = None) -> SelectionResult:
    """Values of all columns for the level's units, derived columns and matches.

    Values are those ``viewer`` may see (``None``: the protected view, see
    ``datapool.confidentiality``).
    """
    if not selection.columns:
        raise SelectionError(
            gettext("Please choose at least one variable or indicator.")
        )
    if len(selection.columns) + len(selection.derived) > MAX_COLUMNS:
        raise SelectionError(
            gettext("At most %(n)d columns are possible.") % {"n": MAX_COLUMNS}
        )
    variables = {v.key: v for v in Variable.objects.filter(key__in=selection.columns)}
    unknown = [k for k in selection.columns if k not in variables]
    if unknown:
        raise SelectionError(
            gettext("Unknown variable(s): %(keys)s") % {"keys": ", ".join(unknown)}
        )
    _column_keys_check(selection)
    try:
        level_clean(selection.level)
    except ParamError as exc:
        raise SelectionError(str(exc)) from exc
    level, _set = level_parse(selection.level)
    columns: list[Column] = []
    cells: dict[str, dict[str, Cell]] = {}
    units: list[SelectionUnit] = []
    dates = {
        key: variable_dates(variable=variables[key], level=level)
        for key in selection.columns
    }
    if selection.date:
        # As /api/values/: a date without values is refused, not shown empty;
        # at least one column must have values then, the others may be missing.
        try:
            ref_date_check(
                ref_date=selection.date,
                dates=[d for column_dates in dates.values() for d in column_dates],
            )
        except ValuesQueryError as exc:
            raise SelectionError(exc.message) from exc
    for key in selection.columns:
        variable = variables[key]
        ref_date = selection.date or (dates[key][-1] if dates[key] else None)
        rows = (
            observation_values(
                variable=variable,
                level=selection.level,
                ref_date=ref_date,
                viewer=viewer,
            )
            if ref_date
            else []
        )
        if not units and rows:
            units = [SelectionUnit(r.code, r.name) for r in rows]
        cells[key] = {
            r.code: Cell(r.value, r.status, r.incomplete, r.contains_suppressed)
            for r in rows
        }
        columns.append(Column(key, variable.name, variable.unit, ref_date))
    if not units:
        units = _units_of_level(selection.level)
    if selection.within:
        units = [u for u in units if u.code.startswith(selection.within)]
    for derived in selection.derived:
        _add_derived(derived, columns, cells, units)
    known = {c.key for c in columns}
    for condition in selection.conditions:
        if condition.column not in known:
            raise SelectionError(f"Bedingung auf unbekannte Spalte {condition.column}.")
        if condition.op not in OPERATORS:
            raise SelectionError(f"Unbekannter Vergleich „{condition.op}“.")
    matches = [
        unit.code
        for unit in units
        if all(_holds(cells[c.column].get(unit.code), c) for c in selection.conditions)
    ]
    return SelectionResult(selection, columns, units, cells, matches, viewer)


def selection_change_evaluate(
    *, selection: Selection, compare: date, viewer: Any = None
) -> SelectionResult:
    """The selection's units with each column's change since ``compare``.

    The changes are those of ``/api/values/?compare=`` (the same selector), so a
    change map's export holds the numbers the map shows: per cent, or points for
    shares, ``estimated`` where either end was converted from LOR 2006. A column
    without values at either date stays empty; if no column has a change, the
    API's message says why. Derived columns and conditions work on values of
    one date and are refused.
    """
    if selection.derived or selection.conditions:
        raise SelectionError(
            gettext(
                "A change since an earlier date can be exported for variables "
                "only, without derived columns or conditions."
            )
        )
    base = selection_evaluate(selection=selection, viewer=viewer)
    columns: list[Column] = []
    cells: dict[str, dict[str, Cell]] = {}
    errors: list[str] = []
    for column in base.columns:
        cells[column.key] = {}
        unit = ""
        if column.date is None:
            errors.append(gettext("For this comparison date there are no values."))
        else:
            try:
                answer = values_answer(
                    user=viewer,
                    variable_key=column.key,
                    level=selection.level,
                    ref_date=column.date,
                    compare=compare,
                )
            except ValuesQueryError as exc:
                errors.append(exc.message)
            except Variable.DoesNotExist as exc:  # hidden from this viewer
                raise SelectionError(
                    gettext("Unknown variable(s): %(keys)s") % {"keys": column.key}
                ) from exc
            else:
                unit = answer["change_unit"]
                cells[column.key] = {
                    r["code"]: Cell(r["value"], r["status"], r["incomplete"])
                    for r in answer["results"]
                }
        columns.append(
            Column(column.key, column.label, unit, column.date, compare=compare)
        )
    if len(errors) == len(columns):
        raise SelectionError(errors[0])
    return SelectionResult(
        selection, columns, base.units, cells, base.matches, viewer, compare
    )


# The LOR terms are German in either language, as on the pages.
LEVEL_PLURALS = {
    "bezirk": "Bezirke",
    "prognoseraum": "Prognoseräume",
    "bezirksregion": "Bezirksregionen",
    "planungsraum": "Planungsräume",
}


def _column_keys_check(selection: Selection) -> None:
    """``SelectionError`` if a column is chosen twice, or a derived column's key is
    unusable or already taken."""

    def names(key: str) -> set[str]:
        return {key, f"{key}_status"}

    taken = set(ROW_KEYS)
    for key in selection.columns:
        if names(key) & taken:
            raise SelectionError(
                gettext("The column %(key)s is chosen twice.") % {"key": key}
            )
        taken |= names(key)
    for derived in selection.derived:
        if not DERIVED_KEY_RE.fullmatch(derived.key):
            raise SelectionError(
                gettext(
                    "The derived column „%(label)s“ needs a key of letters, digits "
                    "and single underscores, starting with a letter."
                )
                % {"label": derived.label[:40]}
            )
        if names(derived.key) & taken:
            raise SelectionError(
                gettext(
                    "The key %(key)s of the derived column „%(label)s“ is taken "
                    "already; please choose another key."
                )
                % {"label": derived.label[:40], "key": derived.key}
            )
        taken |= names(derived.key)


def selection_scope(*, selection: Selection) -> str:
    """„Planungsräume in Friedrichshain-Kreuzberg“ if restricted to a unit, else ""."""
    if not selection.within:
        return ""
    base, _set = level_parse(selection.level)
    units = LEVEL_PLURALS.get(base, "Gebiete")
    parent = (
        LorUnit.objects.filter(scheme=LorUnit.Scheme.LOR_2021, code=selection.within)
        .values_list("name", flat=True)
        .first()
    )
    if parent is None:
        return f"{units} mit Schlüssel {selection.within}…"
    return f"{units} in {parent}"


def _units_of_level(level: str) -> list[SelectionUnit]:
    base, area_set = level_parse(level)
    qs = LorUnit.objects.filter(level=base)
    if area_set:
        qs = qs.filter(area_set_id=area_set)
    else:
        qs = qs.filter(scheme=LorUnit.Scheme.LOR_2021)
    return [
        SelectionUnit(code, name)
        for code, name in qs.order_by("code").values_list("code", "name")
    ]


def _add_derived(derived, columns, cells, units) -> None:
    try:
        inputs = formula_variables(derived.formula)
    except FormulaError as exc:
        raise SelectionError(
            gettext("Column “%(label)s”: %(error)s")
            % {"label": derived.label, "error": exc}
        ) from exc
    missing = [k for k in inputs if k not in cells]
    if missing:
        raise SelectionError(
            gettext(
                "Column “%(label)s” uses %(keys)s; please add these variable(s) "
                "as columns first."
            )
            % {"label": derived.label, "keys": ", ".join(missing)}
        )
    column_cells: dict[str, Cell] = {}
    for unit in units:
        parts = [cells[k].get(unit.code) or Cell(None, "missing") for k in inputs]
        if any(p.status == "suppressed" for p in parts):
            column_cells[unit.code] = Cell(None, "suppressed")
            continue
        value = formula_evaluate(
            derived.formula, {k: p.value for k, p in zip(inputs, parts, strict=True)}
        )
        column_cells[unit.code] = Cell(
            value,
            "ok" if value is not None else "missing",
            any(p.incomplete for p in parts),
        )
    cells[derived.key] = column_cells
    columns.append(Column(derived.key, derived.label, "", None, derived=True))


def _holds(cell: Cell | None, condition: Condition) -> bool:
    if cell is None or cell.value is None:
        return False
    return OPERATORS[condition.op](cell.value, condition.value)
