"""Security issue 15, finding 2: point layers under the same rules as variables.

``GET /api/facilities/<layer>/`` used to answer every signed-in user with every
point, name and Planungsraum of every layer, unreleased district uploads
included; counting a layer's points per Planungsraum gave the suppressed counts
of its count variable back. These tests import small real point files (placed
inside real Planungsräume of Mitte) and read them as each role would.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from core.access import Role
from core.models import AuditEvent
from datapool.models import FacilityLayer, ImportRun, Variable
from datapool.selectors import facility_layer_list, facility_list
from datapool.services.catalogue import facility_layer_location_set, variable_release
from datapool.services.imports import import_run_create, import_run_execute
from lor.models import LorUnit
from profiles.analysis import profile_facility_counts
from profiles.selectors import profile_region_get
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

REF_DATE = "2024-12-31"
REGION = "011001"
# Points per Planungsraum of Bezirksregion 011001: one single shelter is a
# small count (suppressed below 3), the others are not.
PER_PLR = {"01100101": 1, "01100102": 5, "01100103": 7}
SECRET_NAME = "Schutzraum"


def _points_file(tmp_path: Path, name: str) -> Path:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
            FROM {LorUnit._meta.db_table}
            WHERE level = 'planungsraum' AND code = ANY(%s)
            """,
            [list(PER_PLR)],
        )
        inside = {code: (x, y) for code, x, y in cursor.fetchall()}
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"{SECRET_NAME} {code}-{i}"},
            "geometry": {"type": "Point", "coordinates": list(inside[code])},
        }
        for code, n in PER_PLR.items()
        for i in range(n)
    ]
    path = tmp_path / name
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:25833"}},
                "features": features,
            }
        ),
        encoding="utf-8",
    )
    return path


def _import(tmp_path: Path, key: str, *, district: LorUnit | None) -> FacilityLayer:
    path = _points_file(tmp_path, f"{key}.geojson")
    run = import_run_create(
        kind=ImportRun.Kind.POINTS,
        path=path,
        original_name=path.name,
        options={"layer": key, "ref_date": REF_DATE},
        district=district,
    )
    run = import_run_execute(import_run=run)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    return FacilityLayer.objects.get(key=key)


@pytest.fixture
def mitte():
    return LorUnit.objects.get(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code="01"
    )


@pytest.fixture
def guest(django_user_model, lor_units):
    return make_user(django_user_model, "gast", Role.GUEST, None)


@pytest.fixture
def district_layer(tmp_path, mitte, coordinator):
    """Mitte's layer of shelters, uploaded by the district: unreleased."""
    layer = _import(tmp_path, "schutz", district=mitte)
    assert layer.district == mitte
    assert not Variable.objects.get(key="SCHUTZ_ANZAHL").released
    return layer


@pytest.fixture
def berlin_layer(tmp_path):
    """A Berlin-wide layer imported by administrators: released as today."""
    layer = _import(tmp_path, "berlinweit", district=None)
    assert Variable.objects.get(key="BERLINWEIT_ANZAHL").released
    return layer


def _get(client, user, url, params=None):
    client.force_login(user)
    response = client.get(url, params or {})
    client.logout()
    return response


def points(client, user, layer):
    return _get(client, user, f"/api/facilities/{layer.key}/")


def layer_keys(client, user) -> dict[str, bool]:
    response = _get(client, user, "/api/facilities/")
    assert response.status_code == 200
    return {row["key"]: row["points"] for row in response.json()}


def plr_values(client, user, key: str) -> dict[str, tuple]:
    response = _get(
        client,
        user,
        "/api/values/",
        {"variable": key, "level": "planungsraum", "date": REF_DATE},
    )
    assert response.status_code == 200, response.content
    return {
        r["code"]: (r["value"], r["status"])
        for r in response.json()["results"]
        if r["code"] in PER_PLR
    }


def assert_no_single_facility(response) -> None:
    body = response.content.decode()
    assert SECRET_NAME not in body
    assert response.json()["features"] == []


# --- the finding -------------------------------------------------------------


def test_guest_and_planner_get_404_for_an_unreleased_district_layer(
    client, district_layer, guest, user, coordinator
):
    for reader in (guest, user):
        response = points(client, reader, district_layer)
        assert response.status_code == 404
        assert SECRET_NAME not in response.content.decode()
        assert "schutz" not in layer_keys(client, reader)
    # The owning district's coordinator sees its own upload, points included.
    response = points(client, coordinator, district_layer)
    assert response.status_code == 200
    assert len(response.json()["features"]) == sum(PER_PLR.values())
    assert layer_keys(client, coordinator) == {"schutz": True}


def test_coordinator_of_another_district_does_not_see_the_layer(
    client, district_layer, django_user_model
):
    pankow = make_user(django_user_model, "koord03", Role.COORDINATOR, "03")
    assert points(client, pankow, district_layer).status_code == 404


