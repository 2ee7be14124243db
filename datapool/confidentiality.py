"""Statistical confidentiality: which values a viewer may see, applied at read time.

Every value PRISMA shows (maps, tables, charts, exports, profiles, the API) is read
through ``datapool.selectors.observation_values``, which passes its rows and the
viewer through ``values_protect`` below. The stored observations stay raw, so
administrators and the data coordinator of the owning district see everything;
everybody else, and every caller that names no viewer (Celery tasks, snapshots),
gets the protected view.

Rules (``Variable.confidentiality``):

* ``small_counts``: counts greater than 0 and below ``confidentiality_threshold``
  (default 3, i.e. 1 and 2) are suppressed at every level but Berlin.
* ``none``: shown as delivered.
* ``auto`` (default): counts uploaded by a district office (``Variable.district``)
  are treated as ``small_counts``, because they come from internal registers
  nobody anonymised; everything else as ``none``, because the AfS and the Senate
  publish the EWR matrix and the MSS already anonymised (the AfS blanks small
  cells itself) and computed shares have no persons of their own.

Primary suppression hides the small cells. Secondary suppression makes sure no
hidden cell can be recovered by subtracting shown cells from a shown total, in the
LOR hierarchy Planungsraum → Bezirksregion → Prognoseraum → Bezirk → Berlin,
where every total stays shown (Berlin's equals the published total): within each
parent either no child or at least two children are hidden, a hidden parent keeps
at least one hidden child (else it equals the sum of its shown children), and the
complementary cells are the smallest non-zero values (a zero complement would
leave a protection interval of one). A custom area containing a hidden
Planungsraum is hidden. Shown totals built over hidden cells carry
``contains_suppressed``. Shares, rates and indicators are hidden wherever one of
their inputs is hidden, so a shown denominator cannot give the numerator back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Max, Q
from django.utils.translation import gettext

from lor import hierarchy
from lor.models import CustomAreaMember, LorUnit

from .models import Confidentiality, Coverage, Indicator, Observation, Variable

SHOWN = ("ok", "estimated")

ACCESS_FULL = "full"
ACCESS_PROTECTED = "protected"


def confidential_q() -> Q:
    """Variables whose own rule suppresses small counts (a filter on ``Variable``)."""
    return Q(confidentiality=Confidentiality.SMALL_COUNTS) | Q(
        confidentiality=Confidentiality.AUTO,
        value_type=Variable.ValueType.COUNT,
        district__isnull=False,
    )


def variable_is_confidential(*, variable: Variable) -> bool:
    """Whether the variable's own rule suppresses small counts."""
    if variable.confidentiality == Confidentiality.SMALL_COUNTS:
        return True
    return (
        variable.confidentiality == Confidentiality.AUTO
        and variable.value_type == Variable.ValueType.COUNT
        and variable.district_id is not None
    )


def confidentiality_full_access(*, user: Any, variable: Variable) -> bool:
    """Whether the user sees the variable's raw values: admins, owning coordinator."""
    from core.access import Role, user_bezirk_code, user_role

    role = user_role(user)
    if role == Role.ADMIN:
        return True
    if role == Role.COORDINATOR and variable.district_id is not None:
        code = user_bezirk_code(user)
        return code is not None and variable.district.code == code
    return False


def viewer_access_class(*, user: Any) -> str:
    """A key that is equal for viewers who see the same values (for caches)."""
    from core.access import Role, user_bezirk_code, user_role

    role = user_role(user)
    if role == Role.ADMIN:
        return ACCESS_FULL
    if role == Role.COORDINATOR:
        return f"coordinator:{user_bezirk_code(user) or '-'}"
    return ACCESS_PROTECTED


@dataclass
class Pattern:
    """Hidden and flagged LOR unit keys of one variable at one reference date."""

    hidden: set[str] = field(default_factory=set)
    primary: set[str] = field(default_factory=set)
    flagged: set[str] = field(default_factory=set)


def _parent_code(code: str, level: str) -> str:
    return hierarchy.ancestor_key(code, _parent_level(level))


def _parent_level(level: str) -> str:
    parent = hierarchy.parent_level(level)
    if parent is None:
        raise ValueError("Berlin has no parent")
    return parent


def suppression_pattern(*, variable: Variable, ref_date: date) -> Pattern:
    """Primary and secondary suppression of one variable over the LOR hierarchy."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT u.code, u.level, o.value, o.status
            FROM {Observation._meta.db_table} o
            JOIN {LorUnit._meta.db_table} u ON u.id = o.unit_id
            WHERE o.variable_id = %s AND o.ref_date = %s AND u.scheme = %s
            """,
            [variable.id, ref_date, LorUnit.Scheme.LOR_2021],
        )
        rows = cursor.fetchall()
    cells = {
        code: (level, value) for code, level, value, status in rows if status in SHOWN
    }
    return pattern_compute(cells=cells, threshold=variable.confidentiality_threshold)


