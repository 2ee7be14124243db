"""Aggregates to coarser LOR levels, set-based in PostGIS/SQL.

Counts are summed; ratios are recomputed from the aggregated numerator and
denominator (never averaged); weighted means use the weight variable. Where a
component is suppressed or missing, the aggregate is marked incomplete; where a
component is estimated (e.g. converted from LOR 2006), the aggregate is too. A value
delivered directly at a coarser level is never overwritten by an aggregate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection

from lor import hierarchy
from lor.models import CustomAreaMember, LorUnit

from ..models import Coverage, ImportRun, Observation, Variable

OBS = Observation._meta.db_table
UNIT = LorUnit._meta.db_table
MEMBER = CustomAreaMember._meta.db_table

UPSERT = f"""
ON CONFLICT (variable_id, ref_date, unit_id) DO UPDATE
SET value = EXCLUDED.value, status = EXCLUDED.status, incomplete = EXCLUDED.incomplete,
    note = EXCLUDED.note, import_run_id = EXCLUDED.import_run_id, is_aggregate = true
WHERE {OBS}.is_aggregate
"""


def _coarser(level: str) -> list[str]:
    targets = hierarchy.levels_above(level)
    if level == hierarchy.PLANUNGSRAUM and CustomAreaMember.objects.exists():
        targets.append(LorUnit.Level.CUSTOM)
    return targets


def _parent_join(target: str) -> str:
    """SQL joining source unit u to its ancestor p at the target level."""
    if target == LorUnit.Level.CUSTOM:
        # Custom areas are unions of whole Planungsräume.
        return (
            f"JOIN {MEMBER} m ON m.planungsraum_id = u.id "
            f"JOIN {UNIT} p ON p.id = m.area_id"
        )
    if target == hierarchy.BERLIN:
        return f"JOIN {UNIT} p ON p.scheme = u.scheme AND p.level = '{target}'"
    # A unit's ancestor at a level is the first digits of its key.
    return (
        f"JOIN {UNIT} p ON p.scheme = u.scheme AND p.level = '{target}' "
        f"AND p.code = left(u.code, {hierarchy.key_length(target)})"
    )


def observations_aggregate(
    *, variables: Iterable[Variable], ref_dates: Iterable[date], import_run: ImportRun
) -> int:
    """Recompute all aggregates of these variables (and ratios built on them)."""
    variables = list(variables)
    dates = sorted(set(ref_dates))
    if not variables or not dates:
        return 0
    ids = {v.id for v in variables}
    dependants = Variable.objects.filter(
        aggregation__in=[Variable.Aggregation.RATIO, Variable.Aggregation.WEIGHTED_MEAN]
    ).exclude(id__in=ids)
    extra = [
        v for v in dependants if {v.numerator_id, v.denominator_id, v.weight_id} & ids
    ]
    written = 0
    with connection.cursor() as cursor:
        for variable in [*variables, *extra]:
            if variable.aggregation in {
                Variable.Aggregation.RATIO,
                Variable.Aggregation.WEIGHTED_MEAN,
            }:
                continue
            cursor.execute(
                f"DELETE FROM {OBS} WHERE variable_id = %s AND ref_date = ANY(%s) "
                "AND is_aggregate",
                [variable.id, dates],
            )
        sums = [v for v in variables if v.aggregation == Variable.Aggregation.SUM]
        by_level: dict[str, list[int]] = {}
        for v in sums:
            by_level.setdefault(v.lowest_level, []).append(v.id)
        for source_level, var_ids in by_level.items():
            for target in _coarser(source_level):
                written += _aggregate_sum(
                    cursor, var_ids, dates, source_level, target, import_run.id
                )
        for v in [*variables, *extra]:
            if v.aggregation == Variable.Aggregation.RATIO:
                cursor.execute(
                    f"DELETE FROM {OBS} WHERE variable_id = %s AND ref_date = ANY(%s) "
                    "AND is_aggregate",
                    [v.id, dates],
                )
                written += _aggregate_ratio(cursor, v, dates, import_run.id)
            elif v.aggregation == Variable.Aggregation.WEIGHTED_MEAN:
                cursor.execute(
                    f"DELETE FROM {OBS} WHERE variable_id = %s AND ref_date = ANY(%s) "
                    "AND is_aggregate",
                    [v.id, dates],
                )
                for target in _coarser(v.lowest_level):
                    written += _aggregate_weighted(
                        cursor, v, dates, target, import_run.id
                    )
    return written


def _expected(target: str) -> str:
    """SQL of the CTE ``expected``: how many source units each target unit has.

    An aggregate over fewer values than that is incomplete.
    """
    return f"""expected AS (
            SELECT p.id AS parent_id, count(*) AS n_children
            FROM {UNIT} u {_parent_join(target)}
            WHERE u.level = %(source)s AND u.scheme = %(scheme)s
            GROUP BY p.id
        )"""


def _aggregate_sum(cursor, var_ids, dates, source, target, run_id) -> int:
    cursor.execute(
        f"""
        WITH {_expected(target)}, comp AS (
            SELECT o.variable_id, o.ref_date, p.id AS parent_id,
                   sum(o.value) FILTER (WHERE o.status IN ('ok', 'estimated')) AS total,
                   count(*) FILTER (WHERE o.status IN ('ok', 'estimated')) AS n_ok,
                   count(*) FILTER (WHERE o.status = 'suppressed') AS n_suppressed,
                   bool_or(o.status = 'estimated') AS any_estimated,
                   bool_or(o.incomplete) AS any_incomplete
            FROM {OBS} o
            JOIN {UNIT} u ON u.id = o.unit_id AND u.level = %(source)s
            {_parent_join(target)}
            WHERE o.variable_id = ANY(%(vars)s) AND o.ref_date = ANY(%(dates)s)
            GROUP BY o.variable_id, o.ref_date, p.id
        )
        INSERT INTO {OBS} (variable_id, unit_id, ref_date, value, status, is_aggregate,
                           incomplete, note, import_run_id)
        SELECT c.variable_id, c.parent_id, c.ref_date,
               CASE WHEN c.n_ok > 0 THEN c.total END,
               CASE WHEN c.n_ok > 0 AND c.any_estimated THEN 'estimated'
                    WHEN c.n_ok > 0 THEN 'ok'
                    WHEN c.n_suppressed > 0 THEN 'suppressed'
                    ELSE 'missing' END,
               true,
               c.n_ok < e.n_children OR c.any_incomplete,
               CASE WHEN c.n_ok > 0 AND c.n_ok < e.n_children
                    THEN (e.n_children - c.n_ok) || ' von ' || e.n_children
                         || ' Teilräumen ohne Wert'
                    ELSE '' END,
               %(run)s
        FROM comp c JOIN expected e ON e.parent_id = c.parent_id
        {UPSERT}
        """,
        {
            "source": source,
            "scheme": LorUnit.Scheme.LOR_2021,
            "vars": var_ids,
            "dates": dates,
            "run": run_id,
        },
    )
    return cursor.rowcount


def _aggregate_ratio(cursor, variable: Variable, dates, run_id) -> int:
    """Numerator / denominator × factor wherever both exist (delivered ratios stay)."""
    cursor.execute(
        f"""
        INSERT INTO {OBS} (variable_id, unit_id, ref_date, value, status, is_aggregate,
                           incomplete, note, import_run_id)
        SELECT %(var)s, n.unit_id, n.ref_date,
               CASE WHEN n.value IS NOT NULL AND d.value > 0
                    THEN n.value / d.value * %(factor)s END,
               CASE WHEN n.value IS NOT NULL AND d.value > 0
                         AND 'estimated' IN (n.status, d.status) THEN 'estimated'
                    WHEN n.value IS NOT NULL AND d.value > 0 THEN 'ok'
                    WHEN 'suppressed' IN (n.status, d.status) THEN 'suppressed'
                    ELSE 'missing' END,
               true,
               n.incomplete OR d.incomplete,
               CASE WHEN d.value = 0 THEN 'Nenner ist 0' ELSE '' END,
               %(run)s
        FROM {OBS} n
        JOIN {OBS} d ON d.variable_id = %(den)s AND d.unit_id = n.unit_id
                    AND d.ref_date = n.ref_date
        JOIN {UNIT} u ON u.id = n.unit_id
        WHERE n.variable_id = %(num)s AND n.ref_date = ANY(%(dates)s)
        {UPSERT}
        """,
        {
            "var": variable.id,
            "num": variable.numerator_id,
            "den": variable.denominator_id,
            "factor": variable.factor,
            "dates": dates,
            "run": run_id,
        },
    )
    return cursor.rowcount


def _aggregate_weighted(cursor, variable: Variable, dates, target, run_id) -> int:
    cursor.execute(
        f"""
        WITH {_expected(target)}, comp AS (
            SELECT o.ref_date, p.id AS parent_id,
                   sum(o.value * w.value) FILTER (WHERE o.value IS NOT NULL
                                                  AND w.value IS NOT NULL) AS weighted,
                   sum(w.value) FILTER (WHERE o.value IS NOT NULL
                                        AND w.value IS NOT NULL) AS weights,
                   count(*) FILTER (WHERE o.value IS NOT NULL
                                    AND w.value IS NOT NULL) AS n_ok,
                   count(*) FILTER (WHERE o.status = 'suppressed'
                                    OR w.status = 'suppressed') AS n_suppressed,
                   bool_or(o.value IS NOT NULL AND w.value IS NOT NULL
                           AND 'estimated' IN (o.status, w.status)) AS any_estimated
            FROM {OBS} o
            JOIN {UNIT} u ON u.id = o.unit_id AND u.level = %(source)s
            {_parent_join(target)}
            LEFT JOIN {OBS} w ON w.variable_id = %(weight)s AND w.unit_id = o.unit_id
                             AND w.ref_date = o.ref_date
            WHERE o.variable_id = %(var)s AND o.ref_date = ANY(%(dates)s)
            GROUP BY o.ref_date, p.id
        )
        INSERT INTO {OBS} (variable_id, unit_id, ref_date, value, status, is_aggregate,
                           incomplete, note, import_run_id)
        SELECT %(var)s, c.parent_id, c.ref_date,
               CASE WHEN c.weights > 0 THEN c.weighted / c.weights END,
               CASE WHEN c.weights > 0 AND c.any_estimated THEN 'estimated'
                    WHEN c.weights > 0 THEN 'ok'
                    WHEN c.n_suppressed > 0 THEN 'suppressed' ELSE 'missing' END,
               true, c.n_ok < e.n_children, '', %(run)s
        FROM comp c JOIN expected e ON e.parent_id = c.parent_id
        {UPSERT}
        """,
        {
            "var": variable.id,
            "weight": variable.weight_id,
            "source": variable.lowest_level,
            "scheme": LorUnit.Scheme.LOR_2021,
            "dates": dates,
            "run": run_id,
        },
    )
    return cursor.rowcount


def observations_aggregate_custom(*, import_run: ImportRun) -> int:
    """Aggregate every variable to all custom areas, for all its reference dates."""
    dates_by_var: dict[int, list[date]] = {}
    for variable_id, ref_date in Coverage.objects.filter(
        level=hierarchy.PLANUNGSRAUM
    ).values_list("variable_id", "ref_date"):
        dates_by_var.setdefault(variable_id, []).append(ref_date)
    variables = list(
        Variable.objects.filter(
            id__in=list(dates_by_var), lowest_level=hierarchy.PLANUNGSRAUM
        ).exclude(aggregation=Variable.Aggregation.NONE)
    )
    written = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {OBS} o USING {UNIT} u WHERE u.id = o.unit_id "
            "AND u.level = %s AND o.is_aggregate AND o.variable_id = ANY(%s)",
            [LorUnit.Level.CUSTOM, [v.id for v in variables]],
        )
        for v in variables:
            dates = sorted(set(dates_by_var[v.id]))
            if v.aggregation == Variable.Aggregation.SUM:
                written += _aggregate_sum(
                    cursor,
                    [v.id],
                    dates,
                    hierarchy.PLANUNGSRAUM,
                    LorUnit.Level.CUSTOM,
                    import_run.id,
                )
            elif v.aggregation == Variable.Aggregation.WEIGHTED_MEAN:
                written += _aggregate_weighted(
                    cursor, v, dates, LorUnit.Level.CUSTOM, import_run.id
                )
        for v in variables:
            if v.aggregation == Variable.Aggregation.RATIO:
                dates = sorted(set(dates_by_var.get(v.numerator_id, [])))
                written += _aggregate_ratio(cursor, v, dates, import_run.id)
    return written
