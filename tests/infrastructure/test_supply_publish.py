"""Publishing the supply analysis: Datenpool variables per method and level,
KI_KITA from it, the register's Kitas as a facility layer, and the indicator
definitions file read whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.urls import reverse

from datapool.models import ImportRun, Observation, Variable
from datapool.services.indicators import indicator_definitions_load
from infrastructure.layer_import import facilities_import_gis
from infrastructure.models import Facility, SupplyRule
from infrastructure.supply import (
    CATCHMENT,
    WITHIN,
    supply_aggregate,
    supply_compute,
)
from infrastructure.supply_publish import (
    supply_rule_publish,
    supply_variable_keys,
)
from lor import hierarchy
from lor.models import LorUnit
from lor.services.custom_areas import AreaSpec, custom_area_set_create
from tests.conftest import SHARED_DATA
from tests.infrastructure.world import CODES, ON

pytestmark = pytest.mark.django_db


def _values(key: str, codes) -> dict[str, float | None]:
    return dict(
        Observation.objects.filter(
            variable__key=key, ref_date=ON, unit__code__in=list(codes)
        ).values_list("unit__code", "value")
    )


def test_published_variables_equal_the_computation_at_every_level(world):
    rule, _units, _facilities = world
    summary = supply_rule_publish(rule=rule)
    assert summary["dates"] == [ON.isoformat()]
    keys = supply_variable_keys(rule=rule)
    result = supply_compute(rule=rule, ref_date=ON)
    regions = supply_aggregate(result=result, level=hierarchy.BEZIRKSREGION)
    for method in (WITHIN, CATCHMENT):
        grades = _values(keys[f"grade_{method}"], [*CODES.values(), "990001"])
        deficits = _values(keys[f"deficit_{method}"], [*CODES.values(), "990001"])
        for code in CODES.values():
            unit = result.units[code]
            assert grades[code] == pytest.approx(unit.versorgungsgrad(method))
            assert deficits[code] == pytest.approx(unit.deficit(method))
        # The Datenpool's aggregation is the analysis's: ratio of the sums.
        region = regions.units["990001"]
        assert grades["990001"] == pytest.approx(region.versorgungsgrad(method))
        assert deficits["990001"] == pytest.approx(regions.deficit("990001", method))
    # Every number names its method, and the Richtwert's source travels along.
    grade = Variable.objects.get(key=keys[f"grade_{CATCHMENT}"])
    assert "(Einzugsbereich, 2SFCA)" in grade.name
    assert (
        "innerhalb der Grenzen"
        in Variable.objects.get(key=keys[f"grade_{WITHIN}"]).name
    )
    assert rule.richtwert_source in grade.definition
    assert grade.aggregation == Variable.Aggregation.RATIO and grade.factor == 100


def test_custom_area_values_are_the_sums_of_its_planungsraeume(world):
    rule, _units, _facilities = world
    area_set = custom_area_set_create(
        name="Testkulisse",
        kind="other",
        areas=[AreaSpec(name="A und C", keys=[CODES["A"], CODES["C"]])],
    )
    area = LorUnit.objects.get(area_set=area_set)
    supply_rule_publish(rule=rule)
    result = supply_compute(rule=rule, ref_date=ON)
    custom = supply_aggregate(result=result, level=LorUnit.Level.CUSTOM)
    a, c = result.units[CODES["A"]], result.units[CODES["C"]]
    expected = (a.supply_catchment + c.supply_catchment) / (a.need + c.need) * 100
    assert custom.units[area.code].versorgungsgrad(CATCHMENT) == pytest.approx(expected)
    keys = supply_variable_keys(rule=rule)
    published = _values(keys[f"grade_{CATCHMENT}"], [area.code])[area.code]
    assert published == pytest.approx(expected)
    assert _values(keys[f"deficit_{WITHIN}"], [area.code])[area.code] == (
        pytest.approx(40 + 160)
    )


def test_a_type_without_facilities_publishes_nothing(world):
    rule, _units, _facilities = world
    Facility.objects.filter(facility_type=rule.facility_type).delete()
    assert supply_rule_publish(rule=rule)["no_facilities"] is True
    key = supply_variable_keys(rule=rule)[f"grade_{WITHIN}"]
    assert not Observation.objects.filter(variable__key=key).exists()


def test_publishing_twice_changes_nothing(world):
    rule, units, _facilities = world
    first = supply_rule_publish(rule=rule)
    assert first["values"] > 0
    runs = ImportRun.objects.count()
    assert supply_rule_publish(rule=rule)["unchanged"] is True
    assert ImportRun.objects.count() == runs
    # A changed capacity is published.
    Facility.objects.filter(name="K1").update(capacity=61)
    assert "unchanged" not in supply_rule_publish(rule=rule)


def test_republishing_replaces_and_follows_an_edited_richtwert(world):
    rule, _units, _facilities = world
    supply_rule_publish(rule=rule)
    key = supply_variable_keys(rule=rule)[f"grade_{WITHIN}"]
    count = Observation.objects.filter(variable__key=key).count()
    rule.richtwert = 2  # two places per child: half the Versorgungsgrad
    rule.richtwert_unit = "Plätze je Kind (geändert)"
    rule.save()
    supply_rule_publish(rule=rule)
    assert Observation.objects.filter(variable__key=key).count() == count
    assert _values(key, [CODES["A"]])[CODES["A"]] == pytest.approx(30.0)
    assert "geändert" in Variable.objects.get(key=key).definition


def test_ki_kita_is_filled_from_the_register(ewr_imported, client_logged_in):
    indicator_definitions_load()
    facilities_import_gis(
        path=SHARED_DATA / "infra_kitas_epsg25833.geojson", type_key="kita"
    )
    rule = SupplyRule.objects.get(key="kita")
    summary = supply_rule_publish(rule=rule)
    assert "KI_KITA" in summary["indicators"]
    ewr = pd.read_csv(SHARED_DATA / "EWR_L21_202412E_Matrix.csv", sep=";", dtype=str)
    row = ewr.set_index("RAUMID").loc["01100101"]
    places = sum(
        float(f.capacity)
        for f in Facility.objects.filter(
            facility_type__key="kita", unit__code="01100101", capacity__isnull=False
        )
    )
    assert places > 0
    expected = places / float(row["E_E1U6"]) * 100
    assert _values("KI_KITA", ["01100101"])["01100101"] == pytest.approx(expected)
    # The Versorgungsgrad is an ordinary map of the explorer, with its sources.
    response = client_logged_in.get(
        "/api/maps/values/", {"variable": "VS_KITA_VG_2SFCA", "level": "bezirksregion"}
    )
    assert response.status_code == 200, response.content[:300]
    data = response.json()
    assert len(data["legend"]["classes"]) >= 3
    assert "Versorgungsanalyse" in data["sources"]


def test_indicator_definitions_have_every_text_whole(tmp_path):
    indicator_definitions_load()
    kita = Variable.objects.get(key="KI_KITA").indicator
    # The text once ended at its first ";" (the file's separator).
    assert kita.documentation.endswith("VS_KITA_DEFIZIT_2SFCA.")
    broken = tmp_path / "kernindikatoren.csv"
    original = (
        Path(settings.BASE_DIR) / "datapool" / "metadata" / "kernindikatoren.csv"
    ).read_text(encoding="utf-8")
    broken.write_text(
        original.replace("je 100 Kinder von 1", "je 100 Kinder; von 1"), "utf-8"
    )
    with pytest.raises(ValueError, match=r"Zeile 19: mehr Spalten"):
        indicator_definitions_load(path=broken)


def test_admin_action_recomputes_and_publishes(
    world, client, administrator, django_capture_on_commit_callbacks
):
    rule, _units, _facilities = world
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:infrastructure_supplyrule_changelist"),
            {"action": "publish", "_selected_action": [rule.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert "neu berechnet" in response.content.decode() or "recomputed" in (
        response.content.decode()
    )
    key = supply_variable_keys(rule=rule)[f"grade_{WITHIN}"]
    assert _values(key, [CODES["A"]])[CODES["A"]] == pytest.approx(60.0)
