"""Supply analysis: the 2SFCA and within-borders numbers, worked out by hand
in the factory world of ``tests/infrastructure/world.py``:

The factory world lies east of Berlin (x ≈ 600 km in EPSG:25833), so that no
real Planungsraum is within reach: three square Planungsräume of 100 m, their
population points (ST_PointOnSurface of a square: its centre) on one line,

    A = 99000101 at x = 600 050   (Bezirksregion 990001)
    B = 99000102 at x = 600 850   (Bezirksregion 990001)   A–B  800 m
    C = 99000201 at x = 601 750   (Bezirksregion 990002)   B–C  900 m, A–C 1 700 m

demand (children) A 100, B 50, C 200; Richtwert 1 place per child; catchment
1 000 m; three Kitas at the population points: K1 in A (60 places), K2 in B
(90 places), K3 in C (40 places).
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from datapool.models import Observation
from infrastructure.layer_import import facilities_import_gis
from infrastructure.models import Facility, SupplyRule
from infrastructure.supply import (
    CATCHMENT,
    WITHIN,
    SupplyFacility,
    supply_aggregate,
    supply_compute,
    supply_facilities,
)
from lor import hierarchy
from lor.models import LorUnit
from tests.conftest import SHARED_DATA
from tests.factories.datapool import ObservationFactory, VariableFactory
from tests.factories.infrastructure import FacilityFactory
from tests.infrastructure.world import CODES, DEMAND, ON, X, Y, square

pytestmark = pytest.mark.django_db


def _row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table.startswith(("datapool_", "infrastructure_", "lor_")):
                cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
                counts[table] = cursor.fetchone()[0]
    return counts


def test_population_point_of_a_square_is_its_centre(world):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
            "FROM lor_lorunit WHERE code = %s",
            [CODES["A"]],
        )
        assert cursor.fetchone() == pytest.approx((X["A"], Y))


def test_2sfca_for_three_planungsraeume_with_the_arithmetic(world):
    rule, _units, _facilities = world
    result = supply_compute(rule=rule, ref_date=ON)
    # Who reaches whom within 1 000 m: K1 (in A) reaches A (0 m) and B (800 m),
    # not C (1 700 m); K2 (in B) reaches A (800), B (0), C (900); K3 (in C)
    # reaches B (900) and C (0).
    # Step 1, capacity over the demand in reach:
    r1 = 60 / (100 + 50)  # 0.4
    r2 = 90 / (100 + 50 + 200)  # 0.257142…
    r3 = 40 / (50 + 200)  # 0.16
    # Step 2, each Planungsraum sums the ratios of the Kitas it reaches:
    access = {"A": r1 + r2, "B": r1 + r2 + r3, "C": r2 + r3}
    assert access["A"] == pytest.approx(0.657142857)
    assert access["B"] == pytest.approx(0.817142857)
    assert access["C"] == pytest.approx(0.417142857)
    for name, code in CODES.items():
        unit = result.units[code]
        assert unit.demand == DEMAND[name]
        assert unit.accessibility == pytest.approx(access[name])
        # Capacity reaching the unit = A_i × d_i; Versorgungsgrad = that / need.
        assert unit.supply_catchment == pytest.approx(access[name] * DEMAND[name])
        assert unit.versorgungsgrad(CATCHMENT) == pytest.approx(access[name] * 100)
        assert unit.deficit(CATCHMENT) == pytest.approx(
            max(0.0, DEMAND[name] - access[name] * DEMAND[name])
        )
    # A: 65.71 of 100 places needed → 65.7 %, deficit 34.29 places.
    a = result.units[CODES["A"]]
    assert a.versorgungsgrad(CATCHMENT) == pytest.approx(65.7142857)
    assert a.deficit(CATCHMENT) == pytest.approx(34.2857143)
    # Every place is handed out once: the accessible places add up to 190.
    assert sum(result.units[c].supply_catchment for c in CODES.values()) == (
        pytest.approx(60 + 90 + 40)
    )


def test_register_and_passed_facilities_give_the_same_result(world):
    rule, units, _facilities = world
    # A polygon facility (a park) and one without geometry (a table row).
    FacilityFactory(
        facility_type=rule.facility_type,
        geom=square(X["B"]).buffer(10),
        unit=units["B"],
        capacity=Decimal("5"),
    )
    FacilityFactory(
        facility_type=rule.facility_type, unit=units["C"], capacity=Decimal("7")
    )
    register = supply_compute(rule=rule, ref_date=ON)
    passed = supply_compute(
        rule=rule, ref_date=ON, facilities_override=supply_facilities(rule=rule)
    )
    assert register.units == passed.units
    assert register.facilities_counted == passed.facilities_counted == 5
    assert register.units[CODES["C"]].supply_within == 47


def test_within_borders_versorgungsgrad_and_deficit(world):
    rule, _units, _facilities = world
    result = supply_compute(rule=rule, ref_date=ON)
    expected = {"A": (60, 60.0, 40), "B": (90, 180.0, 0), "C": (40, 20.0, 160)}
    for name, (supply, grade, deficit) in expected.items():
        unit = result.units[CODES[name]]
        assert unit.supply_within == supply
        assert unit.need == DEMAND[name] * 1
        assert unit.versorgungsgrad(WITHIN) == pytest.approx(grade)
        assert unit.deficit(WITHIN) == pytest.approx(deficit)


def test_richtwert_scales_the_need(world):
    rule, _units, _facilities = world
    rule.richtwert = Decimal("0.5")  # e.g. a target quota of 50 %
    result = supply_compute(rule=rule, ref_date=ON)
    a = result.units[CODES["A"]]
    assert a.need == 50
    assert a.versorgungsgrad(WITHIN) == pytest.approx(60 / 50 * 100)
    assert a.deficit(WITHIN) == 0


def test_closed_facility_stops_counting_from_its_closing_date(world):
    rule, units, facilities = world
    day_before = date(2024, 12, 30)
    for name, unit in units.items():  # the same children a day earlier
        ObservationFactory(
            variable=VariableFactory(key="TEST_KINDER"),
            unit=unit,
            ref_date=day_before,
            value=DEMAND[name],
        )
    k3 = facilities["C"]
    k3.valid_to = ON
    k3.status = Facility.Status.CLOSED
    k3.save()
    before = supply_compute(rule=rule, ref_date=day_before)
    after = supply_compute(rule=rule, ref_date=ON)
    c = CODES["C"]
    assert before.units[c].supply_within == 40
    assert after.units[c].supply_within == 0
    # Without K3 only K2 reaches C: A_C = 90 / 350.
    assert after.units[c].accessibility == pytest.approx(90 / 350)
    assert before.units[c].accessibility == pytest.approx(90 / 350 + 40 / 250)


def test_facility_counts_from_its_opening_date(world):
    rule, units, _facilities = world
    FacilityFactory(
        facility_type=rule.facility_type,
        geom=Point(X["C"], Y, srid=25833),
        unit=units["C"],
        capacity=Decimal("100"),
        valid_from=date(2025, 1, 1),
    )
    assert supply_compute(rule=rule, ref_date=ON).units[CODES["C"]].supply_within == (
        40
    )


def test_override_computes_a_scenario_and_writes_nothing(world):
    rule, _units, _facilities = world
    counts = _row_counts()
    published = supply_compute(rule=rule, ref_date=ON)
    scenario = supply_facilities(rule=rule)
    # Add a Kita of 90 places in C, placed by its geometry only.
    scenario.append(SupplyFacility(capacity=90, geom=Point(X["C"], Y, srid=25833)))
    changed = supply_compute(rule=rule, ref_date=ON, facilities_override=scenario)
    c = CODES["C"]
    assert changed.units[c].supply_within == 130
    assert changed.units[c].versorgungsgrad(WITHIN) == pytest.approx(65.0)
    assert changed.units[c].versorgungsgrad(CATCHMENT) > published.units[
        c
    ].versorgungsgrad(CATCHMENT)
    # Moving K1 from A to C: A loses its places within its borders.
    moved = [
        f.moved_to(Point(X["C"], Y, srid=25833)) if f.name == "K1" else f
        for f in supply_facilities(rule=rule)
    ]
    after_move = supply_compute(rule=rule, ref_date=ON, facilities_override=moved)
    assert after_move.units[CODES["A"]].supply_within == 0
    assert after_move.units[c].supply_within == 100
    assert _row_counts() == counts
    # The register's own result is unchanged by the scenarios.
    again = supply_compute(rule=rule, ref_date=ON)
    assert again.units[c].supply_within == published.units[c].supply_within


def test_aggregation_to_bezirksregion_is_the_demand_weighted_sum(world):
    rule, _units, _facilities = world
    result = supply_compute(rule=rule, ref_date=ON)
    regions = supply_aggregate(result=result, level=hierarchy.BEZIRKSREGION)
    a, b = result.units[CODES["A"]], result.units[CODES["B"]]
    region = regions.units["990001"]
    assert region.demand == 150
    weighted = (a.accessibility * 100 + b.accessibility * 50) / 150
    assert region.accessibility == pytest.approx(weighted)
    assert region.versorgungsgrad(CATCHMENT) == pytest.approx(weighted * 100)
    assert region.versorgungsgrad(WITHIN) == pytest.approx((60 + 90) / 150 * 100)
    # The deficit is the sum of the Planungsräume' deficits: B's surplus of 40
    # places does not fill A's gap of 40.
    assert regions.deficit("990001", WITHIN) == pytest.approx(40)
    assert regions.deficit("990001", CATCHMENT) == pytest.approx(
        a.deficit(CATCHMENT) + b.deficit(CATCHMENT)
    )


def test_unknown_demand_is_reported_not_guessed(world):
    rule, units, _facilities = world
    Observation.objects.filter(unit=units["C"]).update(
        value=None, status=Observation.Status.SUPPRESSED
    )
    result = supply_compute(rule=rule, ref_date=ON)
    c = result.units[CODES["C"]]
    assert c.demand is None and c.demand_status == "suppressed"
    assert c.versorgungsgrad(WITHIN) is None and c.deficit(CATCHMENT) is None
    # In step 1 C's unknown demand counts 0: K3 serves only B now.
    assert result.units[CODES["B"]].accessibility == pytest.approx(
        60 / 150 + 90 / 150 + 40 / 50
    )
    regions = supply_aggregate(result=result, level=hierarchy.BEZIRKSREGION)
    assert regions.units["990002"].incomplete


def test_2sfca_on_real_data_for_one_planungsraum(ewr_imported):
    """Stülerstraße (01100101): the 2SFCA recomputed in Python from the files."""
    facilities_import_gis(
        path=SHARED_DATA / "infra_kitas_epsg25833.geojson", type_key="kita"
    )
    rule = SupplyRule.objects.get(key="kita")
    result = supply_compute(rule=rule, ref_date=ON)
    ewr = pd.read_csv(SHARED_DATA / "EWR_L21_202412E_Matrix.csv", sep=";", dtype=str)
    ewr["RAUMID"] = ewr["RAUMID"].replace({"06200318": "06200418"})
    demand = {
        code: float(value) if isinstance(value, str) and value else 0.0
        for code, value in zip(ewr["RAUMID"], ewr["E_E1U6"], strict=True)
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
            "FROM lor_lorunit WHERE scheme = %s AND level = %s",
            [LorUnit.Scheme.LOR_2021, LorUnit.Level.PLANUNGSRAUM],
        )
        points = {code: (x, y) for code, x, y in cursor.fetchall()}
    kitas = [
        (f.geom.x, f.geom.y, float(f.capacity))
        for f in Facility.objects.filter(facility_type=rule.facility_type).exclude(
            capacity__isnull=True
        )
    ]
    distance = float(rule.catchment_m)

    def near(x, y):
        return [
            code
            for code, (px, py) in points.items()
            if math.hypot(px - x, py - y) <= distance
        ]

    code = "01100101"
    px, py = points[code]
    access = 0.0
    for x, y, places in kitas:
        if math.hypot(px - x, py - y) <= distance:
            reached = sum(demand[c] for c in near(x, y))
            access += places / reached if reached else 0.0
    unit = result.units[code]
    assert access > 0
    assert unit.accessibility == pytest.approx(access, rel=1e-9)
    assert unit.demand == demand[code]
    assert unit.versorgungsgrad(CATCHMENT) == pytest.approx(access * 100, rel=1e-9)
    inside = Facility.objects.filter(
        facility_type=rule.facility_type, unit__code=code, capacity__isnull=False
    )
    assert unit.supply_within == sum(float(f.capacity) for f in inside)
