"""The factory world of the supply tests.

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

from datetime import date
from decimal import Decimal

from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from lor.models import LorUnit
from tests.factories.datapool import ObservationFactory, VariableFactory
from tests.factories.infrastructure import (
    FacilityFactory,
    FacilityTypeFactory,
    SupplyRuleFactory,
)

ON = date(2024, 12, 31)
Y = 5_820_050.0
X = {"A": 600_050.0, "B": 600_850.0, "C": 601_750.0}
CODES = {"A": "99000101", "B": "99000102", "C": "99000201"}
DEMAND = {"A": 100.0, "B": 50.0, "C": 200.0}


def square(cx: float) -> MultiPolygon:
    x0, y0 = cx - 50, Y - 50
    ring = ((x0, y0), (x0 + 100, y0), (x0 + 100, y0 + 100), (x0, y0 + 100), (x0, y0))
    return MultiPolygon(Polygon(ring), srid=25833)


def _unit(code: str, level: str, geom: MultiPolygon) -> LorUnit:
    return LorUnit.objects.create(
        scheme=LorUnit.Scheme.LOR_2021,
        level=level,
        code=code,
        name=f"Testraum {code}",
        geom=geom,
        area_m2=geom.area,
    )


def build_world():
    """The rule, the three Planungsräume and the three Kitas (by A, B, C)."""
    # Created directly, not by LorUnitFactory, whose sequence places its
    # made-up squares along a line in Berlin (more calls push them out).
    for code, cx in (("990001", X["A"]), ("990002", X["C"])):
        _unit(code, LorUnit.Level.BEZIRKSREGION, square(cx))
    units = {
        name: _unit(CODES[name], LorUnit.Level.PLANUNGSRAUM, square(X[name]))
        for name in CODES
    }
    children = VariableFactory(key="TEST_KINDER")
    for name, unit in units.items():
        ObservationFactory(
            variable=children, unit=unit, ref_date=ON, value=DEMAND[name]
        )
    rule = SupplyRuleFactory(
        key="testkita",
        facility_type=FacilityTypeFactory(key="testkita"),
        demand_formula="TEST_KINDER",
        richtwert=Decimal("1"),
        catchment_m=1000,
    )
    facilities = {
        name: FacilityFactory(
            facility_type=rule.facility_type,
            name=f"K{n}",
            geom=Point(X[name], Y, srid=25833),
            unit=units[name],
            capacity=Decimal(places),
        )
        for n, (name, places) in enumerate((("A", 60), ("B", 90), ("C", 40)), 1)
    }
    return rule, units, facilities
