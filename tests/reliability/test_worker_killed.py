"""A Celery worker killed (SIGKILL) in the middle of importing the real EWR matrix:
nothing of it is written, the run is shown as failed, and a retry completes it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from datapool.models import Delivery, ImportRun, Observation
from datapool.services.imports import import_run_enqueue
from datapool.services.runs import import_runs_fail_stale
from lor.models import LorUnit
from tests.datapool.conftest import db_state, ewr_run_created
from tests.support.databases import other_sessions, session_connect
from tests.support.ports import wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("lor_units"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


@contextmanager
def _deliveries_locked() -> Iterator[None]:
    """Another session holds the delivery table: the import, which records its
    deliveries after writing every value and aggregate, waits there with all of
    them in its open transaction."""
    with session_connect() as blocker:
        blocker.execute(
            f"LOCK TABLE {Delivery._meta.db_table} IN ACCESS EXCLUSIVE MODE"
        )
        try:
            yield
        finally:
            blocker.rollback()


def _import_waiting_for_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            [f"%{Delivery._meta.db_table}%"],
        )
        return cursor.fetchone()[0] > 0


def _enqueue_until_last_writes(run: ImportRun, worker) -> None:
    """Enqueue the run (the deliveries locked) and wait until its import has
    written every value, uncommitted, and waits for the lock."""
    import_run_enqueue(import_run=run)  # on_commit: sent at once here
    wait_for(
        _import_waiting_for_lock,
        timeout=120,
        what="the import to reach its last writes",
        logs=[worker.log],
    )
    run.refresh_from_db()


def test_worker_killed_mid_import_leaves_nothing_and_retry_completes(
    client, administrator, start_worker, tasks_to, request
):
    tasks_to.start()
    run = ewr_run_created(request)
    before = db_state()
    sessions_before = other_sessions()

    with _deliveries_locked():
        first = start_worker()
        _enqueue_until_last_writes(run, first)
        # Every value of the matrix is written, uncommitted, when the worker dies.
        assert (run.status, run.phase) == (ImportRun.Status.RUNNING, "aggregate")
        written_when_killed = run.rows_written
        assert written_when_killed > 542 * 40
        first.kill()

    # PostgreSQL notices the dead client and rolls its transaction back.
    wait_for(
        lambda: not (other_sessions() - sessions_before),
        timeout=30,
        what="the rollback",
    )
    assert not Observation.objects.filter(import_run=run).exists()
    assert db_state() == before

    # Once the heartbeat is older than the stale limit, the periodic sweep (Celery
    # beat; pages only read) fails the run, and its page offers the retry.
    client.force_login(administrator)
    ImportRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=6)
    )
    import_runs_fail_stale()
    html = client.get(f"/datapool/imports/{run.pk}/", HTTP_ACCEPT_LANGUAGE="de")
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "es wurde nichts geändert" in run.error
    assert f"/datapool/imports/{run.pk}/retry/" in html.content.decode()

    second = start_worker()
    response = client.post(f"/datapool/imports/{run.pk}/retry/")
    assert response.status_code == 302

    def done() -> bool:
        run.refresh_from_db()
        return run.is_finished

    wait_for(done, timeout=180, what="the retried import", logs=[second.log])
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    assert run.attempts == 2
    e_e = Observation.objects.filter(variable__key="E_E", import_run=run)
    assert e_e.filter(unit__level=LorUnit.Level.PLANUNGSRAUM).count() == 542
    assert e_e.get(unit__code="01100101").value == 3580
    assert run.summary["values"] == written_when_killed
    assert (
        written_when_killed
        == Observation.objects.filter(import_run=run, is_aggregate=False).count()
    )
