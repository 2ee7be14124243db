"""Facility uploads live the Datenpool's run lifecycle: attempts, heartbeat and the
stale sweep, so an upload whose worker died ends as failed instead of running on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from datapool.models import ImportRun
from infrastructure import uploads
from infrastructure.models import Facility, FacilityUpload
from infrastructure.services import facility_types_ensure
from lor.models import LorUnit

pytestmark = pytest.mark.django_db

GOOD = (
    "name;type;capacity;operator;status;valid_from;valid_to;lon;lat\n"
    "Kita Spreebogen;kita;75;Eigenbetrieb;offen;01.01.2024;;13.3700;52.5200\n"
    "Kita Moabit;kita;40,5;;geplant;2026-01-01;;13.3400;52.5250\n"
)
BAD = (
    "name;type;capacity;lon;lat\n"
    "Kita Spreebogen;kita;viele;13.3700;52.5200\n"
    ";kita;10;13.3400;52.5250\n"
)


@pytest.fixture
def kita_type(lor_units):
    return facility_types_ensure()["kita"]


def _upload(client, text, capture, name="kitas.csv"):
    with capture(execute=True):
        response = client.post(
            reverse("infrastructure:upload-create"),
            {"file": SimpleUploadedFile(name, text.encode("utf-8"))},
        )
    assert response.status_code == 302
    return FacilityUpload.objects.get()


def _running(coordinator, name, beat_ago):
    return FacilityUpload.objects.create(
        file=f"facility_uploads/{name}",
        original_name=name,
        created_by=coordinator,
        # The coordinator's district: the pages show its uploads.
        district=LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code="01"
        ),
        status=FacilityUpload.Status.RUNNING,
        attempts=1,
        phase="check",
        percent=30,
        heartbeat_at=timezone.now() - beat_ago,
    )


def test_facility_uploads_share_the_datapool_run_states():
    # datapool/services/runs.py drives FacilityUpload by ImportRun's state names.
    for name in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED"):
        assert getattr(FacilityUpload.Status, name) == getattr(ImportRun.Status, name)


def test_a_good_upload_runs_one_attempt_under_a_heartbeat_and_succeeds(
    client, coordinator, kita_type, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    upload = _upload(client, GOOD, django_capture_on_commit_callbacks)
    assert upload.status == FacilityUpload.Status.SUCCEEDED, upload.problems
    assert (upload.attempts, upload.phase, upload.percent) == (1, "done", 100)
    assert upload.started_at and upload.heartbeat_at and upload.finished_at
    assert (upload.rows_read, upload.rows_written) == (2, 2)
    assert upload.summary == {"created": 2, "updated": 0, "written": 2}
    assert (upload.problems, upload.error) == ([], "")
    assert Facility.objects.filter(name__in=["Kita Spreebogen", "Kita Moabit"]).count()
    status = client.get(reverse("infrastructure:upload-status", args=[upload.pk]))
    assert status.json()["status"] == "succeeded"
    assert status.json()["rows_written"] == 2


def test_a_bad_upload_still_fails_with_its_grouped_problems(
    client, coordinator, kita_type, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    upload = _upload(client, BAD, django_capture_on_commit_callbacks)
    assert (upload.status, upload.percent) == (FacilityUpload.Status.FAILED, 100)
    assert upload.finished_at is not None
    assert upload.summary == {"problems": 2, "written": 0}
    assert {(g["column"], g["count"]) for g in upload.problems} == {
        ("capacity", 1),
        ("name", 1),
    }
    assert set(upload.problems[0]) == {"file", "column", "message", "count", "examples"}
    assert upload.error == "Die Datei hat 2 Probleme; es wurde nichts geändert."
    assert not Facility.objects.filter(name="Kita Spreebogen").exists()
    page = client.get(reverse("infrastructure:upload-detail", args=[upload.pk]))
    assert 'data-testid="problem-groups"' in page.content.decode()


def test_the_sweep_fails_an_upload_whose_worker_died_and_the_page_says_so(
    client, coordinator, kita_type
):
    from infrastructure.tasks import facility_uploads_sweep_task

    before = Facility.objects.count()
    dead = _running(coordinator, "dead.csv", timedelta(minutes=6))
    alive = _running(coordinator, "alive.csv", timedelta(seconds=10))

    assert facility_uploads_sweep_task() == 1

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == FacilityUpload.Status.FAILED
    assert dead.error == uploads.STALE_MESSAGE
    assert dead.error == (
        "Die Verarbeitung wurde unterbrochen; es wurde nichts geändert. "
        "Bitte die Datei erneut hochladen."
    )
    assert dead.finished_at is not None and dead.phase == "failed"
    assert alive.status == FacilityUpload.Status.RUNNING
    assert Facility.objects.count() == before

    client.force_login(coordinator)
    status = client.get(reverse("infrastructure:upload-status", args=[dead.pk]))
    assert status.json()["status"] == "failed"  # the poller stops and reloads
    page = client.get(reverse("infrastructure:upload-detail", args=[dead.pk]))
    assert uploads.STALE_MESSAGE in page.content.decode()


def test_an_upload_failed_by_the_sweep_while_it_runs_rolls_back_and_stays_failed(
    client, coordinator, kita_type, django_capture_on_commit_callbacks, monkeypatch
):
    before = Facility.objects.count()
    validate = uploads.upload_validate

    def swept_while_checking(**kwargs):
        # The sweep (another process, hence before the write's transaction here)
        # declares the worker dead while the upload is checked; the attempt goes
        # on to write and must not succeed: its writes roll back.
        assert uploads.facility_uploads_fail_stale(
            now=timezone.now() + timedelta(hours=1)
        )
        return validate(**kwargs)

    monkeypatch.setattr(uploads, "upload_validate", swept_while_checking)
    write, written = uploads._write, []

    def write_spied(**kwargs):
        written.append(write(**kwargs))
        return written[-1]

    monkeypatch.setattr(uploads, "_write", write_spied)
    client.force_login(coordinator)
    upload = _upload(client, GOOD, django_capture_on_commit_callbacks)
    assert upload.status == FacilityUpload.Status.FAILED
    assert upload.error == uploads.STALE_MESSAGE
    assert upload.attempts == 1
    assert written == [{"created": 2, "updated": 0, "written": 2}]  # then rolled back
    assert Facility.objects.count() == before
    assert not AuditEvent.objects.filter(
        action="import", object_type="infrastructure.facilityupload"
    ).exists()


def test_a_redelivered_task_leaves_a_running_upload_alone(coordinator, kita_type):
    # A worker that died with the task unacknowledged hands it to another; the
    # upload starts only from queued, so the sweep, not a second attempt, ends it.
    from infrastructure.tasks import facility_upload_execute_task

    upload = _running(coordinator, "dead.csv", timedelta(minutes=1))
    facility_upload_execute_task(upload.pk)
    upload.refresh_from_db()
    assert (upload.status, upload.attempts) == (FacilityUpload.Status.RUNNING, 1)


def test_celery_beat_runs_the_upload_sweep():
    entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "infrastructure.tasks.facility_uploads_sweep_task" in entries