def test_released_district_layer_gives_planners_protected_counts_not_points(
    client, district_layer, guest, user, coordinator
):
    variable = Variable.objects.get(key="SCHUTZ_ANZAHL")
    variable_release(user=coordinator, variable=variable)
    # District counts are confidential (small counts): guests still see nothing.
    assert points(client, guest, district_layer).status_code == 404
    assert "schutz" not in layer_keys(client, guest)
    # Planners see the layer, but counting its points would recover the
    # suppressed cells, so only the protected counts leave the server.
    assert layer_keys(client, user) == {"schutz": False}
    response = points(client, user, district_layer)
    assert response.status_code == 200
    assert_no_single_facility(response)
    counts = {
        row["code"]: (row["value"], row["status"])
        for row in response.json()["counts"]
        if row["code"] in PER_PLR
    }
    # The same cells as the values API: the single shelter stays suppressed.
    assert counts == plr_values(client, user, "SCHUTZ_ANZAHL")
    assert counts["01100101"] == (None, "suppressed")
    assert not facility_list(user=user, layer=district_layer).exists()
    # Its owner still sees raw counts and points.
    assert plr_values(client, coordinator, "SCHUTZ_ANZAHL")["01100101"] == (
        1.0,
        "ok",
    )
    assert facility_list(user=coordinator, layer=district_layer).count() == 13


def test_location_confidential_layer_gives_counts_only(
    client, berlin_layer, guest, user, administrator
):
    facility_layer_location_set(
        user=administrator, layer=berlin_layer, location_confidential=True
    )
    # Guests see released, non-confidential layers only.
    assert points(client, guest, berlin_layer).status_code == 404
    assert layer_keys(client, guest) == {}
    # Planners get the counts (Berlin-wide data: shown as delivered), no points.
    assert layer_keys(client, user) == {"berlinweit": False}
    response = points(client, user, berlin_layer)
    assert response.status_code == 200
    assert_no_single_facility(response)
    assert response.json()["count_variable"] == "BERLINWEIT_ANZAHL"
    counts = {
        row["code"]: row["value"]
        for row in response.json()["counts"]
        if row["code"] in PER_PLR
    }
    assert counts == {code: float(n) for code, n in PER_PLR.items()}
    # Administrators keep the points.
    response = points(client, administrator, berlin_layer)
    assert len(response.json()["features"]) == 13


def test_released_berlin_wide_layer_works_for_everyone_as_before(
    client, berlin_layer, guest, user, coordinator, administrator
):
    for reader in (guest, user, coordinator, administrator):
        assert layer_keys(client, reader) == {"berlinweit": True}
        response = points(client, reader, berlin_layer)
        assert response.status_code == 200
        features = response.json()["features"]
        assert len(features) == sum(PER_PLR.values())
        assert {f["properties"]["plr"] for f in features} == set(PER_PLR)


def test_unknown_layer_is_404(client, user):
    assert _get(client, user, "/api/facilities/gibtsnicht/").status_code == 404


# --- profiles ------------------------------------------------------------------


def test_profiles_count_public_layers_only(
    district_layer, berlin_layer, coordinator, administrator
):
    region = profile_region_get(code=REGION)
    variable_release(
        user=coordinator, variable=Variable.objects.get(key="SCHUTZ_ANZAHL")
    )
    # Profiles are read by guests too: the released district layer (confidential
    # counts) stays out, the Berlin-wide one is counted.
    counted = [(f["layer"], f["count"]) for f in profile_facility_counts(region=region)]
    assert counted == [("berlinweit", 13)]
    facility_layer_location_set(
        user=administrator, layer=berlin_layer, location_confidential=True
    )
    assert profile_facility_counts(region=region) == []


# --- changing the flag --------------------------------------------------------


def test_location_flag_is_changed_by_owner_only_and_audited(
    district_layer, coordinator, user, django_user_model
):
    pankow = make_user(django_user_model, "koord03", Role.COORDINATOR, "03")
    for other in (user, pankow):
        with pytest.raises(PermissionDenied):
            facility_layer_location_set(
                user=other, layer=district_layer, location_confidential=True
            )
    facility_layer_location_set(
        user=coordinator, layer=district_layer, location_confidential=True
    )
    district_layer.refresh_from_db()
    assert district_layer.location_confidential
    event = AuditEvent.objects.get(object_type="datapool.facilitylayer")
    assert event.user == coordinator
    assert event.details == {"location_confidential": True}


def test_location_flag_on_the_count_variable_page(client, district_layer, coordinator):
    client.force_login(coordinator)
    page = client.get("/datapool/variables/SCHUTZ_ANZAHL/")
    assert 'data-testid="facility-layer-access"' in page.content.decode()
    response = client.post(
        "/datapool/facilities/schutz/location/", {"location_confidential": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/datapool/variables/SCHUTZ_ANZAHL/"
    district_layer.refresh_from_db()
    assert district_layer.location_confidential
    page = client.get("/datapool/variables/SCHUTZ_ANZAHL/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Lage vertraulich" in page.content.decode()


def test_layer_list_reads_in_few_queries(
    client, district_layer, berlin_layer, user, django_assert_max_num_queries
):
    client.force_login(user)
    with django_assert_max_num_queries(6):
        response = client.get("/api/facilities/")
    assert response.status_code == 200
    assert [row["key"] for row in response.json()] == ["berlinweit"]
    assert date.fromisoformat(response.json()[0]["ref_date"]) == date(2024, 12, 31)
    assert list(facility_layer_list(user=user).values_list("key", flat=True)) == [
        "berlinweit"
    ]
