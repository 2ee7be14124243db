"""Bulk writes of observations: replace a delivery's values with COPY."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.db import connection

from lor import hierarchy
from lor.models import LorUnit

from ..models import Coverage, ImportRun, Observation, Variable
from ..parsers.contract import ObservationRow

OBS = Observation._meta.db_table
UNIT = LorUnit._meta.db_table
COPY_CHUNK = 200_000


@dataclass
class WriteResult:
    written: int
    replaced: Counter  # (variable_id, ref_date) -> values of earlier runs replaced
    levels: dict[tuple[int, date], str]


def observations_replace(
    *,
    import_run: ImportRun,
    rows: list[ObservationRow],
    variables: dict[str, Variable],
    progress=None,
    scheme: str = LorUnit.Scheme.LOR_2021,
) -> WriteResult:
    """Replace the delivered (variable, date, level) slices of one scheme; the
    caller is atomic.

    The schemes never touch each other: a delivery in LOR 2006 keys replaces old
    units' values only, one in LOR 2021 keys the new units' values and the
    aggregates (also the custom areas') of those variables and dates.
    """
    units = dict(LorUnit.objects.filter(scheme=scheme).values_list("code", "id"))
    levels_by_code = dict(
        LorUnit.objects.filter(scheme=scheme).values_list("code", "level")
    )
    aggregate_schemes = (
        [scheme, LorUnit.Scheme.CUSTOM]
        if scheme == LorUnit.Scheme.LOR_2021
        else [scheme]
    )
    var_ids = {key: v.id for key, v in variables.items()}
    slices: dict[tuple[int, date], set[str]] = {}
    for row in rows:
        slices.setdefault((var_ids[row.variable_key], row.ref_date), set()).add(
            levels_by_code[row.unit_code]
        )

    replaced: Counter = Counter()
    with connection.cursor() as cursor:
        # The delivered slices and every aggregate of those variables and dates go;
        # aggregates are recomputed after the write.
        pairs = [(vid, d, lvl) for (vid, d), lvls in slices.items() for lvl in lvls]
        cursor.execute(
            f"""
            WITH slice(variable_id, ref_date, level) AS (
                SELECT * FROM unnest(%s::bigint[], %s::date[], %s::text[])
            )
            DELETE FROM {OBS} o USING slice s, {UNIT} u
            WHERE o.variable_id = s.variable_id AND o.ref_date = s.ref_date
              AND u.id = o.unit_id
              AND ((u.scheme = %s AND u.level = s.level)
                   OR (o.is_aggregate AND u.scheme = ANY(%s)))
            RETURNING o.variable_id, o.ref_date, o.is_aggregate
            """,
            [
                [p[0] for p in pairs],
                [p[1] for p in pairs],
                [p[2] for p in pairs],
                scheme,
                aggregate_schemes,
            ],
        )
        for variable_id, ref_date, is_aggregate in cursor.fetchall():
            if not is_aggregate:
                replaced[(variable_id, ref_date)] += 1

        run_id = import_run.id
        total = len(rows)
        if progress:  # the write phase shows from its start, not after a chunk
            progress(0, total)
        # COPY in chunks: progress is reported between them (a connection that is
        # in the middle of a COPY cannot run other statements).
        for start in range(0, total, COPY_CHUNK):
            with cursor.copy(
                f"COPY {OBS} (variable_id, unit_id, ref_date, value, status, "
                "is_aggregate, incomplete, note, import_run_id) FROM STDIN"
            ) as copy:
                for row in rows[start : start + COPY_CHUNK]:
                    copy.write_row(
                        (
                            var_ids[row.variable_key],
                            units[row.unit_code],
                            row.ref_date,
                            row.value,
                            row.status,
                            False,
                            False,
                            row.note,
                            run_id,
                        )
                    )
            if progress:
                progress(min(start + COPY_CHUNK, total), total)
    if progress:
        progress(total, total)
    # Every delivered code is a unit of the scheme, so each slice has a finest level.
    levels = {pair: hierarchy.finest_level(lvls) for pair, lvls in slices.items()}
    return WriteResult(written=len(rows), replaced=replaced, levels=levels)


def observations_delete_for_units(*, unit_ids: list[int]) -> int:
    """Remove every value of these units (used before custom areas are deleted)."""
    deleted, _ = Observation.objects.filter(unit_id__in=unit_ids).delete()
    return deleted


def observation_statistics_refresh() -> None:
    """Give the query planner fresh statistics of the observations after a load.

    Large loads change the table's shape at once; where autovacuum is off (as on
    some servers) or has not caught up yet, stale statistics make the values
    query up to fifty times slower. ANALYZE samples, so this stays cheap.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Observation._meta.db_table}")


def coverage_refresh(*, variable_ids: list[int], ref_dates=None) -> None:
    """Recount values per variable, level and date (all or the given dates).

    Only the current units count (LOR 2021 and custom areas): values on the old
    units are the input of a conversion, not what maps and tables show.

    An import passes its delivered dates: the count then reads only those dates'
    rows (a plain ``ref_date = ANY`` the index serves), however many are stored.
    """
    dates = sorted(set(ref_dates)) if ref_dates is not None else None
    stale = Coverage.objects.filter(variable_id__in=variable_ids)
    if dates is not None:
        stale = stale.filter(ref_date__in=dates)
    stale.delete()
    date_filter = "AND o.ref_date = ANY(%(dates)s::date[])" if dates is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Coverage._meta.db_table}
                (variable_id, level, ref_date, units, values, suppressed, missing,
                 incomplete, aggregated)
            SELECT o.variable_id, u.level, o.ref_date, count(*),
                   count(*) FILTER (WHERE o.status IN ('ok', 'estimated')),
                   count(*) FILTER (WHERE o.status = 'suppressed'),
                   count(*) FILTER (WHERE o.status = 'missing'),
                   count(*) FILTER (WHERE o.incomplete),
                   bool_and(o.is_aggregate)
            FROM {Observation._meta.db_table} o
            JOIN {LorUnit._meta.db_table} u ON u.id = o.unit_id
            WHERE o.variable_id = ANY(%(ids)s) AND u.scheme <> %(old)s {date_filter}
            GROUP BY o.variable_id, u.level, o.ref_date
            """,
            {"ids": variable_ids, "dates": dates, "old": LorUnit.Scheme.LOR_2006},
        )
