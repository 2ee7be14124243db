"""Imports in a real Celery worker, fed through a private Redis, including a worker
that is killed in the middle of writing."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from datapool.models import ImportRun, Observation, Variable
from datapool.services.imports import (
    import_run_create,
    import_run_enqueue,
    import_run_execute,
    import_run_retry,
    import_runs_fail_stale,
)
from lor.models import LorUnit
from prisma.celery import app as celery_app
from prisma.celery import queue_names
from tests.datapool.conftest import EWR_FILE, db_state

# Committed data, so that the worker process sees it; the tables are flushed
# afterwards, hence lor_units.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("lor_units"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]

CELERY = Path(sys.executable).parent / "celery"
WIDE_COLUMNS = 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def _wait_for(check: Callable[[], bool], *, timeout: float, what: str, logs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{tails}")


@pytest.fixture(scope="module")
def broker_url(tmp_path_factory) -> Iterator[str]:
    """A Redis of our own: the machine's shared one on 6379 is never touched."""
    port = _free_port()
    log = tmp_path_factory.mktemp("redis") / "redis.log"
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(log),
        ]
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port)

        def answers() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        _wait_for(answers, timeout=10, what="redis-server", logs=[log])
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def _forget_connections() -> None:
    # The app caches its broker pool and result backend on first use; both must
    # follow changed URLs.
    backend = celery_app._backend_cache or getattr(celery_app._local, "backend", None)
    if backend is not None and hasattr(backend, "result_consumer"):
        backend.result_consumer.stop()
    kombu.pools.reset()  # closes and forgets the broker connections of all apps
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local = threading.local()


@pytest.fixture
def tasks_sent_to_worker(broker_url) -> Iterator[None]:
    """Tasks from this process go to the private broker instead of running here."""
    keys = ("broker_url", "result_backend", "task_always_eager")
    saved = {key: getattr(celery_app.conf, key) for key in keys}
    celery_app.conf.update(
        broker_url=broker_url, result_backend=broker_url, task_always_eager=False
    )
    _forget_connections()
    yield
    _forget_connections()
    celery_app.conf.update(saved)


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        user += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgis://{user}@{host}/{db['NAME']}"  # NAME is the test database


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process, self.log = process, log

    def kill(self) -> None:
        """SIGKILL: no cleanup runs, as when the machine or the OOM killer ends it."""
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def start_worker(
    broker_url, tasks_sent_to_worker, tmp_path
) -> Iterator[Callable[[], Worker]]:
    """Starts Celery workers on the test database; all are stopped afterwards."""
    workers: list[Worker] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "prisma.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Progress through its own connection, as in production, so that this
        # process sees the phase while the import's transaction is open.
        "PRISMA_SEPARATE_PROGRESS_DB": "1",
    }

    def start() -> Worker:
        log = tmp_path / f"worker-{len(workers) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(CELERY),
                    "-A",
                    "prisma",
                    "worker",
                    "--pool=solo",
                    "--concurrency=1",
                    "-l",
                    "INFO",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "-Q",
                    ",".join(queue_names()),
                    "-n",
                    f"prisma-test-{len(workers) + 1}@%h",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process, log)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        _stop(worker.process)


def _wait_for_run(run: ImportRun, done: Callable[[ImportRun], bool], *, what, logs):
    def check() -> bool:
        run.refresh_from_db()
        return done(run)

    _wait_for(check, timeout=60, what=what, logs=logs)
    return run


def _finished(run: ImportRun) -> bool:
    return run.is_finished or run.status == ImportRun.Status.REVIEW


def _created(request, **kwargs) -> ImportRun:
    run = import_run_create(**kwargs)
    request.addfinalizer(lambda: Path(run.file.path).unlink(missing_ok=True))
    return run


def test_worker_imports_the_real_matrix(request, start_worker):
    worker = start_worker()
    run = _created(
        request,
        kind=ImportRun.Kind.EWR,
        path=EWR_FILE,
        original_name=EWR_FILE.name,
        options={"key_map": {"06200318": "06200418"}},
    )
    import_run_enqueue(import_run=run)  # on_commit: sent at once here

    _wait_for_run(run, _finished, what="the import", logs=[worker.log])
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    assert run.task_id and run.attempts == 1
    assert f"Task datapool.tasks.import_run_execute_task[{run.task_id}]" in (
        worker.log.read_text()
    )
    e_e = Observation.objects.filter(variable__key="E_E")
    assert e_e.filter(unit__level=LorUnit.Level.PLANUNGSRAUM).count() == 542
    assert e_e.get(unit__code="01100101").value == 3580


def _plr_codes() -> list[str]:
    return sorted(
        LorUnit.objects.filter(level=LorUnit.Level.PLANUNGSRAUM).values_list(
            "code", flat=True
        )
    )


