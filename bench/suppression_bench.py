"""Suppression with its LP audit, per (variable, date), on the read path.

Builds district-upload-like count variables in a throwaway database (values at all
542 Planungsräume, aggregated to every level, about 20 cells of 1 or 2 and some
zeros; and one district's Planungsräume only) and prints, per variable and date:

* floor: reading the cells and the quick secondary rule, no LP (what protection
  cost before the audit);
* cold: ``suppression_pattern`` with an empty cache (read, published values, the
  quick rule and the LP audit with its complements);
* warm: ``suppression_pattern`` again (the pattern comes from the in-process cache);
* values: ``observation_values`` at Planungsraum level for a planner (protected).

Goal: cold under 200 ms on the 2-core machine.

    DATABASE_URL=postgis://127.0.0.1:5432/prisma_bench_supp \\
        .venv/bin/python bench/suppression_bench.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import date

from _setup import bench_environment

ROOT = bench_environment(database="prisma_bench_supp")

REF_DATE = date(2024, 12, 31)
SMALL_CELLS = 20
REPEAT = 15


def ensure_database() -> None:
    import environ
    import psycopg

    url = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "bench" not in url["NAME"]:
        sys.exit("refusing: the database name must contain 'bench'")
    conninfo = (
        f"host={url['HOST'] or '127.0.0.1'} port={url['PORT'] or 5432} "
        f"user={url['USER'] or 'postgres'} dbname=postgres"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [url["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{url["NAME"]}"')


def setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from lor.models import LorUnit

    call_command("migrate", verbosity=0)
    if not LorUnit.objects.filter(level="planungsraum").exists():
        call_command("lor_import", verbosity=0)


def populate(*, key: str, prefix: str, seed: int):
    """A count variable of district 01 with values at the Planungsräume under prefix."""
    from datapool.models import ImportRun, Observation, Variable
    from datapool.services.aggregation import observations_aggregate
    from lor.models import LorUnit

    rng = random.Random(seed)  # noqa: S311 - reproducible bench data
    district = LorUnit.objects.get(scheme=LorUnit.Scheme.LOR_2021, code="01")
    variable, _ = Variable.objects.update_or_create(
        key=key,
        defaults={
            "name": key,
            "value_type": Variable.ValueType.COUNT,
            "aggregation": Variable.Aggregation.SUM,
            "district": district,
            "released": True,
            "confidentiality_threshold": 3,
        },
    )
    Observation.objects.filter(variable=variable).delete()
    run = ImportRun.objects.create(
        kind="table", original_name="bench", status="succeeded", district=district
    )
    units = list(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021,
            level="planungsraum",
            code__startswith=prefix,
        ).order_by("code")
    )
    small = set(rng.sample(range(len(units)), min(SMALL_CELLS, len(units) // 2)))
    values = [
        float(rng.choice([1, 2]))
        if n in small
        else float(rng.choice([0, 0, rng.randint(3, 12), rng.randint(5, 60)]))
        for n in range(len(units))
    ]
    Observation.objects.bulk_create(
        Observation(
            variable=variable, unit=u, ref_date=REF_DATE, value=v, import_run=run
        )
        for u, v in zip(units, values, strict=True)
    )
    observations_aggregate(variables=[variable], ref_dates=[REF_DATE], import_run=run)
    return variable


def timed(fn, repeat: int = REPEAT) -> float:
    """Median milliseconds of fn()."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(variable) -> None:
    from django.db import connection

    from datapool import confidentiality
    from datapool.confidentiality import (
        SHOWN,
        pattern_compute,
        suppression_pattern,
    )
    from datapool.selectors import observation_values
    from lor.models import LorUnit

    def read_cells():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT u.code, u.level, o.value, o.status
                FROM datapool_observation o
                JOIN lor_lorunit u ON u.id = o.unit_id
                WHERE o.variable_id = %s AND o.ref_date = %s AND u.scheme = %s
                """,
                [variable.id, REF_DATE, LorUnit.Scheme.LOR_2021],
            )
            return {
                code: (level, value)
                for code, level, value, status in cursor.fetchall()
                if status in SHOWN
            }

    def floor():
        pattern_compute(
            cells=read_cells(),
            threshold=variable.confidentiality_threshold,
            audit=False,
        )

    def cold():
        confidentiality._PATTERN_CACHE.clear()
        return suppression_pattern(variable=variable, ref_date=REF_DATE)

    cells = read_cells()
    pattern = cold()
    quick = pattern_compute(cells=cells, threshold=3, audit=False)
    print(
        f"{variable.key}: {len(cells)} cells, {len(pattern.primary)} primary, "
        f"hidden {len(quick.hidden)} by the quick rule, {len(pattern.hidden)} "
        f"after the audit, {len(pattern.exposed)} exposed"
    )
    t_floor = timed(floor)
    t_cold = timed(cold)
    t_warm = timed(lambda: suppression_pattern(variable=variable, ref_date=REF_DATE))
    t_values = timed(
        lambda: observation_values(
            variable=variable, level="planungsraum", ref_date=REF_DATE
        )
    )
    print(f"  floor (read + quick rule, no LP)  {t_floor:8.1f} ms")
    print(f"  cold  (read + LP audit)           {t_cold:8.1f} ms")
    print(f"  warm  (cached pattern)            {t_warm:8.1f} ms")
    print(f"  observation_values, planner view  {t_values:8.1f} ms")


def main() -> None:
    ensure_database()
    setup()
    berlin = populate(key="BENCH_SUPP_BERLIN", prefix="", seed=2024)
    district = populate(key="BENCH_SUPP_BEZIRK", prefix="01", seed=2025)
    for variable in (berlin, district):
        measure(variable)


if __name__ == "__main__":
    main()
