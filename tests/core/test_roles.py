"""Roles and district ownership: who may upload, edit, release and read what.

The data are real: the AfS EWR matrix (Berlin-wide) and the derived table t2
(Einwohnende nach Altersgruppen, 31.12.2024) cut to one district, as a district
office would deliver it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.access import ROLE_GROUPS, Role, data_edit_allowed, user_assign, user_role
from core.models import AuditEvent
from datapool.models import ImportRun, Observation, Variable
from datapool.services.catalogue import variable_release, variable_update
from datapool.services.imports import import_run_create, import_run_execute
from lor.models import LorUnit
from queries.models import SavedQuery
from queries.selectors import saved_query_list
from queries.services import saved_query_create
from tests.conftest import SHARED_DATA, make_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T2 = SHARED_DATA / "einwohner_plr_2024-12-31_t2_altersgruppen.csv"
SELECTION = {"level": "bezirk", "columns": ["E_E"]}


def _t2_csv(prefixes: tuple[str, ...]) -> bytes:
    """The real t2 table with only the Planungsräume of the given districts."""
    with T2.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [r for r in reader if r["id"].zfill(8)[:2] in prefixes]
        fields = reader.fieldnames
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _mapping(key: str) -> dict:
    return {
        "key_column": "id",
        "ref_date": "2024-12-31",
        "columns": {
            "inhabitants_age_below_6": {
                "variable": key,
                "new": {
                    "name": "Kinder unter 6 Jahren (Bezirksdaten)",
                    "theme": "bevoelkerung",
                    "unit": "Personen",
                    "value_type": "count",
                    "aggregation": "sum",
                },
            }
        },
    }


@pytest.fixture
def people(django_user_model, lor_units):
    return {
        "guest": make_user(django_user_model, "gast", Role.GUEST, None),
        "planner": make_user(django_user_model, "planung01", Role.PLANNER, "01"),
        "coord03": make_user(django_user_model, "koord03", Role.COORDINATOR, "03"),
        "coord07": make_user(django_user_model, "koord07", Role.COORDINATOR, "07"),
        "admin": make_user(django_user_model, "admin", Role.ADMIN, None),
    }


def _district_import(user, code: str, key: str) -> ImportRun:
    run = import_run_create(
        kind=ImportRun.Kind.TABLE,
        upload=SimpleUploadedFile(f"t2_{code}.csv", _t2_csv((code,))),
        original_name=f"t2_{code}.csv",
        user=user,
        options=_mapping(key),
    )
    return import_run_execute(import_run=run)


def _ewr_upload() -> SimpleUploadedFile:
    """The real EWR matrix as an uploaded file."""
    return SimpleUploadedFile(
        "EWR_L21_202412E_Matrix.csv",
        (SHARED_DATA / "EWR_L21_202412E_Matrix.csv").read_bytes(),
        content_type="text/csv",
    )


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- the roles themselves ----------------------------------------------------------


def test_the_four_role_groups_exist_with_their_permissions():
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_GROUPS.values())}
    assert set(groups) == set(ROLE_GROUPS.values())
    admin_perms = set(
        groups["Administration"].permissions.values_list("codename", flat=True)
    )
    assert {"change_variable", "delete_importrun", "view_auditevent"} <= admin_perms
    coord = set(
        groups["Datenkoordination"].permissions.values_list("codename", flat=True)
    )
    assert {"change_variable", "add_importrun"} <= coord
    assert "delete_variable" not in coord
    guest = set(
        groups["Gastbegutachtung"].permissions.values_list("codename", flat=True)
    )
    assert guest == {"view_variable"}


def test_user_without_prisma_group_is_a_guest():
    user = UserFactory(username="neu")
    assert user_role(user) == Role.GUEST
    assert not data_edit_allowed(user=user, bezirk_code="01")


def test_administrator_role_gives_admin_site_access(people):
    assert people["admin"].is_staff
    assert not people["planner"].is_staff


# --- the acceptance criterion: 03 may not touch 07, through UI and API ---------------


def test_coordinator_03_gets_403_uploading_district_07_data_in_the_ui(client, people):
    client.force_login(people["coord03"])
    bezirk07 = LorUnit.objects.get(level=LorUnit.Level.BEZIRK, code="07")
    upload = SimpleUploadedFile("t2_07.csv", _t2_csv(("07",)), content_type="text/csv")
    response = client.post(
        "/datapool/imports/new/",
        {"file": upload, "kind": "table", "district": bezirk07.pk},
    )
    assert response.status_code == 403
    assert not ImportRun.objects.exists()


def test_coordinator_03_gets_403_uploading_district_07_data_through_the_api(people):
    upload = SimpleUploadedFile("mss_07.csv", _t2_csv(("07",)), content_type="text/csv")
    response = _api(people["coord03"]).post(
        "/api/imports/", {"file": upload, "kind": "mss", "district": "07"}
    )
    assert response.status_code == 403
    assert not ImportRun.objects.exists()


def test_coordinator_03_gets_403_editing_district_07_data_in_ui_and_api(client, people):
    run = _district_import(people["coord07"], "07", "KITA07_U6")
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    variable = Variable.objects.get(key="KITA07_U6")
    variable_release(user=people["coord07"], variable=variable)
    client.force_login(people["coord03"])

    assert client.get("/datapool/variables/KITA07_U6/edit/").status_code == 403
    response = client.post(
        "/datapool/variables/KITA07_U6/edit/",
        {"name": "übernommen", "theme": "sonstiges", "delivery_cycle": "once"},
    )
    assert response.status_code == 403
    assert (
        client.post(
            "/datapool/variables/KITA07_U6/release/", {"released": "0"}
        ).status_code
        == 403
    )
    response = _api(people["coord03"]).patch(
        "/api/variables/KITA07_U6/", {"name": "übernommen"}, format="json"
    )
    assert response.status_code == 403
    response = _api(people["coord03"]).patch(
        "/api/variables/KITA07_U6/", {"released": False}, format="json"
    )
    assert response.status_code == 403
    variable.refresh_from_db()
    assert variable.name == "Kinder unter 6 Jahren (Bezirksdaten)"
    assert variable.released
    # The owning coordinator may, in both.
    response = _api(people["coord07"]).patch(
        "/api/variables/KITA07_U6/", {"unit": "Kinder"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["unit"] == "Kinder"


def test_services_check_ownership_not_only_views(people):
    run = _district_import(people["coord07"], "07", "KITA07_U6")
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    variable = Variable.objects.get(key="KITA07_U6")
    with pytest.raises(PermissionDenied):
        variable_update(user=people["coord03"], variable=variable, data={"unit": "x"})
    with pytest.raises(PermissionDenied):
        variable_release(user=people["planner"], variable=variable)
    with pytest.raises(PermissionDenied):
        import_run_create(
            kind=ImportRun.Kind.EWR,
            path=SHARED_DATA / "EWR_L21_202412E_Matrix.csv",
            original_name="EWR_L21_202412E_Matrix.csv",
            user=people["coord03"],
            district=LorUnit.objects.get(level=LorUnit.Level.BEZIRK, code="07"),
        )


# --- district ownership of uploads ------------------------------------------------


def test_district_upload_belongs_to_the_district_and_starts_unreleased(people):
    run = _district_import(people["coord03"], "03", "KITA03_U6")
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert run.district.code == "03"
    variable = Variable.objects.get(key="KITA03_U6")
    assert variable.district.code == "03"
    assert not variable.released
    # The real values: Bezirk 03's total is the sum of its Planungsräume in t2.
    with T2.open(encoding="utf-8", newline="") as fh:
        expected = sum(
            int(r["inhabitants_age_below_6"])
            for r in csv.DictReader(fh)
            if r["id"].zfill(8)[:2] == "03"
        )
    total = Observation.objects.get(
        variable=variable, unit__level=LorUnit.Level.BEZIRK, unit__code="03"
    )
    assert total.value == expected


def test_unreleased_data_is_hidden_until_released(people):
    _district_import(people["coord03"], "03", "KITA03_U6")
    values = {"variable": "KITA03_U6", "level": "bezirksregion"}
    for role in ("guest", "planner", "coord07"):
        client = _api(people[role])
        assert client.get("/api/values/", values).status_code == 404, role
        keys = [v["key"] for v in client.get("/api/variables/").json()]
        assert "KITA03_U6" not in keys, role
    for role in ("coord03", "admin"):
        assert _api(people[role]).get("/api/values/", values).status_code == 200

    response = _api(people["coord03"]).patch(
        "/api/variables/KITA03_U6/", {"released": True}, format="json"
    )
    assert response.status_code == 200
    rows = _api(people["planner"]).get("/api/values/", values).json()["results"]
    regions03 = LorUnit.objects.filter(
        level=LorUnit.Level.BEZIRKSREGION, code__startswith="03"
    ).count()
    shown = [r for r in rows if r["code"].startswith("03") and r["value"] is not None]
    assert len(shown) == regions03
    event = AuditEvent.objects.get(action=AuditEvent.Action.RELEASE)
    assert event.username == "koord03"
    assert event.object_label.endswith("(KITA03_U6)")


def test_district_upload_with_rows_of_another_district_is_refused(people):
    run = _district_import(people["coord03"], "03", "KITA03_U6")
    assert run.status == ImportRun.Status.SUCCEEDED
    run = import_run_create(
        kind=ImportRun.Kind.TABLE,
        upload=SimpleUploadedFile("t2_03_07.csv", _t2_csv(("03", "07"))),
        original_name="t2_03_07.csv",
        user=people["coord03"],
        options=_mapping("KITA03_U6"),
    )
    before = Observation.objects.filter(variable__key="KITA03_U6").count()
    run = import_run_execute(import_run=run)
    assert run.status == ImportRun.Status.FAILED
    messages = " ".join(p["message"] for p in run.report)
    assert "liegt nicht im Bezirk 03" in messages
    assert "07" in messages
    assert Observation.objects.filter(variable__key="KITA03_U6").count() == before


def test_district_upload_may_not_overwrite_berlin_wide_variables(people, ewr_imported):
    e_e = Observation.objects.get(
        variable__key="E_E", unit__code="03100101", ref_date=date(2024, 12, 31)
    )
    run = _district_import(people["coord03"], "03", "E_E")
    assert run.status == ImportRun.Status.FAILED
    assert "Die Variable E_E gehört nicht diesem Bezirk" in run.report[0]["message"]
    e_e_after = Observation.objects.get(pk=e_e.pk)
    assert e_e_after.value == e_e.value


def test_coordinator_upload_without_district_is_their_district(client, people):
    client.force_login(people["coord03"])
    upload = SimpleUploadedFile("t2_03.csv", _t2_csv(("03",)), content_type="text/csv")
    response = client.post("/datapool/imports/new/", {"file": upload, "kind": "table"})
    assert response.status_code == 302
    assert ImportRun.objects.get().district.code == "03"


def test_only_administrators_upload_berlin_wide_data(people):
    for role in ("guest", "planner"):
        upload = SimpleUploadedFile("x.csv", b"a;b\n1;2\n", content_type="text/csv")
        response = _api(people[role]).post("/api/imports/", {"file": upload})
        assert response.status_code == 403, role
    upload = _ewr_upload()
    response = _api(people["admin"]).post("/api/imports/", {"file": upload})
    assert response.status_code == 201
    assert response.json()["kind"] == "ewr"


def test_api_upload_is_audited_and_a_refused_table_leaves_nothing(people):
    # One upload service for page and API: the API used to store a table, then
    # delete its run without an audit record.
    table = SimpleUploadedFile("t2_03.csv", _t2_csv(("03",)), content_type="text/csv")
    response = _api(people["admin"]).post("/api/imports/", {"file": table})
    assert response.status_code == 400
    assert "Tabellen bitte über die Oberfläche" in response.json()["file"]
    assert not ImportRun.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).exists()

    upload = _ewr_upload()
    response = _api(people["admin"]).post("/api/imports/", {"file": upload})
    assert response.status_code == 201
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE)
    assert event.details["kind"] == "ewr"
    assert event.details["file"] == "EWR_L21_202412E_Matrix.csv"


# --- guests and saved queries ------------------------------------------------------


def test_guest_reads_but_saves_nothing(client, people, ewr_imported):
    client.force_login(people["guest"])
    assert client.get("/datapool/variables/E_E/").status_code == 200
    assert client.get("/datapool/imports/").status_code == 403
    assert client.get("/queries/new/").status_code == 403
    response = _api(people["guest"]).post(
        "/api/queries/", {"title": "x", "selection": SELECTION}, format="json"
    )
    assert response.status_code == 403
    assert not SavedQuery.objects.exists()


def test_district_shared_queries_are_visible_in_that_district_only(
    people, ewr_imported
):
    bezirk03 = LorUnit.objects.get(level=LorUnit.Level.BEZIRK, code="03")
    query = saved_query_create(
        owner=people["coord03"],
        title="Kitaplätze Pankow",
        selection=SELECTION,
        sharing=SavedQuery.Sharing.DISTRICT,
        district=bezirk03,
    )
    colleague = people["planner"]
    user_assign(user=colleague, role=Role.PLANNER, bezirk_code="03")
    assert query in saved_query_list(user=colleague)
    assert query in saved_query_list(user=people["admin"])
    assert query not in saved_query_list(user=people["coord07"])
    assert query not in saved_query_list(user=people["guest"])
    response = _api(people["coord07"]).get(f"/api/queries/{query.pk}/")
    assert response.status_code == 404


def test_explorer_export_of_an_unreleased_variable_is_refused(client, people):
    _district_import(people["coord03"], "03", "KITA03_U6")
    selection = json.dumps({"level": "bezirk", "columns": ["KITA03_U6"]})
    client.force_login(people["planner"])
    response = client.get(
        "/analysis/export/", {"format": "csv", "selection": selection}
    )
    assert response.status_code == 404
    client.force_login(people["coord03"])
    response = client.get(
        "/analysis/export/", {"format": "csv", "selection": selection}
    )
    assert response.status_code == 200


def test_guest_sees_only_released_non_confidential_variables(people, ewr_imported):
    from datapool.confidentiality import variable_is_confidential

    run = _district_import(people["coord03"], "03", "KITA03_U6")
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    variable = Variable.objects.get(key="KITA03_U6")
    variable_release(user=people["coord03"], variable=variable)
    # A district's counts are confidential at small numbers: staff only.
    assert variable_is_confidential(variable=variable)
    planner_keys = {
        v["key"] for v in _api(people["planner"]).get("/api/variables/").json()
    }
    guest_keys = {v["key"] for v in _api(people["guest"]).get("/api/variables/").json()}
    assert "KITA03_U6" in planner_keys
    assert "KITA03_U6" not in guest_keys
    assert "E_E" in guest_keys
    values = {"variable": "KITA03_U6", "level": "bezirk"}
    assert _api(people["guest"]).get("/api/values/", values).status_code == 404
