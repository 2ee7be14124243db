"""The old LOR scheme (2006) beside LOR 2021: key error, correction, hierarchy."""

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from lor import hierarchy
from lor.hierarchy import LOR_2006, LOR_2021
from lor.models import LorUnit
from lor.services import KeyCorrection, LorImportError
from tests.lor.conftest import drop_lor2006

pytestmark = pytest.mark.django_db

OLD = LorUnit.Scheme.LOR_2006
NEW = LorUnit.Scheme.LOR_2021


def test_scheme_facts_read_off_the_old_keys():
    # 01011101 Stülerstraße: Bezirk 01, Prognoseraum 0101, Bezirksregion 010111.
    assert hierarchy.SCHEMES["LOR 2006"] is LOR_2006
    assert hierarchy.ancestor_key("01011101", "prognoseraum", scheme=LOR_2006) == "0101"
    assert hierarchy.parent_key("01011101", scheme=LOR_2006) == "010111"
    assert LOR_2006.key_lengths == LOR_2021.key_lengths


def test_duplicate_key_is_reported_by_name_and_location_and_nothing_is_written(
    lor2006_scheme,
):
    drop_lor2006()  # rolled back after the test
    with pytest.raises(CommandError) as excinfo:
        call_command("lor2006_import", verbosity=0)
    message = str(excinfo.value)
    print(message)
    assert "06010102 „Schloßstraße“ bei 13.299 E, 52.515 N" in message
    assert "06010102 „Schloßstraße“ bei 13.321 E, 52.459 N" in message
    assert "--correct" in message
    assert not LorUnit.objects.filter(scheme=OLD).exists()


def test_a_correction_must_hit_exactly_one_polygon(lor2006_scheme):
    before = LorUnit.objects.filter(scheme=OLD).count()
    with pytest.raises(CommandError, match="trifft kein Polygon"):
        call_command(
            "lor2006_import", "--correct", "06010102@13.40,52.52=04030417", verbosity=0
        )
    with pytest.raises(LorImportError, match="nicht lesbar"):
        KeyCorrection.parse("06010102=04030417")
    assert LorUnit.objects.filter(scheme=OLD).count() == before


def test_corrected_scheme_loads_all_levels(lor2006_scheme):
    counts = {
        level: LorUnit.objects.filter(scheme=OLD, level=level).count()
        for level in hierarchy.LEVELS
    }
    print("LOR 2006:", counts)
    assert counts == {
        "berlin": 1,
        "bezirk": 12,
        "prognoseraum": 60,
        "bezirksregion": 138,
        "planungsraum": 448,
    }
    moved = LorUnit.objects.get(scheme=OLD, code="04030417")
    assert moved.name == "Schloßstraße"
    assert moved.parent.code == "040304"
    assert moved.parent.parent.code == "0403"
    # The Steglitz Schloßstraße keeps its key, far from Charlottenburg.
    steglitz = LorUnit.objects.get(scheme=OLD, code="06010102")
    assert steglitz.geom.centroid.y < moved.geom.centroid.y - 5000
    assert LorUnit.objects.get(scheme=OLD, code="010111").name == "Tiergarten Süd"
    assert LorUnit.objects.get(scheme=OLD, code="04").name == (
        "Charlottenburg-Wilmersdorf"
    )


def test_rerun_with_the_option_is_idempotent(lor2006_scheme):
    ids = set(LorUnit.objects.filter(scheme=OLD).values_list("id", flat=True))
    call_command(
        "lor2006_import", "--correct", "06010102@13.299,52.515=04030417", verbosity=0
    )
    assert set(LorUnit.objects.filter(scheme=OLD).values_list("id", flat=True)) == ids


def test_2021_units_unchanged_and_not_mixed_up(lor2006_scheme):
    counts = {
        level: LorUnit.objects.filter(scheme=NEW, level=level).count()
        for level in hierarchy.LEVELS
    }
    assert counts == {
        "berlin": 1,
        "bezirk": 12,
        "prognoseraum": 58,
        "bezirksregion": 143,
        "planungsraum": 542,
    }
    # The same digits name different areas; parents never cross schemes.
    assert LorUnit.objects.get(scheme=NEW, code="01100101").name == "Stülerstraße"
    assert not LorUnit.objects.filter(scheme=NEW, parent__scheme=OLD).exists()
    assert not LorUnit.objects.filter(scheme=OLD, parent__scheme=NEW).exists()


def test_api_serves_old_units_only_when_asked(lor2006_scheme, user):
    api = APIClient()
    api.force_authenticate(user)
    old = api.get(
        "/api/lor/units/", {"scheme": "lor2006", "level": "planungsraum"}
    ).json()
    new = api.get("/api/lor/units/", {"level": "planungsraum"}).json()
    assert len(old["features"]) == 448
    assert len(new["features"]) == 542
    assert "04030417" in {f["id"] for f in old["features"]}
    assert "04030417" not in {f["id"] for f in new["features"]}
    assert api.get("/api/lor/units/", {"scheme": "lor1999"}).status_code == 400
