"""The audit log: imports, changes, releases, deletes and exports are recorded."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.access import Role
from core.audit import audit_event_list, audit_record
from core.models import AuditEvent
from datapool.models import ImportRun
from queries.services import saved_query_create
from tests.conftest import SHARED_DATA, make_user

pytestmark = pytest.mark.django_db

SELECTION = {"level": "bezirk", "columns": ["E_E", "E_EW"], "within": ""}


@pytest.fixture
def admin(django_user_model, lor_units):
    return make_user(django_user_model, "verwaltung", Role.ADMIN, None)


def test_audit_record_keeps_user_object_and_json_details(admin, ewr_imported):
    event = audit_record(
        user=admin,
        action=AuditEvent.Action.CHANGE,
        obj=ewr_imported,
        details={"ref_date": date(2024, 12, 31), "n": 3},
    )
    event.refresh_from_db()
    assert event.username == "verwaltung"
    assert event.user == admin
    assert event.object_type == "datapool.importrun"
    assert event.object_id == str(ewr_imported.pk)
    assert event.details == {"ref_date": "2024-12-31", "n": 3}
    assert event.at is not None


def test_upload_and_import_are_recorded_with_who_and_what(
    client, admin, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    path = SHARED_DATA / "EWR_L21_202412E_Matrix.csv"
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/datapool/imports/new/", {"file": upload})
    run = ImportRun.objects.get(kind=ImportRun.Kind.EWR)
    created = AuditEvent.objects.get(action=AuditEvent.Action.CREATE)
    assert created.username == "verwaltung"
    assert created.object_id == str(run.pk)
    assert created.details["file"] == path.name
    assert created.details["checksum"] == run.checksum
    # The matrix has one unknown key, so the run waits for a decision first.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/datapool/imports/{run.pk}/resolve/",
            {"decision_06200318": "map:06200418"},
        )
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    imported = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert imported.user == admin
    assert imported.details["values"] == run.summary["values"] == 23848
    assert imported.details["ref_dates"] == ["2024-12-31"]
    assert imported.details["district"] is None


def test_variable_change_and_release_record_old_and_new_values(
    client, admin, ewr_imported
):
    client.force_login(admin)
    response = client.post(
        "/datapool/variables/E_E/edit/",
        {
            "name": "Einwohnende (Melderegister)",
            "theme": "bevoelkerung",
            "unit": "Personen",
            "delivery_cycle": "semiannual",
            "metadata_complete": "on",
        },
    )
    assert response.status_code == 302
    change = AuditEvent.objects.get(action=AuditEvent.Action.CHANGE)
    assert change.object_label.endswith("(E_E)")
    assert change.details["changes"]["name"]["to"] == "Einwohnende (Melderegister)"
    client.post("/datapool/variables/E_E/release/", {"released": "0"})
    withdraw = AuditEvent.objects.get(action=AuditEvent.Action.WITHDRAW)
    assert withdraw.details == {"released": False}


def test_export_records_the_query_behind_it(client, admin, ewr_imported):
    client.force_login(admin)
    response = client.get(
        "/analysis/export/",
        {
            "format": "xlsx",
            "selection": json.dumps(SELECTION),
            "title": "Einwohnende je Bezirk",
        },
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.object_type == "export"
    assert event.details["format"] == "xlsx"
    assert event.details["title"] == "Einwohnende je Bezirk"
    assert event.details["selection"]["columns"] == ["E_E", "E_EW"]
    assert event.details["selection"]["level"] == "bezirk"
    assert event.details["units"] == 12


def test_failed_export_records_nothing(client, admin):
    client.force_login(admin)
    response = client.get("/analysis/export/", {"format": "csv", "selection": "{"})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_deleting_a_saved_query_is_recorded_with_its_selection(
    client, admin, ewr_imported
):
    query = saved_query_create(owner=admin, title="Anfrage 19/1", selection=SELECTION)
    client.force_login(admin)
    client.post(f"/queries/{query.pk}/delete/")
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert event.object_label == "Anfrage 19/1"
    assert event.details["selection"]["columns"] == ["E_E", "E_EW"]


def test_audit_page_is_for_administrators_only(client, admin, django_user_model):
    audit_record(user=admin, action="export", object_label="auswahl.csv")
    assert client.get("/audit/").status_code == 302
    planner = make_user(django_user_model, "planung", Role.PLANNER, "01")
    client.force_login(planner)
    assert client.get("/audit/").status_code == 403
    client.force_login(admin)
    response = client.get("/audit/", {"action": "export", "user": "verw"})
    assert response.status_code == 200
    assert "auswahl.csv" in response.content.decode()
    response = client.get("/audit/", {"action": "delete"})
    assert "auswahl.csv" not in response.content.decode()


def test_audit_event_list_filters(admin):
    audit_record(user=admin, action="export", object_label="a.csv")
    audit_record(user=None, action="import", object_label="Kommandozeile")
    assert [e.object_label for e in audit_event_list(action="import")] == [
        "Kommandozeile"
    ]
    assert audit_event_list(username="verw").count() == 1


def test_deleting_in_the_admin_is_recorded(client, admin, ewr_imported):
    query = saved_query_create(owner=admin, title="Alte Anfrage", selection=SELECTION)
    client.force_login(admin)
    response = client.post(
        f"/admin/queries/savedquery/{query.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert event.object_label == "Alte Anfrage"
    assert event.details == {"via": "admin"}
