"""Redis down: pages and the API keep serving, an upload is accepted at once and
stays queued, and the periodic sweep sends it when Redis is back; nothing is lost."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest

from datapool.models import ImportRun, Observation
from datapool.services.runs import UNSENT, UNSENT_MESSAGE, import_runs_send_queued
from datapool.tasks import import_runs_send_queued_task
from lor.models import LorUnit
from tests.datapool.conftest import EWR_FILE
from tests.support.ports import wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("lor_units"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]

PAGES = [
    "/map/",
    "/datapool/",
    "/datapool/imports/",
    "/analysis/explorer/",
    "/api/lor/units/?level=bezirk",
    "/api/variables/",
    "/api/maps/geometry/bezirk/",
    "/health/",
]


@pytest.fixture
def matrix(tmp_path) -> Path:
    """The real EWR matrix of 31.12.2024 with its one pre-2021 key renamed, so that
    it imports without a question."""
    path = tmp_path / EWR_FILE.name
    path.write_bytes(EWR_FILE.read_bytes().replace(b"06200318", b"06200418"))
    return path


def _timed_get(client, url):
    started = time.monotonic()
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
    return response, time.monotonic() - started


def test_redis_down_upload_stays_queued_and_is_sent_when_redis_is_back(
    client, administrator, tasks_to, start_worker, matrix, request
):
    client.force_login(administrator)
    # tasks_to points the app at a Redis that is not running yet.
    for url in PAGES:  # the first request also imports the URL modules
        assert client.get(url).status_code == 200, url
    for url in PAGES:  # no request waits for the dead broker
        response, seconds = _timed_get(client, url)
        assert response.status_code == 200, url
        assert seconds < 3, url

    started = time.monotonic()
    with matrix.open("rb") as fh:
        response = client.post(
            "/datapool/imports/new/",
            {"file": fh, "kind": ImportRun.Kind.EWR},
            HTTP_ACCEPT_LANGUAGE="de",
        )
    assert time.monotonic() - started < 10  # one quick attempt, no reconnect loop
    assert response.status_code == 302
    run = ImportRun.objects.get()
    request.addfinalizer(lambda: Path(run.file.path).unlink(missing_ok=True))
    assert (run.status, run.phase, run.task_id) == (ImportRun.Status.QUEUED, UNSENT, "")
    assert run.error == UNSENT_MESSAGE
    stored = Path(run.file.path)
    assert stored.read_bytes() == matrix.read_bytes()
    assert run.checksum == hashlib.sha256(matrix.read_bytes()).hexdigest()
    assert not Observation.objects.exists()

    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="de")
    assert page.status_code == 200
    assert UNSENT_MESSAGE in page.content.decode()

    # A sweep while Redis is still down changes nothing and returns quickly.
    started = time.monotonic()
    assert import_runs_send_queued() == 0
    assert time.monotonic() - started < 10
    run.refresh_from_db()
    assert (run.status, run.phase) == (ImportRun.Status.QUEUED, UNSENT)

    # Redis comes back; beat's periodic sweep hands the run to the worker.
    tasks_to.start()
    worker = start_worker()
    import_runs_send_queued_task.delay()

    def settled() -> bool:
        run.refresh_from_db()
        busy = ImportRun.objects.filter(
            status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING]
        )
        return run.status == ImportRun.Status.SUCCEEDED and not busy.exists()

    wait_for(settled, timeout=180, what="the queued import", logs=[worker.log])
    assert run.error == "" and run.task_id and run.attempts == 1
    log = worker.log.read_text()
    assert "datapool.tasks.import_runs_send_queued_task" in log
    assert f"datapool.tasks.import_run_execute_task[{run.task_id}]" in log
    e_e = Observation.objects.filter(variable__key="E_E", import_run=run)
    assert e_e.filter(unit__level=LorUnit.Level.PLANUNGSRAUM).count() == 542
    assert e_e.get(unit__code="01100101").value == 3580
    # Berlin's total is the sum of the Planungsräume it was aggregated from.
    plr = e_e.filter(unit__level=LorUnit.Level.PLANUNGSRAUM, status="ok")
    berlin = Observation.objects.get(variable__key="E_E", unit__code="11000000")
    assert berlin.value == sum(o.value for o in plr) or berlin.incomplete
