"""Choropleth request for 542 Planungsräume against the raw PostGIS query.

Measures, in one run and on the same database, N warm requests of
``/api/maps/values/`` (through Django's test client with a logged-in planner, so
routing, middleware, session authentication, role and confidentiality checks,
DRF, classification and JSON are included on the first request; warm requests
of a recently verified session are answered from the rendered-response cache
after one data-version query) beside N runs of the SQL of ``observation_values``
executed directly with psycopg (no Django), and, as a reference for the fixed
cost of the stack, ``/api/values/`` for the same data. Prints median, p95 and
the ratio to the raw query (goal ≤ 1.5×), and the size of the Planungsraum
geometry raw and gzip (goal ≤ 400 KB).

Needs a database with the demo data (``migrate``, ``lor_import``, ``datapool_demo``):

    DATABASE_URL=postgis://127.0.0.1:5432/prisma \\
        .venv/bin/python bench/map_bench.py [--n 50] [--variable E_E] [--method ...]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import bench_environment

ROOT = bench_environment()

RAW_SQL = """
SELECT u.code, u.name, o.value, coalesce(o.status, 'missing'),
       coalesce(o.incomplete, false), coalesce(o.is_aggregate, false),
       coalesce(o.note, '')
FROM lor_lorunit u
LEFT JOIN datapool_observation o
  ON o.unit_id = u.id AND o.variable_id = %s AND o.ref_date = %s
WHERE u.level = %s AND u.scheme = %s
ORDER BY u.code
"""


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--variable", default="E_E")
    parser.add_argument("--method", default="natural_breaks")
    args = parser.parse_args()

    import django

    django.setup()
    import psycopg
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from datapool.models import Observation, Variable
    from datapool.selectors import variable_latest_date
    from lor.models import LorUnit

    assert Observation._meta.db_table == "datapool_observation"
    assert LorUnit._meta.db_table == "lor_lorunit"
    variable = Variable.objects.get(key=args.variable)
    ref_date = variable_latest_date(variable=variable, level="planungsraum")
    from core.access import Role, user_assign

    # The everyday viewer: a planner, who sees confidentiality-protected values.
    user, _ = get_user_model().objects.get_or_create(username="map-bench")
    user_assign(user=user, role=Role.PLANNER, bezirk_code="01")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = "/api/maps/values/"
    params = {"variable": args.variable, "level": "planungsraum"}
    params["method"] = args.method

    db = settings.DATABASES["default"]
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )
    raw_params = (variable.id, ref_date, "planungsraum", LorUnit.Scheme.LOR_2021)

    with psycopg.connect(conninfo) as conn:

        def raw() -> int:
            with conn.cursor() as cursor:
                cursor.execute(RAW_SQL, raw_params)
                return len(cursor.fetchall())

        def api(path: str = url) -> int:
            response = client.get(path, params)
            assert response.status_code == 200, response.content[:300]
            return len(response.json()["results"])

        for _ in range(5):  # warm-up: caches, geometry version, connections
            assert raw() == 542
            assert api() == 542
        raw_times, api_times, values_times = [], [], []
        for _ in range(args.n):  # interleaved, so both see the same machine load
            start = time.perf_counter()
            raw()
            raw_times.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            api()
            api_times.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            api("/api/values/")
            values_times.append((time.perf_counter() - start) * 1000)

    geometry = client.get(
        "/api/maps/geometry/planungsraum/", HTTP_ACCEPT_ENCODING="gzip"
    )
    plain = client.get("/api/maps/geometry/planungsraum/")
    raw_med = _stats(raw_times)[0]
    print(f"variable {args.variable} at {ref_date}, method {args.method}, N={args.n}")
    for label, samples in (
        ("raw PostGIS query (psycopg)", raw_times),
        ("/api/maps/values/", api_times),
        ("/api/values/ (same stack)", values_times),
    ):
        med, p95 = _stats(samples)
        print(
            f"{label:28} median {med:6.2f} ms  p95 {p95:6.2f} ms  "
            f"ratio {med / raw_med:5.2f}×"
        )
    print("goal: /api/maps/values/ ≤ 1.5× the raw query")
    print(
        f"PLR geometry: {len(plain.content) / 1024:.0f} KB raw, "
        f"{len(geometry.content) / 1024:.0f} KB gzip (goal ≤ 400 KB)"
    )


if __name__ == "__main__":
    main()
