"""Import benchmark at full Datenpool scale, measured against a raw COPY.

Generates 15 EWR-like matrix files (one per reference date; 542 Planungsräume ×
667 value columns: the real EWR matrix's 49 variables E_E… then X_050…, about 2 %
empty cells = suppressed), imports them through the real import service in this
process and prints rows/s for parse + write, the aggregation separately, and the
floor: a raw COPY of the same rows into the same table. Each delivery's import,
aggregation and indicator run (the Kernindikatoren over E_*) are timed, and the
first date is set beside the last: a delivery must not take longer because more
dates are stored (goal: within 20 %). Finally it times the values selector for
542 Planungsräume.

    DATABASE_URL=postgis://USER@127.0.0.1:5432/prisma_bench \\
        .venv/bin/python bench/import_bench.py

The database is created, migrated and loaded with the LOR units if needed. Its
observations are TRUNCATEd between the runs, so only a database whose name contains
"bench" is accepted.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from _setup import bench_environment

ROOT = bench_environment(eager=True)

PLR_COUNT = 542
OBS = "datapool_observation"
EWR = ROOT / "datapool" / "data" / "demo" / "EWR_L21_202412E_Matrix.csv"
GOAL_GROWTH = 0.20  # the 15th delivery may take at most 20 % longer than the 1st
COLUMNS = (
    "variable_id, unit_id, ref_date, value, status, is_aggregate, incomplete, note, "
    "import_run_id"
)


def reference_dates(count: int) -> list[str]:
    """Half-yearly AfS reference months (JJJJMM), the latest 2024-12."""
    months, year, month = [], 2024, 12
    for _ in range(count):
        months.append(f"{year}{month:02d}")
        year, month = (year, 6) if month == 12 else (year - 1, 12)
    return sorted(months)


def ensure_database(url: str) -> None:
    from tests.support.databases import database_create, database_name

    name = database_name(url)
    if "bench" not in name:
        sys.exit(f"refusing to use database {name!r}: its name must contain 'bench'")
    if database_create(url):
        print(f"created database {name}")


def variable_names(count: int) -> list[str]:
    """The real matrix's variables (so that the indicators have inputs), then X_…."""
    header = EWR.read_text(encoding="utf-8").splitlines()[0].split(";")
    real = header[header.index("E_E") :][:count]
    return real + [f"X_{i:03d}" for i in range(len(real) + 1, count + 1)]


def generate(
    directory: Path, codes: list[str], variables: int, months: list[str], seed: int
) -> list[Path]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    names = variable_names(variables)
    header = ";".join(["ZEIT", "RAUMID", "BEZ", "PGR", "BZR", "PLR", *names])
    paths = []
    for month in months:
        lines = [header]
        for code in codes:
            cells = [
                "" if rng.random() < 0.02 else str(rng.randrange(10_000)) for _ in names
            ]
            lines.append(
                ";".join(
                    [month, code, code[:2], code[2:4], code[4:6], code[6:], *cells]
                )
            )
        path = directory / f"EWR_L21_{month}E_Matrix.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


@dataclass
class Delivery:
    """One file's seconds: parse + write (import), aggregation, indicator run."""

    name: str
    parse: float
    write: float
    aggregate: float
    indicators: float

    @property
    def total(self) -> float:
        return self.parse + self.write + self.aggregate + self.indicators


@dataclass
class Timing:
    parse: float = 0.0
    write: float = 0.0  # variables, replacing old slices, COPY, commit
    aggregate: float = 0.0  # aggregates, deliveries, coverage
    indicators: float = 0.0  # the computation run the import hands over
    rows: int = 0
    runs: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def import_seconds(self) -> float:
        return self.parse + self.write


def truncate_observations() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {OBS}")
        cursor.execute(f"ANALYZE {OBS}")


def reset() -> None:
    """Forget earlier bench runs, so that variables are created again."""
    from datapool.models import Coverage, ImportRun, Variable
    from datapool.services.indicators import indicator_definitions_load

    truncate_observations()
    Variable.objects.filter(key__startswith="X_").delete()
    ImportRun.objects.all().delete()
    Coverage.objects.all().delete()
    indicator_definitions_load()


def indicator_seconds() -> list[float]:
    """Time every indicator run the imports hand over (eager, after their commit)."""
    import datapool.tasks

    seconds: list[float] = []
    execute = datapool.tasks.indicator_run_execute

    def timed(*, run):
        start = time.perf_counter()
        try:
            return execute(run=run)
        finally:
            seconds.append(time.perf_counter() - start)

    datapool.tasks.indicator_run_execute = timed
    return seconds


