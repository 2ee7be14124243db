"""Indicator recomputation at full Datenpool scale.

Fills a throwaway database with 667 variables × 542 Planungsräume × 15 reference
dates (≈ 5.4 M delivered values, generated in SQL; the indicator inputs among them
with plausible magnitudes), aggregates them to all levels, then recomputes every
indicator for every level and date as the Celery job does and prints the time.
Goal: ≤ 60 s on the 2-core machine. For comparison it also prints the time of a
plain SQL scan that reads each indicator's inputs once (the floor of any approach
that looks at every input value).

    DATABASE_URL=postgis://USER@127.0.0.1:5432/prisma_bench_ind \\
        .venv/bin/python bench/indicators_bench.py
"""

from __future__ import annotations

import os
import sys
import time

from _setup import bench_environment

ROOT = bench_environment(database="prisma_bench_ind", eager=True)

VARIABLES = 667
DATES = 15
# Inputs of the indicators, with the share of E_E they roughly amount to.
INPUTS = {
    "E_E": 1.0,
    "E_EU1": 0.01,
    "E_E1U6": 0.045,
    "E_E6U15": 0.085,
    "E_E15U18": 0.026,
    "E_E18_21": 0.03,
    # The finer EWR bands the harmonised sums E_E18U27, E_E27U45, E_E45U55
    # (and through them E_E15U65, KI_SVB's denominator) are derived from.
    "E_E21_25": 0.04,
    "E_E25_27": 0.02,
    "E_E27_30": 0.045,
    "E_E30_35": 0.085,
    "E_E35_40": 0.08,
    "E_E40_45": 0.07,
    "E_E45_50": 0.06,
    "E_E50_55": 0.065,
    "E_E18U25": 0.07,
    "E_E25U55": 0.45,
    "E_E55U65": 0.13,
    "E_E65U80": 0.14,
    "E_E80U110": 0.06,
    "E_A": 0.24,
    "EW_MH": 0.39,
    "KITAS_E_PLATZ": 0.05,
    "JFE_E_PLATZ": 0.01,
    "MSS_EW": 1.0,
    "MSS_S1": 0.00005,
    "MSS_S4": 0.0001,
    "MSS_KI_01": 0.00004,
    "MSS_KI_03": 0.00003,
    "MSS_KI_10": 0.0002,
    "MSS_KI_12": 0.00001,
    "SVB_15U65": 0.4,
    "SGB2_U65": 0.1,
}


def ensure_database() -> None:
    from tests.support.databases import database_create, database_name

    if "bench" not in database_name(os.environ["DATABASE_URL"]):
        sys.exit("refusing: the database name must contain 'bench'")
    database_create(os.environ["DATABASE_URL"])


def setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from lor.models import LorUnit

    call_command("migrate", verbosity=0)
    if not LorUnit.objects.filter(level="planungsraum").exists():
        call_command("lor_import", verbosity=0)


def populate() -> float:
    """Generate the delivered values in SQL and aggregate them; returns seconds."""
    from django.db import connection

    from datapool.models import ImportRun, Observation, Variable
    from datapool.services.aggregation import observations_aggregate
    from datapool.services.indicators import indicator_definitions_load
    from datapool.services.observations import coverage_refresh

    indicator_definitions_load()
    keys = list(INPUTS) + [f"X_{n:03d}" for n in range(1, VARIABLES - len(INPUTS) + 1)]
    for key in keys:
        aggregation = "none" if key.startswith("MSS_") and key != "MSS_EW" else "sum"
        Variable.objects.update_or_create(
            key=key,
            defaults={
                "name": key,
                "aggregation": aggregation,
                "metadata_complete": True,
            },
        )
    variables = {v.key: v for v in Variable.objects.filter(key__in=keys)}
    Observation.objects.filter(variable__in=variables.values()).delete()
    run = ImportRun.objects.create(
        kind="table", original_name="bench", status="succeeded"
    )
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE bench_var (id bigint, factor float8);
            """
        )
        cursor.executemany(
            "INSERT INTO bench_var VALUES (%s, %s)",
            [(variables[k].id, INPUTS.get(k, 0.1)) for k in keys],
        )
        # Dates: half-years back from 2024-12-31; a unit's size is stable over time.
        cursor.execute(
            """
            INSERT INTO datapool_observation (variable_id, unit_id, ref_date, value,
                status, is_aggregate, incomplete, note, import_run_id)
            SELECT g.variable_id, g.unit_id, g.ref_date, g.value,
                   CASE WHEN g.value IS NULL THEN 'suppressed' ELSE 'ok' END,
                   false, false, '', %s
            FROM (
                SELECT v.id AS variable_id, u.id AS unit_id, d.ref_date,
                       CASE WHEN random() < 0.02 THEN NULL
                            ELSE round((500 + (hashtext(u.code) & 8191)) * v.factor
                                       * (0.9 + random() * 0.2)) END AS value
                FROM bench_var v
                CROSS JOIN lor_lorunit u
                CROSS JOIN (
                    SELECT (date '2025-01-01' - (n * interval '6 months'))::date - 1
                           AS ref_date
                    FROM generate_series(0, %s - 1) n
                ) d
                WHERE u.level = 'planungsraum'
            ) g
            """,
            [run.id, DATES],
        )
        cursor.execute("ANALYZE datapool_observation")
        dates = [
            r[0]
            for r in cursor.execute(
                "SELECT DISTINCT ref_date FROM datapool_observation "
                "WHERE import_run_id = %s",
                [run.id],
            ).fetchall()
        ]
    generated = time.perf_counter() - start
    start = time.perf_counter()
    observations_aggregate(
        variables=variables.values(), ref_dates=dates, import_run=run
    )
    coverage_refresh(variable_ids=[v.id for v in variables.values()])
    aggregated = time.perf_counter() - start
    total = Observation.objects.count()
    print(
        f"generated {total:,} values in {generated:.1f} s; "
        f"aggregation to all levels {aggregated:.1f} s"
    )
    return aggregated


def floor_scan() -> float:
    """Read every indicator input once (at every level and date) and nothing else."""
    from django.db import connection

    from datapool.models import Variable

    ids = list(
        Variable.objects.filter(key__in=list(INPUTS)).values_list("id", flat=True)
    )
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT variable_id, count(*), sum(value) FROM datapool_observation "
            "WHERE variable_id = ANY(%s) GROUP BY variable_id",
            [ids],
        )
        cursor.fetchall()
    return time.perf_counter() - start


def main() -> None:
    ensure_database()
    setup()
    populate()
    from datapool.models import Indicator, Observation
    from datapool.services.indicators import indicator_run_create, indicator_run_execute

    for attempt in (1, 2):
        start = time.perf_counter()
        run = indicator_run_execute(run=indicator_run_create())
        elapsed = time.perf_counter() - start
        values = Observation.objects.filter(variable__indicator__isnull=False).count()
        print(
            f"run {attempt}: {Indicator.objects.count()} indicators, {values:,} values "
            f"for all levels and {DATES} dates in {elapsed:.1f} s "
            f"(status {run.status}; goal ≤ 60 s)"
        )
    print(f"floor: one scan of all indicator inputs {floor_scan():.2f} s")


if __name__ == "__main__":
    main()