def _wide_matrix(directory: Path, month: str, seed: int) -> Path:
    """An EWR-like matrix of all 542 Planungsräume with many value columns."""
    rng = random.Random(seed)
    names = [f"X_{i:03d}" for i in range(1, WIDE_COLUMNS + 1)]
    lines = [";".join(["ZEIT", "RAUMID", "BEZ", "PGR", "BZR", "PLR", *names])]
    for code in _plr_codes():
        values = (
            "" if rng.random() < 0.02 else str(rng.randrange(5000)) for _ in names
        )
        lines.append(
            ";".join([month, code, code[:2], code[2:4], code[4:6], code[6:], *values])
        )
    path = directory / f"EWR_L21_{month}E_Matrix_wide.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def _uncommitted_observation(**row) -> Iterator[None]:
    """A row inserted in an open transaction of another session: an import that
    writes the same key waits in the middle of its COPY until it ends."""
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "host": db["HOST"],
        "port": db["PORT"],
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}) as blocker:
        blocker.execute(
            f"INSERT INTO {Observation._meta.db_table} (variable_id, unit_id, "
            "ref_date, value, status, is_aggregate, incomplete, note, import_run_id) "
            "VALUES (%(variable_id)s, %(unit_id)s, %(ref_date)s, 0, 'ok', false, "
            "false, '', %(import_run_id)s)",
            row,
        )
        try:
            yield
        finally:
            blocker.rollback()


def _copy_waiting() -> int | None:
    """Rows a COPY into the observations has read while it waits for a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.tuples_processed FROM pg_stat_progress_copy c "
            "JOIN pg_stat_activity a ON a.pid = c.pid "
            "WHERE c.datname = current_database() AND c.relid = %s::regclass "
            "AND a.wait_event_type = 'Lock'",
            [Observation._meta.db_table],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _other_sessions() -> set[int]:
    # Other tests may keep sessions open (the live server's thread); compare sets.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


def test_worker_killed_while_writing_leaves_nothing_and_retry_completes(
    request, start_worker, tmp_path
):
    # An earlier delivery (June) whose values and aggregates must survive.
    earlier = _created(
        request,
        kind=ImportRun.Kind.EWR,
        path=_wide_matrix(tmp_path, "202406", seed=1),
        original_name="EWR_L21_202406E_Matrix_wide.csv",
    )
    assert import_run_execute(import_run=earlier).status == ImportRun.Status.SUCCEEDED
    before = db_state()
    path = _wide_matrix(tmp_path, "202412", seed=2)
    run = _created(request, kind=ImportRun.Kind.EWR, path=path, original_name=path.name)
    middle = _plr_codes()[300]
    # The import is made to pause half-way through writing: at the first value of
    # the 301st Planungsraum, 300 × WIDE_COLUMNS values are in its open transaction.
    sessions_before = _other_sessions()
    with _uncommitted_observation(
        variable_id=Variable.objects.get(key="X_001").pk,
        unit_id=LorUnit.objects.get(code=middle).pk,
        ref_date=date(2024, 12, 31),
        import_run_id=earlier.pk,
    ):
        first = start_worker()
        import_run_enqueue(import_run=run)  # on_commit: sent at once here
        _wait_for(
            lambda: (_copy_waiting() or 0) > 0,
            timeout=60,
            what="the COPY to wait half-way",
            logs=[first.log],
        )
        copied = _copy_waiting()
        first.kill()
    assert copied >= 300 * WIDE_COLUMNS
    run.refresh_from_db()
    assert (run.status, run.phase, run.percent) == (
        ImportRun.Status.RUNNING,
        "write",
        40,
    )
    # PostgreSQL ends the dead worker's sessions and rolls their transaction back.
    _wait_for(
        lambda: not (_other_sessions() - sessions_before),
        timeout=20,
        what="the rollback",
    )
    assert not Observation.objects.filter(import_run=run).exists()
    assert db_state() == before

    # Until a page asks, the run looks running; its heartbeat then counts as stale.
    assert import_runs_fail_stale(now=timezone.now()) == 0
    assert import_runs_fail_stale(now=timezone.now() + timedelta(hours=1)) == 1
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.error.startswith("Der Import wurde unterbrochen")
    assert "es wurde nichts geändert" in run.error

    import_run_retry(import_run=run)
    second = start_worker()
    _wait_for_run(run, _finished, what="the retried import", logs=[second.log])
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    assert run.attempts == 2
    written = Observation.objects.filter(
        import_run=run, unit__level=LorUnit.Level.PLANUNGSRAUM
    )
    cells = 542 * WIDE_COLUMNS
    assert written.count() == cells == run.summary["values"]
    assert written.values("variable", "unit", "ref_date").distinct().count() == cells
    assert set(written.values_list("ref_date", flat=True)) == {date(2024, 12, 31)}
    june = Observation.objects.filter(ref_date=date(2024, 6, 30))
    assert set(june.values_list("import_run", flat=True)) == {earlier.pk}
