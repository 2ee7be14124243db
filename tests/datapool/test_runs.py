"""The run lifecycle: heartbeat independent of progress, compare-and-set states."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from datapool.models import ImportRun, Observation
from datapool.services.imports import import_run_create, import_run_execute
from datapool.services.runs import (
    STALE_AFTER,
    RunLost,
    import_runs_fail_stale,
    run_start,
)
from datapool.tasks import import_runs_send_queued_task
from tests.datapool.conftest import db_state, write_text

EWR_SMALL = (
    "ZEIT;RAUMID;BEZ;PGR;BZR;PLR;E_E\n"
    "202412;01100101;01;10;01;01;3580\n"
    "202412;01100102;01;10;01;02;4211\n"
)


def _computation_run() -> ImportRun:
    return ImportRun.objects.create(
        kind=ImportRun.Kind.COMPUTATION, original_name="Indikatoren (1)"
    )


@pytest.mark.django_db(transaction=True)
def test_heartbeat_keeps_a_run_without_progress_alive(settings):
    # Issue 15, finding 7: the heartbeat used to be written only with progress, so
    # a long phase without progress looked dead to the sweep.
    settings.PRISMA_RUN_HEARTBEAT_SECONDS = 0.05
    run = _computation_run()
    execution = run_start(run=run)
    assert execution is not None
    long_ago = timezone.now() - STALE_AFTER - timedelta(minutes=1)
    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=long_ago)
    with execution.heartbeat():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.heartbeat_at > long_ago + timedelta(minutes=1):
                break
            time.sleep(0.02)
        assert run.heartbeat_at > timezone.now() - timedelta(seconds=10)
        assert import_runs_fail_stale() == 0
    run.refresh_from_db()
    assert run.status == ImportRun.Status.RUNNING


@pytest.mark.django_db
def test_run_starts_once():
    run = _computation_run()
    assert run_start(run=run) is not None
    assert run_start(run=ImportRun.objects.get(pk=run.pk)) is None
    run.refresh_from_db()
    assert (run.status, run.attempts) == (ImportRun.Status.RUNNING, 1)


@pytest.mark.django_db
def test_an_attempt_that_lost_its_run_cannot_finish_it():
    run = _computation_run()
    first = run_start(run=run)
    assert import_runs_fail_stale(now=timezone.now() + STALE_AFTER * 2) == 1
    second = run_start(run=ImportRun.objects.get(pk=run.pk))  # the retry
    assert second is not None and second.attempt == 2
    with pytest.raises(RunLost):
        first.succeed(summary={"values": 1})
    assert first.fail("kaputt", []) is False
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == (ImportRun.Status.RUNNING, 2, "")
    second.succeed(summary={"values": 2})
    run.refresh_from_db()
    assert (run.status, run.summary) == (ImportRun.Status.SUCCEEDED, {"values": 2})
    # A finished run is failed neither by the sweep nor by a late attempt.
    assert import_runs_fail_stale(now=timezone.now() + STALE_AFTER * 2) == 0
    assert second.fail("zu spät", []) is False
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_import_failed_by_the_sweep_while_running_rolls_back_and_stays_failed(
    tmp_path,
):
    path = write_text(tmp_path, "EWR_L21_202412E_Matrix.csv", EWR_SMALL)
    run = import_run_create(kind=ImportRun.Kind.EWR, path=path, original_name=path.name)
    before = db_state()
    swept = []

    def sweep_while_reading(phase: str, percent: int) -> None:
        # The sweep declares the run dead while it still reads its file.
        if not swept:
            swept.append(import_runs_fail_stale(now=timezone.now() + STALE_AFTER * 2))

    run = import_run_execute(import_run=run, echo=sweep_while_reading)

    assert swept == [1]
    assert run.status == ImportRun.Status.FAILED
    assert run.error.startswith("Der Import wurde unterbrochen")
    assert not Observation.objects.filter(import_run=run).exists()
    assert db_state() == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()


@pytest.mark.django_db
def test_pages_only_read_the_periodic_sweep_fails_silent_runs(client, administrator):
    run = _computation_run()
    run_start(run=run)
    ImportRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - STALE_AFTER - timedelta(minutes=1)
    )
    client.force_login(administrator)
    for url in ("/datapool/imports/", f"/datapool/imports/{run.pk}/"):
        assert client.get(url).status_code == 200
    assert client.get(f"/api/imports/{run.pk}/").json()["status"] == "running"
    run.refresh_from_db()
    assert run.status == ImportRun.Status.RUNNING

    import_runs_send_queued_task()  # what Celery beat runs every minute
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
