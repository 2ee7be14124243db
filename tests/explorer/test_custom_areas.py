import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from datapool.models import ImportRun, Observation
from datapool.services.indicators import indicator_definitions_load
from lor.models import CustomAreaSet, LorUnit

pytestmark = pytest.mark.django_db
DEC_2024 = date(2024, 12, 31)


def _value(key, unit):
    return Observation.objects.get(variable__key=key, unit=unit, ref_date=DEC_2024)


def test_area_from_keys_aggregates_like_lor_levels(ewr_imported, post):
    indicator_definitions_load()
    response = post(
        "/analysis/areas/new/",
        {
            "name": "Aktionsräume (Test)",
            "kind": "aktionsraum",
            "keys": "Tiergarten Süd plus: 011001 01100205\nZweites Gebiet: 0120",
        },
    )
    assert response.status_code == 302
    area_set = CustomAreaSet.objects.get()
    run = ImportRun.objects.filter(kind="computation").latest("pk")
    assert run.status == ImportRun.Status.SUCCEEDED

    first = area_set.areas.get(name="Tiergarten Süd plus")
    assert first.members.count() == 5  # four PLRs of 011001 plus 01100205
    plr_codes = ["01100101", "01100102", "01100103", "01100104", "01100205"]
    residents = Observation.objects.filter(
        variable__key="E_E", unit__code__in=plr_codes, ref_date=DEC_2024
    ).values_list("value", flat=True)
    assert _value("E_E", first).value == sum(residents)
    under_18 = Observation.objects.filter(
        variable__key__in=["E_EU1", "E_E1U6", "E_E6U15", "E_E15U18"],
        unit__code__in=plr_codes,
        ref_date=DEC_2024,
    ).values_list("value", flat=True)
    assert _value("KI_ANTEIL_U18", first).value == pytest.approx(
        sum(under_18) / sum(residents) * 100
    )
    second = area_set.areas.get(name="Zweites Gebiet")
    assert (
        _value("E_E", second).value
        == _value("E_E", LorUnit.objects.get(code="0120")).value
    )

    client = APIClient()
    client.force_authenticate(first.area_set.owner)
    data = client.get(
        "/api/values/", {"variable": "E_E", "level": f"custom:{area_set.pk}"}
    ).json()
    assert [r["name"] for r in data["results"]] == [
        "Tiergarten Süd plus",
        "Zweites Gebiet",
    ]
    listing = client.get("/api/areas/").json()
    assert listing[0]["level"] == f"custom:{area_set.pk}"
    assert "01100205" in listing[0]["areas"][0]["planungsraeume"]


def test_area_from_polygon_matches_planungsraeume_by_area_share(ewr_imported, post):
    plr = LorUnit.objects.get(code="01100101")
    polygon = plr.geom.buffer(-5).transform(4326, clone=True)  # just inside
    feature = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Stüler"},
                "geometry": json.loads(polygon.geojson),
            }
        ],
    }
    upload = SimpleUploadedFile("gebiet.geojson", json.dumps(feature).encode())
    response = post(
        "/analysis/areas/new/", {"name": "QM", "kind": "qm", "polygons": upload}
    )
    assert response.status_code == 302
    area = CustomAreaSet.objects.get().areas.get()
    assert [m.planungsraum.code for m in area.members.all()] == ["01100101"]
    assert _value("E_E", area).value == 3580


def test_bad_key_gives_form_error_and_creates_nothing(post):
    response = post(
        "/analysis/areas/new/",
        {"name": "Falsch", "kind": "other", "keys": "A: 99999999"},
    )
    assert response.status_code == 200
    assert "99999999" in response.content.decode()
    assert not CustomAreaSet.objects.exists()
    assert not LorUnit.objects.filter(level="custom").exists()


def test_delete_removes_areas_and_their_values(ewr_imported, post):
    post("/analysis/areas/new/", {"name": "X", "kind": "other", "keys": "A: 01"})
    area_set = CustomAreaSet.objects.get()
    assert Observation.objects.filter(unit__area_set=area_set).exists()
    response = post(f"/analysis/areas/{area_set.pk}/delete/", {})
    assert response.status_code == 302
    assert not CustomAreaSet.objects.exists()
    assert not Observation.objects.filter(unit__level="custom").exists()