def import_files(paths: list[Path], profile: bool) -> Timing:
    from datapool.models import ImportRun
    from datapool.services.imports import import_run_create, import_run_execute

    timing = Timing()
    indicator_runs = indicator_seconds()
    for index, path in enumerate(paths):
        indicator_runs.clear()
        run = import_run_create(
            kind=ImportRun.Kind.EWR, path=path, original_name=path.name
        )
        marks: dict[tuple[str, int], float] = {}

        def echo(phase: str, percent: int, marks=marks) -> None:
            marks.setdefault((phase, percent), time.perf_counter())

        profiler = cProfile.Profile() if profile and index == 0 else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        run = import_run_execute(import_run=run, echo=echo)
        if profiler:
            profiler.disable()
        end = time.perf_counter()
        if run.status != ImportRun.Status.SUCCEEDED:
            sys.exit(f"import of {path.name} failed: {run.error} {run.report[:3]}")
        parsed = marks[("read", 40)]
        aggregate_start, aggregate_end = (
            marks[("aggregate", 80)],
            marks[("aggregate", 98)],
        )
        # The indicator run executes on commit, between the aggregation and the end.
        indicators = sum(indicator_runs)
        delivery = Delivery(
            name=path.name,
            parse=parsed - start,
            write=(aggregate_start - parsed) + (end - aggregate_end) - indicators,
            aggregate=aggregate_end - aggregate_start,
            indicators=indicators,
        )
        timing.deliveries.append(delivery)
        timing.parse += delivery.parse
        timing.write += delivery.write
        timing.aggregate += delivery.aggregate
        timing.indicators += delivery.indicators
        timing.rows += run.summary["values"]
        timing.runs.append(run.pk)
        print(
            f"  {path.name}: {run.summary['values']:,} values, "
            f"parse {delivery.parse:.2f} s, write {delivery.write:.2f} s, "
            f"aggregate {delivery.aggregate:.2f} s, "
            f"indicators {delivery.indicators:.2f} s ({len(indicator_runs)} runs)",
            flush=True,
        )
        if profiler:
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(25)
    return timing


def print_first_and_last(deliveries: list[Delivery], floor: list[float]) -> bool:
    """The first and the last delivery side by side; True if within the goal."""
    first, last = deliveries[0], deliveries[-1]
    print()
    print(
        f"per delivery            {'1st date':>10} {f'{len(deliveries)}th date':>10} "
        f"{'change':>8}"
    )
    print(
        f"{'floor: raw COPY':<23} {floor[0]:>8.2f} s {floor[-1]:>8.2f} s "
        f"{(floor[-1] / floor[0] - 1) * 100:+7.0f} %"
    )
    for label, attr in (
        ("import (parse + write)", None),
        ("aggregation", "aggregate"),
        ("indicators", "indicators"),
        ("all", "total"),
    ):
        if attr is None:
            a, b = first.parse + first.write, last.parse + last.write
        else:
            a, b = getattr(first, attr), getattr(last, attr)
        change = f"{(b / a - 1) * 100:+7.0f} %" if a else "       –"
        print(f"{label:<23} {a:>8.2f} s {b:>8.2f} s {change}")
    growth = last.total / first.total - 1 if first.total else 0.0
    ok = growth <= GOAL_GROWTH
    print(
        f"goal: the {len(deliveries)}th delivery within {GOAL_GROWTH:.0%} of the "
        f"1st: {'met' if ok else 'NOT met'} ({growth:+.0%})"
    )
    return ok


def dump_delivered_rows(run_ids: list[int]) -> list[bytes]:
    """The rows each run delivered (no aggregates), as COPY text, one per run."""
    from django.db import connection

    dumps = []
    with connection.cursor() as cursor:
        for run_id in run_ids:
            buffer = io.BytesIO()
            with cursor.copy(
                f"COPY (SELECT {COLUMNS} FROM {OBS} WHERE import_run_id = {run_id} "
                "AND NOT is_aggregate) TO STDOUT"
            ) as copy:
                for data in copy:
                    buffer.write(data)
            dumps.append(buffer.getvalue())
    return dumps


