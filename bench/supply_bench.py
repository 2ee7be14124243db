"""2SFCA for all 542 Planungsräume and the Kitas, one date, beside its floor.

Measures in one run, interleaved so both see the same machine load, N times:

* **supply_compute** (rule ``kita``, the register's Kitas): reading the
  facilities, the one PostGIS statement (demand from the Datenpool, population
  points, within borders, both 2SFCA steps) and building the results;
* the same with the facilities passed in (``facilities_override``, what a
  scenario does): the statement alone plus parameter transfer;
* **floor**: the single distance join the method needs and nothing else,
  population points (``ST_PointOnSurface``) × Kitas within the catchment
  distance, counted, as the planner runs it best (GiST index on the Kitas).

Goal: supply_compute ≤ 2 s. Needs LOR units, the EWR matrix and Kitas in the
register; what is missing is loaded (``lor_import``, ``datapool_import`` of the
EWR demo file, the Kitas of ``infra_kitas_epsg25833.geojson`` through the
production importer ``infrastructure.layer_import.facilities_import_gis``):

    DATABASE_URL=postgis://127.0.0.1:5432/prisma_bench \\
        .venv/bin/python bench/supply_bench.py [--n 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import bench_environment

ROOT = bench_environment(database="prisma_bench", eager=True)

FLOOR_SQL = """
SELECT count(*)
FROM (SELECT ST_PointOnSurface(geom) AS pt FROM lor_lorunit
      WHERE scheme = %(scheme)s AND level = %(plr)s) p
JOIN infrastructure_facility f
  ON f.facility_type_id = %(type)s AND f.capacity IS NOT NULL
 AND ST_DWithin(f.geom, p.pt, %(d)s)
"""


def _ensure_data() -> None:
    from django.core.management import call_command

    from datapool.models import Variable
    from infrastructure.layer_import import facilities_import_gis
    from infrastructure.models import Facility
    from lor.models import LorUnit

    call_command("migrate", verbosity=0)
    if not LorUnit.objects.filter(level=LorUnit.Level.PLANUNGSRAUM).exists():
        call_command("lor_import", verbosity=0)
    if not Variable.objects.filter(key="E_E1U6").exists():
        call_command(
            "datapool_import",
            str(ROOT / "datapool" / "data" / "demo" / "EWR_L21_202412E_Matrix.csv"),
            "--map",
            "06200318=06200418",
            verbosity=0,
        )
    if not Facility.objects.filter(facility_type__key="kita").exists():
        facilities_import_gis(
            path=ROOT / "datapool" / "data" / "demo" / "infra_kitas_epsg25833.geojson",
            type_key="kita",
        )


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"median {statistics.median(ordered):7.1f} ms  max {ordered[-1]:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=15)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from infrastructure.models import SupplyRule
    from infrastructure.supply import supply_compute, supply_dates, supply_facilities
    from lor.models import LorUnit

    _ensure_data()
    rule = SupplyRule.objects.select_related("facility_type").get(key="kita")
    ref_date = supply_dates(rule=rule)[-1]
    facilities = supply_facilities(rule=rule)
    params = {
        "scheme": LorUnit.Scheme.LOR_2021,
        "plr": LorUnit.Level.PLANUNGSRAUM,
        "type": rule.facility_type_id,
        "d": float(rule.catchment_m),
    }

    def floor() -> int:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, params)
            return cursor.fetchone()[0]

    def full():
        return supply_compute(rule=rule, ref_date=ref_date)

    def override():
        return supply_compute(
            rule=rule, ref_date=ref_date, facilities_override=facilities
        )

    pairs = floor()
    result = full()
    assert len(result.units) == 542
    times: dict[str, list[float]] = {"full": [], "override": [], "floor": []}
    for _ in range(args.n):
        for label, fn in (("full", full), ("override", override), ("floor", floor)):
            start = time.perf_counter()
            fn()
            times[label].append((time.perf_counter() - start) * 1000)
    floor_med = statistics.median(times["floor"])
    print(
        f"Kitas {len(facilities)} (counted {result.facilities_counted}), "
        f"Planungsräume {len(result.units)}, date {ref_date}, "
        f"catchment {rule.catchment_m} m, pairs within reach {pairs}, N={args.n}"
    )
    for label, text in (
        ("full", "supply_compute (register)"),
        ("override", "supply_compute (facilities passed)"),
        ("floor", "floor: ST_DWithin points × Kitas"),
    ):
        med = statistics.median(times[label])
        print(f"{text:36} {_stats(times[label])}  ×floor {med / floor_med:5.2f}")
    print("goal: supply_compute ≤ 2000 ms")


if __name__ == "__main__":
    main()
