"""Audit of a suppression pattern by linear programming, as τ-ARGUS and sdcTable do.

An attacker knows every shown cell, every published total, the equations that tie
them (parent = sum of its children at every level Planungsraum → Bezirksregion →
Prognoseraum → Bezirk → Berlin, a custom area = sum of its Planungsräume), values
that earlier publications (pinned answers) showed and the current data still hold,
and that counts are not negative. From that the hidden value x of a cell lies in
the interval [min x, max x] of a linear programme; ``intervals_compute`` solves it
with HiGHS (``scipy.optimize.linprog``).

Protection level (sdcTable's and τ-ARGUS's upper and lower protection levels for a
frequency rule) of a primary cell with value v under threshold t:

* upper: ``t - v`` (``upper_protection``) — the interval must reach t, so nobody
  can show that the cell is a small count at all;
* lower: ``LOWER_PROTECTION`` = 1 — the interval must reach v - 1, so nobody can
  pin the value from below either.

So a protected interval always contains v - 1, v and t: width ≥ t - v + 1 ≥ 2.
Secondary (complementary) cells need no protection of their own.

``complements_add`` hides further cells until every primary cell meets its
protection level: a neighbour in an equation of the violated cell (siblings before
the parent, the smallest value that supplies the missing width first), never a
cell whose value is already known. Every round hides at least one more cell or
stops, so it ends after at most as many rounds as there are cells; a primary cell
nothing can protect any more (its value is already published, or every cell that
could help is) is reported in ``exposed`` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

# A cell's value is pinned from below unless the attacker's interval reaches
# value - LOWER_PROTECTION.
LOWER_PROTECTION = 1.0
# Numerical slack of the LP solutions (the data are counts).
TOLERANCE = 1e-6


def upper_protection(*, value: float, threshold: float) -> float:
    """How far above its value a hidden cell's interval must reach: up to t."""
    return max(threshold - value, 0.0)


@dataclass(frozen=True)
class Equation:
    """Σ coefficient · x(code) = constant, true of the current data."""

    terms: tuple[tuple[str, float], ...]
    constant: float = 0.0


def interval_protected(
    *, value: float, threshold: float, low: float, high: float
) -> bool:
    """Whether an attacker's interval [low, high] meets the protection level."""
    return (
        high >= value + upper_protection(value=value, threshold=threshold) - TOLERANCE
        and low <= value - LOWER_PROTECTION + TOLERANCE
    )


