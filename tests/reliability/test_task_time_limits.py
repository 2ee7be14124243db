"""Every Celery task has a time limit; at the soft limit an import ends cleanly:
nothing of it is written and its run says in German why it failed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from datapool.models import ImportRun, Observation
from datapool.services.imports import import_run_enqueue
from prisma.celery import app as celery_app
from tests.datapool.conftest import db_state, ewr_run_created
from tests.reliability.test_worker_killed import _deliveries_locked
from tests.support.ports import wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("lor_units"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


def test_every_task_has_a_soft_and_a_hard_time_limit():
    celery_app.loader.import_default_modules()
    tasks = {
        name: task
        for name, task in celery_app.tasks.items()
        if name.split(".")[0] in ("datapool", "profiles", "explorer", "queries", "lor")
    }

    assert "datapool.tasks.import_run_execute_task" in tasks
    for name, task in tasks.items():
        assert task.soft_time_limit and task.time_limit, name
        assert task.soft_time_limit < task.time_limit, name
    imports = tasks["datapool.tasks.import_run_execute_task"]
    assert imports.soft_time_limit > celery_app.conf.task_soft_time_limit


def test_an_import_over_its_soft_time_limit_fails_cleanly_in_german(
    start_worker, tasks_to, request, monkeypatch
):
    # The sender writes the task's limits into the message; the worker obeys
    # them. Here they allow an import 2 seconds.
    from datapool.tasks import import_run_execute_task as task

    monkeypatch.setattr(task, "soft_time_limit", 2)
    monkeypatch.setattr(task, "time_limit", 60)
    monkeypatch.setattr(task, "_exec_options", None)  # options cached on first send
    tasks_to.start()
    run = ewr_run_created(request)
    before = db_state()

    worker = start_worker(pool="prefork")  # a prefork pool enforces time limits
    with _deliveries_locked():
        # The import waits at its last writes (every value written, uncommitted)
        # until the limit ends it; on a busy machine the limit may come earlier,
        # in the middle of the writes. Either way nothing may remain of it.
        import_run_enqueue(import_run=run)
        wait_for(
            lambda: "Soft time limit" in worker.log.read_text(),
            timeout=120,
            what="the soft time limit",
            logs=[worker.log],
        )

    def finished() -> bool:
        run.refresh_from_db()
        return run.is_finished

    wait_for(finished, timeout=60, what="the run to end", logs=[worker.log])
    started = run.started_at
    assert run.status == ImportRun.Status.FAILED
    assert "es wurde nichts geändert" in run.error
    assert "Zeitlimit überschritten" in run.error, run.error
    assert "nach 2 Sekunden" in run.error
    assert run.finished_at > started
    assert not Observation.objects.filter(import_run=run).exists()
    assert db_state() == before
    # The worker survived the soft limit (the hard limit was not needed).
    assert worker.process.poll() is None
    worker.process.terminate()
    try:
        worker.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
