"""Load benchmark: 20 concurrent API clients against gunicorn over loopback.

Starts gunicorn with the project's settings on a free port, logs in with a token
and lets locust (headless) run N clients for T seconds on the map data
(``/api/maps/values/``, ``/api/maps/geometry/planungsraum/``) and the values API
(``/api/values/``), with variables and levels drawn at random from what the
database holds, and reference dates drawn from each variable's dates (with all
vintages loaded most requests are cold). Prints requests/s, p50/p95/p99 and errors
per endpoint and in all; goal: 0 errors and p95 ≤ 200 ms. Beside the figures it
prints who used the CPU during the run (the server, PostgreSQL, Redis, locust and
every other process), so a run on a busy machine shows itself as one.

Needs a database with the demo data (or ``--setup`` loads it: migrate, lor_import,
datapool_demo, indicators_compute, as ``scripts/run.sh`` does). ``--dates 15``
(the default) first imports the real EWR matrix under the 14 half-years before
31.12.2024 where they are missing (bench data, ``_vintages.py``), as all vintages
will:

    DATABASE_URL=postgis://$USER@127.0.0.1:5432/prisma \\
        .venv/bin/python bench/load_bench.py [--users 20] [--seconds 30] \\
        [--workers 3] [--wait 0] [--setup] [--dates 15]

locust itself imports this file as its locustfile (in a child process).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support
BIN = Path(sys.executable).parent
BENCH_USER = "prisma-bench"
GOAL_P95_MS = 200
ENDPOINTS = ("maps/values", "maps/geometry", "values")

if __name__ != "__main__":  # loaded by locust as its locustfile
    # random picks request parameters here, nothing secret.
    # ruff: noqa: S311
    from locust import FastHttpUser, constant, task

    _VARIABLES = os.environ.get("BENCH_VARIABLES", "E_E").split(",")
    _LEVELS = ["bezirk", "prognoseraum", "bezirksregion", "planungsraum"]
    # Variable key -> its reference dates (ISO); a request asks for one of them.
    _DATES: dict[str, list[str]] = json.loads(os.environ.get("BENCH_DATES", "{}"))

    def _pick() -> dict[str, str]:
        variable = random.choice(_VARIABLES)
        params = {"variable": variable, "level": random.choice(_LEVELS)}
        if _DATES.get(variable):
            params["date"] = random.choice(_DATES[variable])
        return params

    class ApiClient(FastHttpUser):
        """One analyst's browser: the map's values and geometry, the values table."""

        wait_time = constant(float(os.environ.get("BENCH_WAIT", "0")))

        def on_start(self) -> None:
            self.client.client.default_headers = {
                **(self.client.client.default_headers or {}),
                "Authorization": f"Token {os.environ['BENCH_TOKEN']}",
                "Accept-Encoding": "gzip",
            }

        @task(2)
        def map_values(self) -> None:
            self.client.get(
                "/api/maps/values/",
                params={
                    **_pick(),
                    "method": random.choice(["quantiles", "natural_breaks"]),
                },
                name="maps/values",
            )

        @task(1)
        def geometry(self) -> None:
            self.client.get("/api/maps/geometry/planungsraum/", name="maps/geometry")

        @task(2)
        def values(self) -> None:
            self.client.get("/api/values/", params=_pick(), name="values")


def _prepare(
    env: dict[str, str], setup: bool, dates: int
) -> tuple[str, dict[str, list[str]]]:
    """Load the demo data if asked, and the vintages; a token for the bench user
    and the variables that have Planungsraum values, with their dates."""
    from tests.support.processes import manage

    if setup:
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("lor_import", env=env)
        manage("datapool_demo", env=env)
        manage("indicators_compute", env=env)
    os.environ.update(env)
    if dates > 1:
        from _vintages import vintages_load

        # Indicators follow each import in the importing process (no worker).
        vintages_load(
            dates, manage=manage, env={**env, "CELERY_TASK_ALWAYS_EAGER": "true"}
        )
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from datapool.models import Coverage

    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USER, defaults={"is_superuser": True, "is_staff": True}
    )
    if user.has_usable_password():
        user.set_unusable_password()
        user.save()
    token, _ = Token.objects.get_or_create(user=user)
    # Fresh statistics, as autovacuum keeps them on a production server; without
    # them PostgreSQL guesses one row per level and loops over the observations.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _forget_shared_answers()
    # A date is asked for only where every level has it (else the API answers
    # 400 "no values for this date", correctly, but that is not what is measured).
    levels = ["bezirk", "prognoseraum", "bezirksregion", "planungsraum"]
    seen: dict[str, dict[str, set]] = {}
    for key, level, ref_date in Coverage.objects.filter(
        level__in=levels, values__gt=0
    ).values_list("variable__key", "level", "ref_date"):
        seen.setdefault(key, {}).setdefault(level, set()).add(ref_date.isoformat())
    variables: dict[str, list[str]] = {
        key: sorted(set.intersection(*by_level.values()))
        if len(by_level) == len(levels)
        else []
        for key, by_level in seen.items()
        if "planungsraum" in by_level
    }
    if not variables:
        sys.exit("No values in this database: run with --setup (demo data).")
    return token.key, variables


def _forget_shared_answers() -> None:
    """Start cold: drop the rendered answers an earlier run left in Redis (only
    the ``answers`` cache's keys; the database's other keys stay)."""
    import redis
    from django.conf import settings

    prefix = settings.CACHES["answers"]["KEY_PREFIX"]
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        keys = list(client.scan_iter(f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        print(f"shared answer cache: {len(keys)} entries of earlier runs dropped")
    except redis.RedisError as exc:
        print(f"shared answer cache: Redis not reachable ({exc}); per process only")


def _start_gunicorn(env: dict[str, str], workers: int, log: Path):
    from tests.support.ports import still_running, url_answers, wait_for
    from tests.support.processes import start_gunicorn

    try:
        server = start_gunicorn(log=log, env=env, workers=workers)
        # The first request imports every URL module (matplotlib, numba-compiled
        # classification): on a busy 2-core machine that takes up to a minute or two.

        def healthy() -> bool:
            still_running(server.process, log)
            return url_answers(f"{server.url}/health/", timeout=200)

        wait_for(healthy, timeout=240, what="gunicorn's /health/", interval=0.3)
    except (RuntimeError, TimeoutError) as exc:
        sys.exit(f"gunicorn did not answer: {exc}")
    return server


def _warm_up(port: int, token: str, variables: list[str], workers: int) -> None:
    """Requests to every endpoint until each worker has surely had some, so that
    imports (mapclassify is imported at the first classified map) and the
    geometry cache are not measured."""
    urls = [
        "/api/maps/geometry/planungsraum/",
        f"/api/maps/values/?variable={variables[0]}&level=planungsraum",
        f"/api/maps/values/?variable={variables[0]}&level=bezirk&method=natural_breaks",
        f"/api/values/?variable={variables[0]}&level=planungsraum",
    ]
    for _ in range(4 * workers):
        for url in urls:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{url}",
                headers={"Authorization": f"Token {token}", "Accept-Encoding": "gzip"},
            )
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                response.read()


def _cpu_by_process() -> dict[int, tuple[float, str]]:
    """CPU seconds (user + system) of every process, by pid, with its command line.

    Linux only (``/proc``); a process that ends in between is simply missing.
    """
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        found[int(entry.name)] = ((int(fields[11]) + int(fields[12])) / tick, command)
    return found


def _cpu_split(
    before: dict[int, tuple[float, str]],
    after: dict[int, tuple[float, str]],
    port: int,
    locust_seconds: float,
) -> dict[str, float]:
    """Who used the CPU during the run: the server under test, PostgreSQL, Redis,
    the load generator and everything else (which says how quiet the machine was)."""
    split = {"gunicorn": 0.0, "PostgreSQL": 0.0, "locust": locust_seconds}
    split |= {"Redis": 0.0, "other processes": 0.0}
    for pid, (seconds, command) in after.items():
        if pid == os.getpid():
            continue
        used = seconds - before.get(pid, (0.0, ""))[0]
        if f"127.0.0.1:{port}" in command and "gunicorn" in command:
            split["gunicorn"] += used
        elif command.startswith("postgres"):
            split["PostgreSQL"] += used
        elif command.startswith("redis"):
            split["Redis"] += used
        else:
            split["other processes"] += used
    return split


def _row(name: str, row: dict[str, str]) -> dict[str, float | str]:
    return {
        "name": name,
        "requests": int(row["Request Count"]),
        "errors": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument(
        "--wait", type=float, default=0.0, help="think time per client (s)"
    )
    parser.add_argument("--setup", action="store_true", help="load the demo data")
    parser.add_argument(
        "--dates",
        type=int,
        default=15,
        help="half-yearly EWR dates to have (bench data up to 31.12.2024)",
    )
    args = parser.parse_args()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "prisma.settings.local"
        ),
        "DEBUG": "false",  # DEBUG would record every query
        "LOG_LEVEL": "WARNING",
    }
    token, dated = _prepare(env, args.setup, args.dates)
    variables = sorted(dated)
    combinations = sum(max(1, len(d)) for d in dated.values()) * 4 * 3
    with tempfile.TemporaryDirectory(prefix="prisma-load-") as tmp:
        tmp_path = Path(tmp)
        server = _start_gunicorn(env, args.workers, tmp_path / "gunicorn.log")
        port = server.port
        try:
            _warm_up(port, token, variables, args.workers)
            prefix = tmp_path / "locust"
            load_before = os.getloadavg()[0]
            cpu_before = _cpu_by_process()
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.monotonic()
            subprocess.run(
                [
                    str(BIN / "locust"),
                    "-f",
                    __file__,
                    "--headless",
                    "--users",
                    str(args.users),
                    "--spawn-rate",
                    str(args.users),
                    "--run-time",
                    f"{args.seconds}s",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(prefix),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                    "--exit-code-on-error",
                    "0",
                ],
                cwd=ROOT,
                env={
                    **env,
                    "BENCH_TOKEN": token,
                    "BENCH_VARIABLES": ",".join(variables),
                    "BENCH_DATES": json.dumps(dated),
                    "BENCH_WAIT": str(args.wait),
                },
                check=True,
                stdout=subprocess.DEVNULL,
            )
            wall = time.monotonic() - started
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            locust_cpu = (children.ru_utime - children_before.ru_utime) + (
                children.ru_stime - children_before.ru_stime
            )
            cpu = _cpu_split(cpu_before, _cpu_by_process(), port, locust_cpu)
            load_after = os.getloadavg()[0]
            with (tmp_path / "locust_stats.csv").open() as fh:
                rows = {row["Name"]: row for row in csv.DictReader(fh)}
            failures = (tmp_path / "locust_failures.csv").read_text()
        finally:
            server.stop()

    results = [_row(name, rows[name]) for name in ENDPOINTS if name in rows]
    total = _row("all", rows["Aggregated"])
    print(
        f"{args.users} clients, {args.seconds} s, think time {args.wait} s, "
        f"gunicorn {args.workers} workers, {len(variables)} variables, "
        f"up to {max(len(d) for d in dated.values())} dates, {combinations:,} distinct "
        "requests"
    )
    print(
        f"{'endpoint':<15}{'requests':>9}{'errors':>8}{'req/s':>8}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
    )
    for r in [*results, total]:
        print(
            f"{r['name']:<15}{r['requests']:>9}{r['errors']:>8}{r['rps']:>8.1f}"
            f"{r['p50']:>8.0f}{r['p95']:>8.0f}{r['p99']:>8.0f}"
        )
    print(
        f"CPU seconds during the run ({wall:.0f} s wall, {os.cpu_count()} cores: "
        f"{wall * (os.cpu_count() or 1):.0f} available): "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items())
        + f"; load average {load_before:.2f} before, {load_after:.2f} after"
    )
    if total["errors"]:
        print(failures)
    ok = total["errors"] == 0 and total["p95"] <= GOAL_P95_MS
    print(f"goal 0 errors and p95 ≤ {GOAL_P95_MS} ms: " + ("met" if ok else "NOT met"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