def _components(
    equations: list[tuple[dict[str, float], float]], unknown: Iterable[str]
) -> dict[str, int]:
    """Union-find over unknown cells that share an equation: cell → component root."""
    parent = {c: c for c in unknown}

    def find(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for terms, _constant in equations:
        codes = list(terms)
        for other in codes[1:]:
            a, b = find(codes[0]), find(other)
            if a != b:
                parent[a] = b
    return {c: find(c) for c in parent}


def intervals_compute(
    *,
    values: Mapping[str, float],
    unknown: set[str],
    equations: Iterable[Equation],
    targets: Iterable[str],
) -> dict[str, tuple[float, float]]:
    """The attacker's interval of every target cell (an unknown one), by LP.

    ``values`` are the true values of all cells; the attacker knows those not in
    ``unknown``. Each target's programme has only the unknown cells connected to
    it through equations, so the programmes stay small.
    """
    return _intervals(
        values=values, unknown=unknown, equations=equations, targets=targets
    )[0]


def _intervals(
    *,
    values: Mapping[str, float],
    unknown: set[str],
    equations: Iterable[Equation],
    targets: Iterable[str],
) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """Intervals of the targets and each unknown cell's component (a root cell)."""
    reduced: list[tuple[dict[str, float], float]] = []
    for equation in equations:
        terms: dict[str, float] = {}
        constant = equation.constant
        for code, coefficient in equation.terms:
            if code in unknown:
                terms[code] = terms.get(code, 0.0) + coefficient
            else:
                constant -= coefficient * values[code]
        terms = {c: k for c, k in terms.items() if k != 0}
        if terms:
            reduced.append((terms, constant))
    root = _components(reduced, unknown)
    by_root: dict[str, list[int]] = {}
    for n, (terms, _constant) in enumerate(reduced):
        by_root.setdefault(root[next(iter(terms))], []).append(n)
    out: dict[str, tuple[float, float]] = {}
    problems: dict[str, tuple[list[str], np.ndarray | None, np.ndarray | None]] = {}
    for target in targets:
        key = root[target]
        if key not in problems:
            members = sorted(c for c, r in root.items() if r == key)
            index = {c: i for i, c in enumerate(members)}
            rows = by_root.get(key, [])
            if rows:
                a_eq = np.zeros((len(rows), len(members)))
                b_eq = np.zeros(len(rows))
                for i, n in enumerate(rows):
                    terms, constant = reduced[n]
                    for code, coefficient in terms.items():
                        a_eq[i, index[code]] = coefficient
                    b_eq[i] = constant
                problems[key] = (members, a_eq, b_eq)
            else:
                problems[key] = (members, None, None)
        members, a_eq, b_eq = problems[key]
        if a_eq is None:
            out[target] = (0.0, float("inf"))
            continue
        objective = np.zeros(len(members))
        objective[members.index(target)] = 1.0
        bounds = []
        for sign in (1.0, -1.0):
            result = linprog(
                sign * objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs"
            )
            if result.status == 3:  # unbounded: min → −∞, max → +∞
                bounds.append(-sign * float("inf"))
            elif result.status == 0:
                bounds.append(sign * float(result.fun))
            else:
                # The true data satisfy the system; a solver failure protects
                # nothing, so count the cell as pinned to its value.
                bounds.append(values[target])
        out[target] = (bounds[0], bounds[1])
    return out, root


def complements_add(
    *,
    values: Mapping[str, float],
    levels: Mapping[str, str],
    hidden: set[str],
    primary: set[str],
    known: set[str],
    equations: list[Equation],
    threshold: float,
    rank: Callable[[str], int],
    last_resort: str | None = None,
) -> tuple[set[str], set[str]]:
    """Hidden cells (a superset of ``hidden``) that protect every primary cell.

    ``known`` cells are known to the attacker whether hidden or not; ``rank`` orders
    levels from fine to coarse (a larger rank is coarser); ``last_resort`` (Berlin)
    is hidden only when nothing else protects a cell. Returns the hidden cells and
    the primary cells that stay exposed.
    """
    hidden = set(hidden)
    exposed = primary & known
    targets = primary - known
    by_cell: dict[str, list[int]] = {}
    for n, equation in enumerate(equations):
        for code, _k in equation.terms:
            by_cell.setdefault(code, []).append(n)
    # Every round hides one more cell or exposes one more target, or ends the
    # loop: at most len(values) + len(targets) rounds.
    for _round in range(len(values) + len(targets) + 1):
        pending = sorted(targets - exposed)
        intervals, component = _intervals(
            values=values, unknown=hidden - known, equations=equations, targets=pending
        )
        violated = [
            t
            for t in pending
            if not interval_protected(
                value=values[t],
                threshold=threshold,
                low=intervals[t][0],
                high=intervals[t][1],
            )
        ]
        if not violated:
            break
        # One complement per component and round: it changes every interval of
        # the component, so re-solve before choosing more.
        touched: set[str] = set()
        for target in violated:
            if component[target] in touched:
                continue
            touched.add(component[target])
            choice = _complement(
                target=target,
                need=max(threshold - intervals[target][1], 1.0),
                values=values,
                levels=levels,
                hidden=hidden,
                known=known,
                equations=equations,
                by_cell=by_cell,
                rank=rank,
                last_resort=last_resort,
            )
            if choice is None:
                exposed.add(target)
            else:
                hidden.add(choice)
    return hidden, exposed


def _complement(
    *,
    target: str,
    need: float,
    values: Mapping[str, float],
    levels: Mapping[str, str],
    hidden: set[str],
    known: set[str],
    equations: list[Equation],
    by_cell: dict[str, list[int]],
    rank: Callable[[str], int],
    last_resort: str | None,
) -> str | None:
    """The next cell to hide for ``target``; None if nothing can help.

    Candidates are the shown, not known cells of the equations reachable from the
    target through hidden cells. First choice: a value that supplies the missing
    width ``need`` at once, in the nearest equation, a sibling before a parent,
    the smallest; then smaller values (the largest first, a zero last). When
    all candidates together cannot supply ``need`` (a district's whole total is
    small), the last resort comes first.
    """
    seen_cells = {target}
    seen_equations: set[int] = set()
    frontier = [target]
    target_rank = rank(levels[target])
    candidates: dict[str, int] = {}
    depth = 0
    while frontier:
        reached: list[str] = []
        for cell in frontier:
            for n in by_cell.get(cell, []):
                if n in seen_equations:
                    continue
                seen_equations.add(n)
                for code, _k in equations[n].terms:
                    if code in seen_cells:
                        continue
                    seen_cells.add(code)
                    if code in hidden and code not in known:
                        reached.append(code)
                    elif (
                        code not in hidden and code not in known and code != last_resort
                    ):
                        candidates[code] = depth
        frontier = reached
        depth += 1
    spare = sum(values[c] for c in candidates)
    if candidates and (spare >= need or last_resort in (None, *hidden, *known)):
        return min(
            candidates,
            key=lambda c: (
                values[c] < need,  # enough width at once
                candidates[c],  # the nearest equation
                rank(levels[c]) > target_rank,  # a sibling before a parent
                values[c] == 0,  # a zero widens nothing upwards
                values[c] if values[c] >= need else -values[c],
                c,
            ),
        )
    if last_resort is not None and last_resort not in hidden | known:
        return last_resort
    return None