def pattern_compute(*, cells: dict[str, tuple[str, float]], threshold: int) -> Pattern:
    """Suppression of shown cells {code: (level, value)}, see the module docstring.

    Only cells with a value enter the sums PRISMA publishes (an aggregate over a
    suppressed or missing component leaves it out), so only they can be
    differenced or serve as complements.
    """
    pattern = Pattern()
    pattern.primary = {
        code
        for code, (level, value) in cells.items()
        if level != "berlin" and 0 < value < threshold
    }
    hidden = set(pattern.primary)
    children: dict[str, list[str]] = {}
    for code, (level, _value) in cells.items():
        if level == "berlin":
            continue
        parent = _parent_code(code, level)
        if parent in cells:
            children.setdefault(parent, []).append(code)
    parents = sorted(children, key=lambda c: (hierarchy.level_index(cells[c][0]), c))

    def complement(candidates: list[str]) -> str:
        # The smallest non-zero value; a zero only when nothing else is left.
        return min(candidates, key=lambda c: (cells[c][1] == 0, cells[c][1], c))

    changed = bool(hidden)
    while changed:
        changed = False
        for parent in parents:
            kids = children[parent]
            n_hidden = sum(1 for k in kids if k in hidden)
            shown = [k for k in kids if k not in hidden]
            if parent in hidden:
                # A hidden total with all children shown is their sum.
                if n_hidden == 0 and shown:
                    hidden.add(complement(shown))
                    changed = True
            elif n_hidden == 1:
                if shown:
                    hidden.add(complement(shown))
                elif cells[parent][0] != "berlin":
                    # An only child equals its parent: hide the parent too.
                    hidden.add(parent)
                changed = True
    pattern.hidden = hidden
    for code in hidden:
        level = cells[code][0]
        while level != "berlin":
            code, level = _parent_code(code, level), _parent_level(level)
            if code not in hidden:
                pattern.flagged.add(code)
    return pattern


def _custom_hidden(*, area_set: int, planungsraeume: set[str]) -> set[str]:
    """Custom areas of the set that contain one of these Planungsräume."""
    if not planungsraeume:
        return set()
    return set(
        CustomAreaMember.objects.filter(
            area__area_set_id=area_set,
            planungsraum__code__in=planungsraeume,
            planungsraum__scheme=LorUnit.Scheme.LOR_2021,
        ).values_list("area__code", flat=True)
    )


def governing_variables(*, variable: Variable) -> list[Variable]:
    """The variables with a rule whose suppression this variable's values follow.

    The variable itself if it has a rule, and every confidential input of a ratio
    or indicator (directly or through another ratio or indicator).
    """
    confidential = {
        v.id: v
        for v in Variable.objects.filter(confidential_q()).select_related("district")
    }
    if not confidential:
        return []
    out: dict[int, Variable] = {}
    seen: set[int] = set()
    todo = [variable]
    while todo:
        current = todo.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        if current.id in confidential:
            out[current.id] = confidential[current.id]
        inputs = [i for i in (current.numerator_id, current.denominator_id) if i]
        formula = (
            Indicator.objects.filter(variable_id=current.id)
            .values_list("formula", flat=True)
            .first()
        )
        keys: list[str] = []
        if formula:
            from .services.formula import FormulaError, formula_variables

            try:
                keys = formula_variables(formula)
            except FormulaError:
                keys = []
        if inputs or keys:
            todo.extend(
                Variable.objects.filter(Q(id__in=inputs) | Q(key__in=keys)).exclude(
                    id__in=seen
                )
            )
    return list(out.values())


def _input_date(*, variable: Variable, ref_date: date) -> date | None:
    """The input's reference date an indicator of ``ref_date`` was computed from."""
    return Coverage.objects.filter(variable=variable, ref_date__lte=ref_date).aggregate(
        latest=Max("ref_date")
    )["latest"]


def values_protect(
    *,
    variable: Variable,
    level: str,
    area_set: int | None,
    ref_date: date,
    rows: Sequence[Any],
    viewer: Any,
) -> list[Any]:
    """The rows as the viewer may see them: hidden cells suppressed, totals flagged.

    ``rows`` are ``ValueRow``-like dataclasses (code, value, status, note,
    contains_suppressed). ``viewer=None`` is the protected view.
    """
    governing = [
        g
        for g in governing_variables(variable=variable)
        if not confidentiality_full_access(user=viewer, variable=g)
    ]
    if not governing:
        return list(rows)
    hidden: set[str] = set()
    flagged: set[str] = set()
    for gov in governing:
        gov_date = (
            ref_date
            if gov.id == variable.id
            else _input_date(variable=gov, ref_date=ref_date)
        )
        if gov_date is None:
            continue
        pattern = suppression_pattern(variable=gov, ref_date=gov_date)
        if area_set is not None:
            hidden |= _custom_hidden(
                area_set=area_set,
                planungsraeume={
                    c
                    for c in pattern.hidden
                    if hierarchy.level_of_key(c) == hierarchy.PLANUNGSRAUM
                },
            )
        else:
            hidden |= pattern.hidden
            flagged |= pattern.flagged
    if not hidden:
        return list(rows)
    note_hidden = gettext("suppressed (statistical confidentiality)")
    note_flag = gettext("contains suppressed values")
    out = []
    for row in rows:
        if row.code in hidden and row.status in SHOWN:
            row = replace(row, value=None, status="suppressed", note=note_hidden)
        elif row.code in flagged and row.status in SHOWN:
            note = f"{row.note}; {note_flag}" if row.note else note_flag
            row = replace(row, contains_suppressed=True, note=note)
        out.append(row)
    return out
