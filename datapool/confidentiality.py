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
hidden cell can be recovered or narrowed from the shown cells and totals, in the
LOR hierarchy Planungsraum → Bezirksregion → Prognoseraum → Bezirk → Berlin,
where every total stays shown if it can (Berlin's equals the published total).
A quick rule comes first: within each parent either no child or at least two
children are hidden, a hidden parent keeps at least one hidden child (else it
equals the sum of its shown children), and the complementary cells are the
smallest non-zero values (a zero complement would leave a protection interval
of one). An LP audit then proves it (``datapool.suppression_audit``): the
interval an attacker derives for each primary cell from everything shown, and
from values pinned answers published earlier (``PublishedCell``) that the data
still hold, must reach the threshold and one below the value, else further
complements are hidden — Berlin too, as a last resort, when a district's whole
total is small. See docs/confidentiality.md. A custom area containing a hidden
Planungsraum is hidden. Shown totals built over hidden cells carry
``contains_suppressed``. Shares, rates and indicators are hidden wherever one of
their inputs is hidden, so a shown denominator cannot give the numerator back.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Max, Q
from django.utils.translation import gettext

from lor import hierarchy
from lor.models import CustomAreaMember, LorUnit

from .formula import FormulaError, formula_variables
from .memo import versioned
from .models import (
    Confidentiality,
    Coverage,
    Indicator,
    Observation,
    PublishedCell,
    Variable,
)
from .suppression_audit import TOLERANCE, Equation, complements_add

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
    # Primary cells no pattern can protect any more (already published).
    exposed: set[str] = field(default_factory=set)


def _parent_code(code: str, level: str) -> str:
    return hierarchy.ancestor_key(code, _parent_level(level))


def _parent_level(level: str) -> str:
    parent = hierarchy.parent_level(level)
    if parent is None:
        raise ValueError("Berlin has no parent")
    return parent


def suppression_pattern(*, variable: Variable, ref_date: date) -> Pattern:
    """Primary and secondary suppression of one variable over the LOR hierarchy.

    Audited by LP only where something is hidden; the result is cached in the
    process by content (cells, threshold, published values), so a new import, a
    correction or a new pin computes afresh and nothing needs invalidating.
    """
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
    threshold = variable.confidentiality_threshold
    if not any(
        lvl != hierarchy.BERLIN and 0 < v < threshold for lvl, v in cells.values()
    ):
        return Pattern()
    known, sums = published_knowledge(variable=variable, ref_date=ref_date, cells=cells)
    key = (threshold, frozenset(cells.items()), frozenset(known), frozenset(sums))
    pattern = _PATTERN_CACHE.get(key)
    if pattern is None:
        pattern = pattern_compute(
            cells=cells, threshold=threshold, known=known, published_sums=sums
        )
        with _PATTERN_CACHE_LOCK:
            if len(_PATTERN_CACHE) >= _PATTERN_CACHE_SIZE:
                _PATTERN_CACHE.pop(next(iter(_PATTERN_CACHE)))
            _PATTERN_CACHE[key] = pattern
    return pattern


# Patterns by content; a few hundred (variable, date) pairs per worker process.
_PATTERN_CACHE: dict[tuple, Pattern] = {}
_PATTERN_CACHE_SIZE = 512
_PATTERN_CACHE_LOCK = threading.Lock()


def published_knowledge(
    *, variable: Variable, ref_date: date, cells: dict[str, tuple[str, float]]
) -> tuple[set[str], list[Equation]]:
    """What earlier publications (pinned answers) tell about the current cells.

    LOR cells whose published value the current data still hold are known;
    a published custom area whose value is still the sum of its Planungsräume
    gives an equation over them. A value that changed since tells nothing sure
    about the current data.
    """
    published = list(
        PublishedCell.objects.filter(variable=variable, ref_date=ref_date).values_list(
            "unit_id", "unit__code", "unit__scheme", "value"
        )
    )
    known: set[str] = set()
    custom: dict[int, set[float]] = {}
    for unit_id, code, scheme, value in published:
        if scheme == LorUnit.Scheme.CUSTOM:
            custom.setdefault(unit_id, set()).add(value)
        elif code in cells and abs(cells[code][1] - value) <= TOLERANCE:
            known.add(code)
    sums: list[Equation] = []
    if custom:
        members: dict[int, list[str]] = {}
        for area_id, code in CustomAreaMember.objects.filter(
            area_id__in=custom, planungsraum__scheme=LorUnit.Scheme.LOR_2021
        ).values_list("area_id", "planungsraum__code"):
            if code in cells:
                members.setdefault(area_id, []).append(code)
        for area_id, values in custom.items():
            codes = sorted(members.get(area_id, []))
            total = sum(cells[c][1] for c in codes)
            if codes and any(abs(total - v) <= TOLERANCE for v in values):
                sums.append(Equation(tuple((c, 1.0) for c in codes), total))
    return known, sums


def _children(cells: dict[str, tuple[str, float]]) -> dict[str, list[str]]:
    """The cells below each cell whose parent is among the cells too."""
    children: dict[str, list[str]] = {}
    for code, (level, _value) in cells.items():
        if level == hierarchy.BERLIN:
            continue
        parent = _parent_code(code, level)
        if parent in cells:
            children.setdefault(parent, []).append(code)
    return children


def hierarchy_equations(*, cells: dict[str, tuple[str, float]]) -> list[Equation]:
    """parent − Σ children = 0 for every parent whose value is its children's sum.

    Only cells with a value enter the sums PRISMA publishes; a parent delivered
    directly that is not the sum of its children gives the attacker no equation.
    """
    children = _children(cells)
    equations = []
    for parent, kids in sorted(children.items()):
        total = cells[parent][1]
        if abs(total - sum(cells[k][1] for k in kids)) <= TOLERANCE * max(1, total):
            equations.append(
                Equation(((parent, 1.0), *((k, -1.0) for k in sorted(kids))))
            )
    return equations


def pattern_compute(
    *,
    cells: dict[str, tuple[str, float]],
    threshold: int,
    known: Collection[str] = (),
    published_sums: Sequence[Equation] = (),
    audit: bool = True,
) -> Pattern:
    """Suppression of shown cells {code: (level, value)}, see the module docstring.

    Only cells with a value enter the sums PRISMA publishes (an aggregate over a
    suppressed or missing component leaves it out), so only they can be
    differenced or serve as complements. ``known`` cells hold a value an earlier
    publication showed (so they are no complement), ``published_sums`` are
    further published equations over the cells (custom areas of pinned answers).
    Ends after at most one round per cell; every primary cell's interval meets
    the protection level of ``datapool.suppression_audit`` or it is ``exposed``.
    ``audit=False`` stops after the quick rule (unproven; for benchmarks only).
    """
    pattern = Pattern()
    pattern.primary = {
        code
        for code, (level, value) in cells.items()
        if level != hierarchy.BERLIN and 0 < value < threshold
    }
    if not pattern.primary:
        return pattern
    known = set(known)
    hidden = set(pattern.primary)
    children = _children(cells)
    parents = sorted(children, key=lambda c: (hierarchy.level_index(cells[c][0]), c))

    def complement(candidates: list[str]) -> str | None:
        # The smallest non-zero value; a zero only when nothing else is left.
        # A value already published is known: hiding it protects nothing.
        candidates = [c for c in candidates if c not in known]
        if not candidates:
            return None
        return min(candidates, key=lambda c: (cells[c][1] == 0, cells[c][1], c))

    # The quick rule first (one or none hidden per parent); every pass that
    # changes something hides one more cell, so at most len(cells) passes.
    for _pass in range(len(cells) + 1):
        changed = False
        for parent in parents:
            kids = children[parent]
            n_hidden = sum(1 for k in kids if k in hidden)
            shown = [k for k in kids if k not in hidden]
            choice = None
            if parent in hidden:
                # A hidden total with all children shown is their sum.
                if n_hidden == 0:
                    choice = complement(shown)
            elif n_hidden == 1:
                choice = complement(shown)
                if choice is None and cells[parent][0] != hierarchy.BERLIN:
                    # An only child equals its parent: hide the parent too.
                    choice = parent if parent not in known else None
            if choice is not None:
                hidden.add(choice)
                changed = True
        if not changed:
            break
    # Then the proof: the LP audit adds complements until every interval holds.
    if audit:
        hidden, pattern.exposed = complements_add(
            values={code: value for code, (_level, value) in cells.items()},
            levels={code: level for code, (level, _value) in cells.items()},
            hidden=hidden,
            primary=pattern.primary,
            known=known,
            equations=[*hierarchy_equations(cells=cells), *published_sums],
            threshold=threshold,
            rank=lambda level: -hierarchy.level_index(level),
            last_resort=hierarchy.BERLIN_KEY if hierarchy.BERLIN_KEY in cells else None,
        )
    pattern.hidden = hidden
    for code in hidden:
        level = cells[code][0]
        while level != hierarchy.BERLIN:
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
    or indicator (directly or through another ratio or indicator). Kept per
    Datenpool version within cached API requests (rules, inputs and formulas
    are part of that version).
    """
    return list(
        versioned(
            ("governing_variables", variable.id),
            lambda: tuple(_governing_variables(variable)),
        )
    )


def _governing_variables(variable: Variable) -> list[Variable]:
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


def input_date(*, variable: Variable, ref_date: date) -> date | None:
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
            else input_date(variable=gov, ref_date=ref_date)
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


def values_protect_old_scheme(
    *, variable: Variable, rows: Sequence[Any], viewer: Any
) -> list[Any]:
    """Rows of LOR 2006 units as the viewer may see them.

    Suppression patterns are computed on the LOR 2021 hierarchy only; an old
    key names another area, so no pattern applies to it. Where a rule would
    protect anything from the viewer, every old-scheme value is suppressed.
    """
    protected = any(
        not confidentiality_full_access(user=viewer, variable=g)
        for g in governing_variables(variable=variable)
    )
    if not protected:
        return list(rows)
    note = gettext("suppressed (statistical confidentiality)")
    return [
        replace(row, value=None, status="suppressed", note=note)
        if row.status in SHOWN
        else row
        for row in rows
    ]
