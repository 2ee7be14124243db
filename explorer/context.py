"""Context for a selection's table: ranks, the parent unit's and Berlin's values."""

from __future__ import annotations

from datapool.models import Variable
from datapool.selectors import level_parse, observation_values
from lor import hierarchy
from lor.hierarchy import BERLIN, BEZIRK
from lor.models import BERLIN_CODE, LorUnit

from .selection import SelectionResult


def _context_parent_level(level: str) -> str | None:
    """The level whose values a table shows beside its units' own.

    Berlin's value is shown for every level anyway, so Bezirke show no parent.
    """
    if level in (BERLIN, BEZIRK) or level not in hierarchy.LEVELS:
        return None
    return hierarchy.parent_level(level)


def unit_ranks(values: dict[str, float | None]) -> dict[str, int]:
    """Code → rank: 1 = highest value; ties share a rank; no value, no rank.

    The one ranking of units: the explorer's table and the profiles' indicator
    rows (rank among the district's Bezirksregionen) both use it.
    """
    ordered = sorted(((v, c) for c, v in values.items() if v is not None), reverse=True)
    ranks: dict[str, int] = {}
    previous, rank = None, 0
    for position, (value, code) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[code] = rank
    return ranks


def selection_context(*, result: SelectionResult) -> dict:
    """Per column: Berlin's value; per unit: parent value, rank in Berlin and Bezirk.

    Parent values are read for the result's viewer, like its cells.
    """
    viewer = result.viewer
    level, area_set = level_parse(result.selection.level)
    parent_level = None if area_set else _context_parent_level(level)
    variables = {
        v.key: v
        for v in Variable.objects.filter(key__in=[c.key for c in result.columns])
    }
    context: dict = {"columns": {}}
    for column in result.columns:
        values = {code: cell.value for code, cell in result.cells[column.key].items()}
        in_view = {unit.code: values.get(unit.code) for unit in result.units}
        by_bezirk: dict[str, dict[str, float | None]] = {}
        for code, value in in_view.items():
            bezirk = hierarchy.key_prefix(code, BEZIRK)
            by_bezirk.setdefault(bezirk, {})[code] = value
        district_ranks: dict[str, int] = {}
        for group in by_bezirk.values():
            district_ranks.update(unit_ranks(group))
        entry = {
            "rank_berlin": unit_ranks(in_view),
            "rank_bezirk": district_ranks
            if level not in (BEZIRK, BERLIN, LorUnit.Level.CUSTOM)
            else {},
            "berlin": None,
            "parent": {},
        }
        variable = variables.get(column.key)
        if variable is not None and column.date is not None:
            berlin = observation_values(
                variable=variable, level=BERLIN, ref_date=column.date, viewer=viewer
            )
            entry["berlin"] = berlin[0].value if berlin else None
            if parent_level:
                parents = {
                    r.code: r.value
                    for r in observation_values(
                        variable=variable,
                        level=parent_level,
                        ref_date=column.date,
                        viewer=viewer,
                    )
                }
                entry["parent"] = {
                    unit.code: parents.get(
                        hierarchy.key_prefix(unit.code, parent_level)
                    )
                    for unit in result.units
                }
        context["columns"][column.key] = entry
    context["berlin_code"] = BERLIN_CODE
    context["parent_level"] = parent_level
    return context
