"""The facility register's real layers (Kitas, Schulen, Jugendfreizeiteinrichtungen),
maintenance by the district's coordinators (audited), closing, and uploads."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from core.access import Role
from core.models import AuditEvent
from datapool.models import Facility as MapPoint
from datapool.models import FacilityLayer
from infrastructure.layer_import import facilities_import_gis
from infrastructure.maintenance import facility_close, facility_create, facility_update
from infrastructure.models import Facility, FacilityImport, FacilityType, FacilityUpload
from infrastructure.selectors import supply_by_planungsraum
from infrastructure.services import facility_types_ensure
from lor.models import LorUnit
from tests.conftest import SHARED_DATA, make_user

pytestmark = pytest.mark.django_db

LAYERS = {
    "kita": SHARED_DATA / "infra_kitas_epsg25833.geojson",
    "schule": SHARED_DATA / "infra_schulen_epsg25833.geojson",
    "jfe": SHARED_DATA / "infra_jugendfreizeiteinrichtungen_epsg25833.geojson",
}
# Brandenburger Tor (Mitte, Bezirk 01) in EPSG:25833.
MITTE = Point(389_400, 5_819_700, srid=25833)


def _features(path):
    return json.loads(path.read_text(encoding="utf-8"))["features"]


@pytest.fixture
def kita_type(lor_units):
    return facility_types_ensure()["kita"]


@pytest.fixture
def coord07(django_user_model, lor_units):
    return make_user(django_user_model, "koordination07", Role.COORDINATOR, "07")


def _plr_of(point) -> LorUnit:
    return LorUnit.objects.get(
        scheme=LorUnit.Scheme.LOR_2021,
        level=LorUnit.Level.PLANUNGSRAUM,
        geom__covers=point,
    )


# --- import of the real layers --------------------------------------------------


def test_the_three_layers_are_imported_with_every_feature(lor_units):
    call_command(
        "infrastructure_import",
        *(f"{key}={path}" for key, path in LAYERS.items()),
        verbosity=0,
    )
    for key, path in LAYERS.items():
        features = _features(path)
        stored = Facility.objects.filter(facility_type__key=key)
        assert stored.count() == len(features), key
        # Every point lies in Berlin: each has its Planungsraum from PostGIS.
        assert not stored.filter(unit__isnull=True).exists(), key
    # A Kita's places are its e_platz attribute; its Träger is the operator.
    first = _features(LAYERS["kita"])[0]["properties"]
    kita = Facility.objects.get(facility_type__key="kita", source_key=first["e_nr"])
    assert kita.capacity == Decimal(first["e_platz"])
    assert kita.name == first["e_name"]
    assert kita.operator == first["t_name"]
    assert kita.attributes["e_strasse"] == first["e_strasse"]
    total = sum(int(f["properties"]["e_platz"]) for f in _features(LAYERS["kita"]))
    summed = sum(
        supply_by_planungsraum(
            facility_type=FacilityType.objects.get(key="kita"), on=date(2024, 12, 31)
        ).values()
    )
    assert summed == total
    # Schools record no pupils or places: capacity stays empty, not 0.
    assert not Facility.objects.filter(
        facility_type__key="schule", capacity__isnull=False
    ).exists()
    # The explorer's map layers now draw the register.
    assert MapPoint.objects.filter(layer__key="kitas").count() == len(
        _features(LAYERS["kita"])
    )


def test_the_kita_planungsraum_is_found_by_point_in_polygon(lor_units):
    facilities_import_gis(path=LAYERS["kita"], type_key="kita")
    kita = Facility.objects.filter(facility_type__key="kita").first()
    assert kita.unit == _plr_of(kita.geom)


def test_running_the_import_twice_changes_nothing_and_keeps_edits(
    lor_units, coordinator
):
    args = [f"jfe={LAYERS['jfe']}"]
    call_command("infrastructure_import", *args, verbosity=0)
    facility = Facility.objects.filter(
        facility_type__key="jfe", unit__code__startswith="01"
    ).first()
    facility_close(user=coordinator, facility=facility, on=date(2025, 1, 1))
    ids = set(Facility.objects.values_list("pk", flat=True))
    call_command("infrastructure_import", *args, verbosity=0)
    assert set(Facility.objects.values_list("pk", flat=True)) == ids
    assert FacilityImport.objects.filter(facility_type__key="jfe").count() == 1
    facility.refresh_from_db()
    assert facility.valid_to == date(2025, 1, 1)


# --- maintenance by the district ------------------------------------------------


def test_a_coordinator_creates_edits_and_closes_a_facility_of_the_district(
    coordinator, kita_type
):
    facility = facility_create(
        user=coordinator,
        facility_type=kita_type,
        name="Kita Pariser Platz",
        geom=MITTE,
        capacity=Decimal("90"),
        operator="Bezirksamt Mitte",
        valid_from=date(2024, 1, 1),
    )
    assert facility.unit == _plr_of(MITTE)
    facility_update(user=coordinator, facility=facility, capacity=Decimal("110"))
    facility_close(user=coordinator, facility=facility, on=date(2025, 8, 1))
    facility.refresh_from_db()
    assert facility.status == Facility.Status.CLOSED
    assert facility.valid_to == date(2025, 8, 1)
    events = AuditEvent.objects.filter(object_id=str(facility.pk)).order_by("pk")
    assert [e.action for e in events] == ["create", "change", "status"]
    assert all(e.username == coordinator.username for e in events)
    assert events[1].details["capacity"] == ["90.00", "110.00"]
    assert events[2].details["valid_to"] == [None, "2025-08-01"]


def test_another_districts_coordinator_and_a_planner_are_refused(
    coordinator, coord07, user, kita_type
):
    facility = facility_create(
        user=coordinator, facility_type=kita_type, name="Kita", geom=MITTE
    )
    for intruder in (coord07, user):
        with pytest.raises(PermissionDenied):
            facility_update(user=intruder, facility=facility, capacity=Decimal("1"))
        with pytest.raises(PermissionDenied):
            facility_close(user=intruder, facility=facility, on=date(2025, 1, 1))
    with pytest.raises(PermissionDenied):
        facility_create(user=coord07, facility_type=kita_type, name="Fremd", geom=MITTE)
    with pytest.raises(PermissionDenied):
        facility_create(user=user, facility_type=kita_type, name="Plan", geom=MITTE)
    facility.refresh_from_db()
    assert facility.capacity is None and facility.valid_to is None
    assert Facility.objects.count() == 1


def test_a_closed_facility_stops_counting_from_its_closing_day(coordinator, kita_type):
    facility = facility_create(
        user=coordinator,
        facility_type=kita_type,
        name="Kita am Tor",
        geom=MITTE,
        capacity=Decimal("90"),
        valid_from=date(2020, 1, 1),
    )
    code = facility.unit.code
    facility_close(user=coordinator, facility=facility, on=date(2025, 8, 1))

    def supply(day):
        return supply_by_planungsraum(facility_type=kita_type, on=day).get(code, 0)

    assert supply(date(2019, 12, 31)) == 0  # not yet open
    assert supply(date(2024, 12, 31)) == Decimal("90")
    assert supply(date(2025, 7, 31)) == Decimal("90")  # the day before closing
    assert supply(date(2025, 8, 1)) == 0  # the closing day
    assert supply(date(2026, 1, 1)) == 0


def test_a_closed_facility_leaves_the_published_map_layer(
    coordinator, kita_type, django_capture_on_commit_callbacks
):
    # The layer is republished by a task once the change has committed.
    with django_capture_on_commit_callbacks(execute=True):
        facility = facility_create(
            user=coordinator, facility_type=kita_type, name="Kita", geom=MITTE
        )
    assert FacilityLayer.objects.get(key="kitas").facilities.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        facility_close(user=coordinator, facility=facility, on=date(2025, 1, 1))
    # The map shows today's stock: the closed Kita is gone from it.
    assert FacilityLayer.objects.get(key="kitas").facilities.count() == 0


def test_a_district_type_is_used_only_inside_its_district(coordinator, client):
    client.force_login(coordinator)
    response = client.post(
        reverse("infrastructure:type-create"),
        {
            "key": "familienzentrum",
            "name": "Familienzentrum",
            "capacity_unit": "Plätze",
        },
    )
    assert response.status_code == 302
    family = FacilityType.objects.get(key="familienzentrum")
    assert family.district.code == "01"
    from django.core.exceptions import ValidationError

    admin_user = make_user(type(coordinator), "verwaltung2", Role.ADMIN, None)
    with pytest.raises(ValidationError):
        facility_create(
            user=admin_user,
            facility_type=family,
            name="Zentrum in Tempelhof",
            geom=Point(392_000, 5_812_000, srid=25833),  # Tempelhof-Schöneberg
        )


# --- the pages ------------------------------------------------------------------


def test_create_and_close_through_the_pages(client, coordinator, kita_type):
    client.force_login(coordinator)
    response = client.post(
        reverse("infrastructure:facility-create"),
        {
            "facility_type": kita_type.pk,
            "name": "Kita Unter den Linden",
            "capacity": "90",
            "status": "open",
            "lat": "52.5163",
            "lon": "13.3777",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    facility = Facility.objects.get(name="Kita Unter den Linden")
    assert facility.unit.code.startswith("01")
    response = client.post(
        reverse("infrastructure:facility-close", args=[facility.pk]),
        {"on": "2025-09-01"},
    )
    assert response.status_code == 302
    facility.refresh_from_db()
    assert (facility.status, facility.valid_to) == ("closed", date(2025, 9, 1))


def test_a_planner_sees_the_register_but_gets_a_reasoned_refusal(
    client, user, coordinator, kita_type
):
    facility = facility_create(
        user=coordinator, facility_type=kita_type, name="Kita", geom=MITTE
    )
    client.force_login(user)
    page = client.get(reverse("infrastructure:facility-list"))
    assert page.status_code == 200
    assert "Kita" in page.content.decode()
    refused = client.get(reverse("infrastructure:facility-edit", args=[facility.pk]))
    assert refused.status_code == 403
    text = refused.content.decode()
    assert "<main" in text  # the site layout, not a bare error
    assert "data coordinators" in text or "Datenkoordination" in text


# --- uploads --------------------------------------------------------------------

GOOD = (
    "name;type;capacity;operator;status;valid_from;valid_to;lon;lat\n"
    "Kita Spreebogen;kita;75;Eigenbetrieb;offen;01.01.2024;;13.3700;52.5200\n"
    "Kita Moabit;kita;40,5;;geplant;2026-01-01;;;\n"
)


def _upload(client, text, name="kitas.csv", type_pk=""):
    return client.post(
        reverse("infrastructure:upload-create"),
        {
            "file": SimpleUploadedFile(name, text.encode("utf-8")),
            "facility_type": type_pk,
        },
    )


def test_an_upload_with_bad_lines_names_line_and_column_and_writes_nothing(
    client, coordinator, kita_type, django_capture_on_commit_callbacks
):
    bad = (
        "name;type;capacity;operator;status;valid_from;valid_to;lon;lat\n"
        "Kita Spreebogen;kita;75;;offen;;;13.3700;52.5200\n"
        "Kita Fehler;kita;viele;;offen;;;13.3700;52.5200\n"
        ";kita;10;;offen;31.02.2024;;13.3700;52.5200\n"
        "Kita Zehlendorf;kita;10;;offen;;;13.2500;52.4300\n"
        "Kita Irgendwo;hort;10;;unklar;;;13.3700;52.5200\n"
        "Kita Fehler 2;kita;-3;;offen;;;13.3700;52.5200\n"
    )
    client.force_login(coordinator)
    before = Facility.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, bad)
    assert response.status_code == 302
    upload = FacilityUpload.objects.get()
    assert upload.status == FacilityUpload.Status.FAILED
    assert Facility.objects.count() == before
    found = {
        (g["column"], ex["line"], ex["value"])
        for g in upload.problems
        for ex in g["examples"]
    }
    assert ("capacity", 3, "viele") in found
    assert ("capacity", 7, "-3") in found
    assert ("name", 4, None) in found
    assert ("valid_from", 4, "31.02.2024") in found
    assert ("type", 6, "hort") in found
    assert ("status", 6, "unklar") in found
    # Zehlendorf lies in Steglitz-Zehlendorf, not in the coordinator's Mitte.
    assert any(
        g["column"] == "x/y, lon/lat" and ex["line"] == 5
        for g in upload.problems
        for ex in g["examples"]
    )
    capacity = next(g for g in upload.problems if g["column"] == "capacity")
    assert capacity["count"] == 2 and capacity["file"] == "kitas.csv"
    page = client.get(reverse("infrastructure:upload-detail", args=[upload.pk]))
    text = page.content.decode()
    assert "viele" in text and "kitas.csv" in text


def test_a_good_upload_writes_every_line_once_and_is_audited(
    client, coordinator, kita_type, django_capture_on_commit_callbacks
):
    text = GOOD.replace(";;;\n", ";;;\n").replace(
        "Kita Moabit;kita;40,5;;geplant;2026-01-01;;;",
        "Kita Moabit;kita;40,5;;geplant;2026-01-01;;13.3400;52.5250",
    )
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, text)
    upload = FacilityUpload.objects.get()
    assert upload.status == FacilityUpload.Status.SUCCEEDED, upload.problems
    assert upload.summary["created"] == 2
    moabit = Facility.objects.get(name="Kita Moabit")
    assert moabit.capacity == Decimal("40.5")
    assert moabit.status == "planned" and moabit.valid_from == date(2026, 1, 1)
    assert AuditEvent.objects.filter(
        action="import", object_type="infrastructure.facilityupload"
    ).exists()
    status = client.get(reverse("infrastructure:upload-status", args=[upload.pk]))
    assert status.json()["status"] == "succeeded"


def test_an_upload_the_broker_cannot_take_fails_at_once_and_says_so(
    client, coordinator, kita_type, django_capture_on_commit_callbacks, monkeypatch
):
    from infrastructure.tasks import facility_upload_execute_task

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(facility_upload_execute_task, "apply_async", broker_down)
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        assert _upload(client, GOOD).status_code == 302
    upload = FacilityUpload.objects.get()
    assert (upload.status, upload.percent) == (FacilityUpload.Status.FAILED, 100)
    assert upload.finished_at is not None
    [group] = upload.problems
    assert group["message"].startswith("Die Hintergrundverarbeitung ist gerade nicht")
    assert not Facility.objects.filter(name="Kita Spreebogen").exists()


def test_a_geojson_upload_places_its_points(
    client, coordinator, kita_type, django_capture_on_commit_callbacks
):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Kita GeoJSON", "type": "kita", "capacity": 30},
                "geometry": {"type": "Point", "coordinates": [13.3777, 52.5163]},
            }
        ],
    }
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, json.dumps(collection), name="neu.geojson")
    upload = FacilityUpload.objects.get()
    assert upload.status == "succeeded", upload.problems
    kita = Facility.objects.get(name="Kita GeoJSON")
    assert kita.capacity == 30 and kita.unit.code.startswith("01")


def test_an_xlsx_upload_reports_the_sheet_line(
    client, coordinator, kita_type, django_capture_on_commit_callbacks, tmp_path
):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Typ", "Kapazitaet", "PLR"])
    sheet.append(["Kita Tiergarten", "kita", 55, "01100101"])
    sheet.append(["Kita Ohne Raum", "kita", 20, "99999999"])
    path = tmp_path / "kitas.xlsx"
    book.save(path)
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("infrastructure:upload-create"),
            {"file": SimpleUploadedFile("kitas.xlsx", path.read_bytes())},
        )
    upload = FacilityUpload.objects.get()
    assert upload.status == "failed"
    assert upload.problems == [
        {
            "file": "kitas.xlsx",
            "column": "plr",  # the file's own column name
            "message": "Dieser Planungsraum existiert in LOR 2021 nicht.",
            "count": 1,
            "examples": [{"line": 3, "value": "99999999"}],
        }
    ]
    assert not Facility.objects.filter(name="Kita Tiergarten").exists()


def test_a_geopackage_upload_keeps_polygons(
    client, administrator, django_capture_on_commit_callbacks, tmp_path
):
    import geopandas as gpd
    from shapely.geometry import box

    facility_types_ensure()
    frame = gpd.GeoDataFrame(
        {"name": ["Grünzug"], "type": ["gruenanlage"], "capacity": [2500.0]},
        geometry=[box(389_300, 5_819_600, 389_350, 5_819_650)],
        crs="EPSG:25833",
    )
    path = tmp_path / "gruen.gpkg"
    frame.to_file(path, driver="GPKG")
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("infrastructure:upload-create"),
            {"file": SimpleUploadedFile("gruen.gpkg", path.read_bytes())},
        )
    upload = FacilityUpload.objects.get()
    assert upload.status == "succeeded", upload.problems
    green = Facility.objects.get(name="Grünzug")
    assert green.geom.geom_type == "Polygon"
    assert green.capacity == 2500
    assert green.unit == _plr_of(green.geom.point_on_surface)


def test_editing_through_the_page_changes_only_what_was_changed(
    client, coordinator, kita_type
):
    facility = facility_create(
        user=coordinator,
        facility_type=kita_type,
        name="Kita am Tor",
        geom=MITTE,
        capacity=Decimal("90"),
    )
    client.force_login(coordinator)
    url = reverse("infrastructure:facility-edit", args=[facility.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(capacity="120", operator="Neuer Träger")
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    facility.refresh_from_db()
    assert facility.capacity == 120 and facility.operator == "Neuer Träger"
    assert facility.geom.equals_exact(MITTE, tolerance=0.5)  # not moved
    change = AuditEvent.objects.get(object_id=str(facility.pk), action="change")
    assert set(change.details) == {"capacity", "operator"}


def test_the_list_needs_a_fixed_number_of_queries(
    client, user, coordinator, kita_type, django_assert_max_num_queries
):
    for i in range(30):
        facility_create(
            user=coordinator, facility_type=kita_type, name=f"Kita {i}", geom=MITTE
        )
    client.force_login(user)
    with django_assert_max_num_queries(12):
        response = client.get(
            reverse("infrastructure:facility-list"), {"facility_type": "kita"}
        )
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 30
