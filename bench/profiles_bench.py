"""Batch PDFs of all 143 Bezirksregionen through a real Celery worker.

Starts a Celery worker (prefork, concurrency 2) on the benchmark database and a
Redis of its own (the shared one on 6379 may have other workers listening),
enqueues the batch for Berlin exactly as the batch page does
(``profile_batch_start``), polls ``profile_batch_status`` until the ZIP is there
and prints the total and per-PDF time. Goal: ≤ 180 s on the 2-core machine.

Beside it, in this process: the floor, the same region's PDF rendered N times
without charts (WeasyPrint only, the document built once), and the CPU time of
each phase (document, charts, layout, PDF writing) for a sample of regions.

    DATABASE_URL=postgis://USER@127.0.0.1:5432/prisma_bench_profiles \\
        .venv/bin/python bench/profiles_bench.py [--scope berlin] [--floor-n 10]

The database is created, migrated and loaded (LOR units, the real EWR matrix
31.12.2024, the indicators) if it has no residents yet. ZIPs go to a temporary
MEDIA_ROOT, removed at the end. ``--redis-url`` uses an existing Redis instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import bench_environment

ROOT = bench_environment(database="prisma_bench_profiles")
EWR = ROOT.parent / "shared" / "data" / "berlin" / "EWR_L21_202412E_Matrix.csv"


def ensure_database() -> None:
    from tests.support.databases import database_create

    database_create(os.environ["DATABASE_URL"])


def load_data() -> None:
    from django.core.management import call_command

    from datapool.models import Observation
    from lor.models import LorUnit

    call_command("migrate", verbosity=0)
    if LorUnit.objects.filter(level="planungsraum").count() != 542:
        call_command("lor_import", verbosity=0)
    if not Observation.objects.filter(variable__key="E_E").exists():
        from django.conf import settings

        settings.CELERY_TASK_ALWAYS_EAGER = True
        call_command(
            "datapool_import", str(EWR), "--map", "06200318=06200418", verbosity=0
        )
    if not Observation.objects.filter(variable__key="KI_ANTEIL_U18").exists():
        call_command("indicators_compute", verbosity=0)


def start_worker(redis_url: str, media: Path, log: Path) -> subprocess.Popen:
    from tests.support.processes import start_celery_worker

    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(media),
        "DEBUG": "false",
    }
    worker = start_celery_worker(
        name=f"profiles-bench-{os.getpid()}",
        log=log,
        env=env,
        pool="prefork",
        concurrency=2,
        loglevel="WARNING",
        # The batch queue only: what the batch worker of run.sh consumes.
        queues=["batch"],
    )
    return worker.process


def wait_for_worker(app, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return
    sys.exit("the worker did not answer")


def worker_cpu(pid: int) -> float:
    """User + system CPU seconds of the worker and its pool processes so far."""
    import psutil

    total = 0.0
    main = psutil.Process(pid)
    for process in [main, *main.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def run_batch(scope: str) -> tuple[float, dict, list[tuple[float, int]]]:
    from profiles.batch import profile_batch_start, profile_batch_status

    started = time.perf_counter()
    batch_id = profile_batch_start(scope=scope)
    seen: list[tuple[float, int]] = []
    while True:
        status = profile_batch_status(batch_id=batch_id)
        if not seen or seen[-1][1] != status["done"]:
            seen.append((time.perf_counter() - started, status["done"]))
            print(
                f"  {seen[-1][0]:6.1f} s  {status['done']:3d}/{status['total']}",
                flush=True,
            )
        if status["ready"] or status["state"] == "FAILURE":
            return time.perf_counter() - started, status, seen
        time.sleep(0.25)


def phases(codes: list[str]) -> list[dict]:
    """CPU seconds per phase for each region, rendered here (as the worker does)."""
    from profiles import rendering

    out = []
    for code in codes:
        with rendering._fewer_collections():
            out.append(_phase(code))
    return out


def _phase(code: str) -> dict:
    from django.template.loader import render_to_string
    from weasyprint import HTML

    from profiles import rendering
    from profiles.selectors import profile_document_for_region, profile_region_get

    t0 = time.process_time()
    document = profile_document_for_region(region=profile_region_get(code=code))
    t1 = time.process_time()
    context = rendering.profile_pdf_context(document=document)
    t2 = time.process_time()
    html = render_to_string("profiles/pdf/full.html", context)
    rendered = HTML(string=html, url_fetcher=rendering._url_fetcher()).render(
        font_config=rendering._font_config()
    )
    t3 = time.process_time()
    rendered.write_pdf()
    t4 = time.process_time()
    return {
        "document": t1 - t0,
        "charts": t2 - t1,
        "layout": t3 - t2,
        "write": t4 - t3,
        "pages": len(rendered.pages),
    }


def floor(code: str, n: int) -> tuple[float, float]:
    """Median wall and CPU seconds of the region's PDF without charts, N times."""
    from profiles.rendering import profile_pdf_render
    from profiles.selectors import profile_document_for_region, profile_region_get

    document = profile_document_for_region(region=profile_region_get(code=code))
    bare = {
        **document,
        "analysis": {
            **document["analysis"],
            "maps": [],
            "series": [],
            "age_structure": [],
        },
    }
    profile_pdf_render(document=bare)
    walls, cpus = [], []
    for _ in range(n):
        w, c = time.perf_counter(), time.process_time()
        profile_pdf_render(document=bare)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scope", default="berlin")
    parser.add_argument("--floor-n", type=int, default=10)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()

    from tests.support.processes import RedisServer, stop

    ensure_database()
    workdir = Path(tempfile.mkdtemp(prefix="profiles-bench-"))
    media = workdir / "media"
    redis_server = None
    redis_url = args.redis_url
    if not redis_url:
        redis_server = RedisServer(log=workdir / "redis.log")
        redis_server.start()
        redis_url = redis_server.url
    os.environ["REDIS_URL"] = redis_url
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["MEDIA_ROOT"] = str(media)

    import django

    django.setup()
    load_data()
    from django.conf import settings

    from prisma.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(
        broker_url=redis_url, result_backend=redis_url, task_always_eager=False
    )
    worker = start_worker(redis_url, media, workdir / "worker.log")
    try:
        wait_for_worker(app)
        print("worker ready (prefork, concurrency 2); warm-up: district 02")
        # Both pool processes import WeasyPrint and matplotlib and read the LOR
        # geometry on their first task; a long-running worker has done so.
        warm, _status, _seen = run_batch("02")
        print(f"warm-up: {warm:.1f} s for 8 PDFs\nscope {args.scope}:")
        cpu_before = worker_cpu(worker.pid)
        total, status, _seen = run_batch(args.scope)
        cpu = worker_cpu(worker.pid) - cpu_before
        if status["state"] == "FAILURE":
            print((workdir / "worker.log").read_text()[-3000:])
            sys.exit(f"batch failed: {status['error']}")
        n = status["total"]
        print(
            f"\nbatch: {n} PDFs in {total:.1f} s = {total / n:.2f} s per PDF "
            f"(wall, 2 processes) = {2 * total / n:.2f} s per PDF per core; "
            f"ZIP {status['size'] / 1e6:.1f} MB"
        )
        print(
            f"worker CPU: {cpu:.1f} s = {cpu / n:.2f} s per PDF "
            f"(on an otherwise idle 2-core machine ≈ {cpu / 2:.0f} s wall "
            "plus PostgreSQL)"
        )
        print(f"load average during the run: {os.getloadavg()[0]:.1f}")
    finally:
        stop(worker, grace=60)
        if redis_server is not None:
            redis_server.stop()

    sample = ["011001", "012005", "030101", "071501", "120101"]
    from lor.models import LorUnit

    sample = [c for c in sample if LorUnit.objects.filter(code=c).exists()] or [
        "011001"
    ]
    phases(sample[:1])  # warm-up: fonts, geometry cache, templates
    rows = phases(sample)
    print("\nCPU seconds per phase (this process, full profile):")
    for code, row in zip(sample, rows, strict=True):
        print(
            f"  {code}: document {row['document']:.2f}  charts {row['charts']:.2f}"
            f"  layout {row['layout']:.2f}  write {row['write']:.2f}"
            f"  ({row['pages']} pages)"
        )
    mean = {
        k: statistics.mean(r[k] for r in rows)
        for k in ("document", "charts", "layout", "write")
    }
    print(
        "  mean:  "
        + "  ".join(f"{k} {v:.2f}" for k, v in mean.items())
        + f"  total {sum(mean.values()):.2f}"
    )
    wall, cpu = floor(sample[0], args.floor_n)
    print(
        f"\nfloor: PDF of {sample[0]} without charts, document built once, "
        f"N = {args.floor_n}: median {wall:.2f} s wall, {cpu:.2f} s CPU"
    )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
