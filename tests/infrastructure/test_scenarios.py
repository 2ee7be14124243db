"""Planning scenarios: changes computed by hand in the factory world of
``tests/infrastructure/world.py`` (A, B, C on a line, A–B 800 m, B–C 900 m;
demand A 100, B 50, C 200; Richtwert 1 place per child; catchment 1 000 m;
K1 in A 60 places, K2 in B 90, K3 in C 40).

Before any change, by the 2SFCA (see tests/infrastructure/test_supply.py):
R1 = 60/150 = 0.4, R2 = 90/350 = 0.2571…, R3 = 40/250 = 0.16;
A reaches K1, K2: 65.71 %; B all three: 81.71 %; C K2, K3: 41.71 %.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from core.access import Role
from core.models import AuditEvent
from infrastructure.models import ScenarioChange
from infrastructure.scenarios import (
    MARKER,
    plr_point_on_surface,
    scenario_change_add,
    scenario_change_delete,
    scenario_compute,
    scenario_create,
    scenario_delete,
    scenario_get,
    scenario_list,
    scenario_update,
)
from infrastructure.supply import CATCHMENT, WITHIN
from lor import hierarchy
from tests.infrastructure.world import CODES, ON, X, Y
from tests.support.login import user_with_role

pytestmark = pytest.mark.django_db

R1, R2, R3 = 60 / 150, 90 / 350, 40 / 250


def _checksums() -> dict[str, tuple]:
    """Row count and an MD5 over every row of the register and the Datenpool."""
    found = {}
    with connection.cursor() as cursor:
        for table in (
            "infrastructure_facility",
            "datapool_observation",
            "datapool_variable",
        ):
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' "  # noqa: S608
                f"ORDER BY t.id), '')) FROM {table} t"
            )
            found[table] = cursor.fetchone()
    return found


@pytest.fixture
def scenario(world, user):
    rule, _units, _facilities = world
    return scenario_create(owner=user, title="Neue Kita", rule=rule, ref_date=ON)


def _unit(result, name: str) -> dict:
    return next(u for u in result["units"] if u["code"] == CODES[name])


def _grade(result, name: str, side: str) -> float:
    return _unit(result, name)[side]["grade"]


def test_adding_a_kita_of_90_places_raises_its_planungsraum_by_hand(scenario, user):
    scenario_change_add(
        scenario=scenario,
        user=user,
        kind=ScenarioChange.Kind.ADD,
        name="Kita Neu",
        geom=Point(X["A"], Y, srid=25833),
        capacity=Decimal(90),
    )
    within = scenario_compute(scenario=scenario, method=WITHIN)
    # Within borders: A has K1 (60) for 100 children; with 90 more, 150.
    assert _grade(within, "A", "before") == pytest.approx(60.0)
    assert _grade(within, "A", "after") == pytest.approx(150.0)
    assert _unit(within, "A")["change"] == pytest.approx(90.0)
    assert _unit(within, "A")["after"]["deficit"] == 0
    assert _unit(within, "A")["before"]["deficit"] == pytest.approx(40.0)
    assert _unit(within, "B")["change"] == 0

    catchment = scenario_compute(scenario=scenario, method=CATCHMENT)
    # 2SFCA: the new Kita reaches A and B (150 children): R4 = 90/150 = 0.6,
    # which A and B add to their accessibility; C (1 700 m) gets nothing.
    assert _grade(catchment, "A", "before") == pytest.approx((R1 + R2) * 100)
    assert _grade(catchment, "A", "after") == pytest.approx((R1 + R2 + 0.6) * 100)
    assert _unit(catchment, "B")["change"] == pytest.approx(60.0)
    assert _unit(catchment, "C")["change"] == pytest.approx(0.0)
    assert catchment["facilities_after"] == catchment["facilities_before"] + 1
    assert catchment["marker"] == MARKER


def test_a_unit_that_crosses_a_class_bound_is_listed(scenario, user):
    scenario_change_add(
        scenario=scenario,
        user=user,
        kind=ScenarioChange.Kind.ADD,
        geom=Point(X["A"], Y, srid=25833),
        capacity=Decimal(90),
    )
    result = scenario_compute(scenario=scenario, method=CATCHMENT)
    # Three distinct values, three classes: C (41.7) < A (65.7) < B (81.7).
    # A rises to 125.7 % (above every bound: the top class); B was at the top.
    assert CODES["A"] in result["changed"]
    assert CODES["B"] not in result["changed"]
    assert CODES["C"] not in result["changed"]
    a = _unit(result, "A")
    assert a["after"]["class"] == len(result["classes"]) - 1 > a["before"]["class"]


def test_closing_a_kita_drops_its_planungsraum(scenario, user, world):
    _rule, _units, facilities = world
    scenario_change_add(
        scenario=scenario,
        user=user,
        kind=ScenarioChange.Kind.CLOSE,
        facility=facilities["A"],
        closing_date=ON,
    )
    within = scenario_compute(scenario=scenario, method=WITHIN)
    assert _grade(within, "A", "after") == 0
    assert _unit(within, "A")["after"]["deficit"] == pytest.approx(100.0)
    catchment = scenario_compute(scenario=scenario, method=CATCHMENT)
    # Without K1, A reaches only K2 and B only K2 and K3.
    assert _grade(catchment, "A", "after") == pytest.approx(R2 * 100)
    assert _grade(catchment, "B", "after") == pytest.approx((R2 + R3) * 100)


def test_a_closing_after_the_reference_date_changes_nothing_on_it(
    scenario, user, world
):
    _rule, _units, facilities = world
    scenario_change_add(
        scenario=scenario,
        user=user,
        kind=ScenarioChange.Kind.CLOSE,
        facility=facilities["A"],
        closing_date=ON + timedelta(days=1),
    )
    result = scenario_compute(scenario=scenario, method=WITHIN)
    assert [_unit(result, name)["change"] for name in "ABC"] == [0, 0, 0]
    assert result["changed"] == []


def test_moving_a_kita_changes_the_2sfca_of_its_neighbours(scenario, user, world):
    _rule, _units, facilities = world
    scenario_change_add(
        scenario=scenario,
        user=user,
        kind=ScenarioChange.Kind.MOVE,
        facility=facilities["A"],
        geom=Point(X["C"], Y, srid=25833),
    )
    result = scenario_compute(scenario=scenario, method=CATCHMENT)
    # K1 now in C reaches B (900 m) and C: R1' = 60/250 = 0.24.
    r1 = 60 / 250
    assert _grade(result, "A", "after") == pytest.approx(R2 * 100)
    # B, the neighbour, did not gain or lose a Kita but its share changes.
    assert _grade(result, "B", "before") == pytest.approx((R1 + R2 + R3) * 100)
    assert _grade(result, "B", "after") == pytest.approx((r1 + R2 + R3) * 100)
    assert _grade(result, "C", "after") == pytest.approx((r1 + R2 + R3) * 100)
    within = scenario_compute(scenario=scenario, method=WITHIN)
    assert _grade(within, "A", "after") == 0
    assert _grade(within, "C", "after") == pytest.approx(100 / 200 * 100)


def test_enlarging_a_kita_and_the_bezirksregion_level(scenario, user, world):
    _rule, _units, facilities = world
    scenario_change_add(
        scenario=scenario,
        user=user,
        kind=ScenarioChange.Kind.CAPACITY,
        facility=facilities["B"],
        capacity=Decimal(140),
    )
    result = scenario_compute(
        scenario=scenario, method=WITHIN, level=hierarchy.BEZIRKSREGION
    )
    region = next(u for u in result["units"] if u["code"] == "990001")
    # A and B: supply 60 + 90 → 60 + 140 for 150 children.
    assert region["before"]["grade"] == pytest.approx(150 / 150 * 100)
    assert region["after"]["grade"] == pytest.approx(200 / 150 * 100)
    # The deficits of the Planungsräume are summed: A lacks 40 both times.
    assert region["before"]["deficit"] == pytest.approx(40.0)
    assert region["after"]["deficit"] == pytest.approx(40.0)


def test_scenarios_never_change_the_register_or_the_datenpool(scenario, user, world):
    _rule, _units, facilities = world
    before = _checksums()
    for kind, extra in (
        (ScenarioChange.Kind.ADD, {"geom": Point(X["B"], Y, srid=25833)}),
        (
            ScenarioChange.Kind.MOVE,
            {"facility": facilities["C"], "geom": Point(X["A"], Y, srid=25833)},
        ),
        (ScenarioChange.Kind.CAPACITY, {"facility": facilities["B"]}),
        (ScenarioChange.Kind.CLOSE, {"facility": facilities["A"]}),
    ):
        scenario_change_add(
            scenario=scenario, user=user, kind=kind, capacity=Decimal(30), **extra
        )
    for method in (WITHIN, CATCHMENT):
        scenario_compute(scenario=scenario, method=method)
    assert scenario.changes.count() == 4
    assert _checksums() == before


def test_a_point_outside_berlin_is_refused(scenario, user):
    with pytest.raises(ValidationError):
        scenario_change_add(
            scenario=scenario,
            user=user,
            kind=ScenarioChange.Kind.ADD,
            geom=Point(700_000, 5_000_000, srid=25833),
            capacity=Decimal(90),
        )
    assert scenario.changes.count() == 0


def test_the_population_point_of_a_planungsraum_places_a_facility(scenario, user):
    point = plr_point_on_surface(code=CODES["C"])
    assert (point.x, point.y) == pytest.approx((X["C"], Y))
    change = scenario_change_add(
        scenario=scenario,
        user=user,
        kind=ScenarioChange.Kind.ADD,
        geom=point,
        capacity=Decimal(10),
    )
    assert change.name  # "New facility"


def test_private_scenarios_stay_private_shared_ones_reach_the_district(
    scenario, user, world
):
    colleague = user_with_role("kollegin01", Role.PLANNER, "01")
    other = user_with_role("planung03", Role.PLANNER, "03")
    guest = user_with_role("gast", Role.GUEST, None)
    admin = user_with_role("admin", Role.ADMIN, None)
    assert list(scenario_list(user=user)) == [scenario]
    for reader in (colleague, other, guest, admin):
        assert not scenario_list(user=reader).exists()
    scenario.shared = True
    scenario.save()
    assert scenario_get(pk=scenario.pk, user=colleague) == scenario
    assert scenario_get(pk=scenario.pk, user=admin) == scenario
    for reader in (other, guest):
        assert not scenario_list(user=reader).exists()
    # Shared means "may open", not "may change".
    with pytest.raises(PermissionDenied):
        scenario_change_add(
            scenario=scenario,
            user=colleague,
            kind=ScenarioChange.Kind.ADD,
            geom=Point(X["A"], Y, srid=25833),
            capacity=Decimal(5),
        )


def test_guests_make_no_scenarios(world):
    rule, _units, _facilities = world
    guest = user_with_role("gast", Role.GUEST, None)
    with pytest.raises(PermissionDenied):
        scenario_create(owner=guest, title="x", rule=rule, ref_date=date(2024, 12, 31))


def _events(scenario_pk: int) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="infrastructure.scenario", object_id=str(scenario_pk)
        ).order_by("pk")
    )


def test_every_write_of_a_scenario_is_audited(scenario, user, world):
    _rule, _units, facilities = world
    pk = scenario.pk
    (created,) = _events(pk)
    assert created.action == AuditEvent.Action.CREATE
    assert created.user == user
    assert created.object_label == "Neue Kita"
    assert created.details["shared"] is False
    assert created.details["district"] == "01"

    scenario_update(
        scenario=scenario,
        user=user,
        title="Neue Kita",
        description="",
        ref_date=ON,
        shared=True,
    )
    added = scenario_change_add(
        scenario=scenario,
        user=user,
        kind=ScenarioChange.Kind.CAPACITY,
        facility=facilities["A"],
        capacity=Decimal(80),
    )
    added_pk = added.pk
    scenario_change_delete(change=added, user=user)
    # Saving without a difference records nothing.
    scenario_update(
        scenario=scenario,
        user=user,
        title="Neue Kita",
        description="",
        ref_date=ON,
        shared=True,
    )
    shared, change_added, change_removed = _events(pk)[1:]
    assert shared.action == AuditEvent.Action.CHANGE
    assert shared.details == {"shared": [False, True]}
    assert change_added.action == AuditEvent.Action.CHANGE
    assert change_added.details["change_added"]["kind"] == "capacity"
    assert change_added.details["change_added"]["capacity"] == "80"
    assert change_added.details["change_added"]["facility"] == facilities["A"].pk
    assert change_removed.details["change_removed"]["id"] == added_pk

    scenario_delete(scenario=scenario, user=user)
    deleted = _events(pk)[-1]
    assert deleted.action == AuditEvent.Action.DELETE
    assert deleted.object_label == "Neue Kita"
    assert deleted.details["shared"] is True
    assert deleted.details["changes"] == []


def test_a_refused_scenario_write_leaves_no_audit_event(scenario, user):
    colleague = user_with_role("kollegin01", Role.PLANNER, "01")
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        scenario_delete(scenario=scenario, user=colleague)
    assert AuditEvent.objects.count() == before