def raw_copy(dumps: list[bytes]) -> list[float]:
    """Seconds to COPY each dump, one transaction per reference date like imports."""
    from django.db import connection, transaction

    seconds = []
    for dump in dumps:
        start = time.perf_counter()
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.copy(f"COPY {OBS} ({COLUMNS}) FROM STDIN") as copy,
        ):
            copy.write(dump)
        seconds.append(time.perf_counter() - start)
    return seconds


def time_values_query(months: list[str], variables: int, samples: int) -> list[float]:
    from datapool.models import Variable
    from datapool.selectors import observation_values
    from lor.models import LorUnit

    rng = random.Random(7)  # noqa: S311
    timings = []
    for _ in range(samples):
        variable = Variable.objects.get(key=rng.choice(variable_names(variables)))
        month = rng.choice(months)
        ref_date = date(int(month[:4]), int(month[4:]), 31 if month[4:] == "12" else 30)
        start = time.perf_counter()
        rows = observation_values(
            variable=variable, level=LorUnit.Level.PLANUNGSRAUM, ref_date=ref_date
        )
        timings.append((time.perf_counter() - start) * 1000)
        assert len(rows) == PLR_COUNT and any(r.value is not None for r in rows)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variables", type=int, default=667)
    parser.add_argument("--dates", type=int, default=15)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--profile", action="store_true", help="cProfile one import")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("set DATABASE_URL to a throwaway database, e.g. …/prisma_bench")
    ensure_database(os.environ["DATABASE_URL"])

    workdir = Path(tempfile.mkdtemp(prefix="prisma-bench-"))
    os.environ["MEDIA_ROOT"] = str(workdir / "media")  # stored copies of the files

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from lor.models import LorUnit

    call_command("migrate", verbosity=0)
    if LorUnit.objects.filter(level=LorUnit.Level.PLANUNGSRAUM).count() != PLR_COUNT:
        call_command("lor_import", verbosity=0)
    codes = sorted(
        LorUnit.objects.filter(level=LorUnit.Level.PLANUNGSRAUM).values_list(
            "code", flat=True
        )
    )
    months = reference_dates(args.dates)
    cells = args.variables * len(codes) * len(months)
    print(
        f"PostgreSQL {connection.cursor().connection.info.server_version}, "
        f"{os.cpu_count()} cores; {args.variables} variables × {len(codes)} PLR × "
        f"{len(months)} dates = {cells:,} values"
    )

    start = time.perf_counter()
    paths = generate(workdir, codes, args.variables, months, args.seed)
    size = sum(p.stat().st_size for p in paths)
    print(
        f"generated {len(paths)} files, {size / 2**20:.0f} MiB, in "
        f"{time.perf_counter() - start:.1f} s ({workdir})"
    )

    reset()
    print("our import (import_run_create + import_run_execute):")
    ours = import_files(paths, args.profile)

    samples = time_values_query(months, args.variables, 25)
    dumps = dump_delivered_rows(ours.runs)
    assert sum(d.count(b"\n") for d in dumps) == ours.rows

    truncate_observations()
    floor_per_date = raw_copy(dumps)
    floor_seconds = sum(floor_per_date)
    truncate_observations()

    ours_rate = ours.rows / ours.import_seconds
    floor_rate = ours.rows / floor_seconds
    print()
    print(f"rows delivered:                 {ours.rows:>12,}")
    print(
        f"our import, parse + write:      {ours.import_seconds:>9.1f} s "
        f"{ours_rate:>10,.0f} rows/s  (parse {ours.parse:.1f} s, "
        f"write {ours.write:.1f} s)"
    )
    print(
        f"raw COPY of the same rows:      {floor_seconds:>9.1f} s "
        f"{floor_rate:>10,.0f} rows/s"
    )
    print(
        f"ratio ours / raw COPY:          {ours_rate / floor_rate:>9.2f}  "
        f"(target ≥ 0.50)"
    )
    print(
        f"aggregation (4 levels, deliveries, coverage): {ours.aggregate:.1f} s "
        f"in total, {ours.aggregate / len(paths):.2f} s per date"
    )
    print(
        f"indicator runs (after each import):             {ours.indicators:.1f} s "
        f"in total, {ours.indicators / len(paths):.2f} s per date"
    )
    print_first_and_last(ours.deliveries, floor_per_date)
    print(
        f"values selector, 542 PLR, random variable/date: first "
        f"{samples[0]:.1f} ms, median {statistics.median(samples):.1f} ms, "
        f"max {max(samples):.1f} ms ({len(samples)} queries)"
    )
    shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
