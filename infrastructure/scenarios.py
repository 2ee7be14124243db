"""Planning scenarios: "what if" changes to the facility register, computed only.

A scenario starts from the register's facilities of its rule's type
(``supply_facilities``), applies its changes in the order they were made and
hands the changed list to ``supply_compute`` as ``facilities_override``. The
register (``Facility``) and the Datenpool (``Observation``) are only read:
the only rows a scenario writes are its own (``Scenario``, ``ScenarioChange``).
Every write is audited in the write's own transaction (``core.audit``):
creating, changing (fields, sharing, a change added or undone) and deleting a
scenario.

Changes:

* **add**: a new facility at a point with a capacity (counts from the start);
* **move**: a register facility at another point (its Planungsraum within
  borders becomes the one holding the point);
* **capacity**: a register facility with another capacity (0 = no places);
* **close**: a register facility closes on a date: from that day on it no
  longer counts (a date after the scenario's reference date changes nothing
  on that date, as in the register).

"Before" and "after" go through the same code path (the facility list
passed in), so a unit no change reaches has exactly the same numbers.

Classes: the before values are classified by the published map's method
(``explorer.maps.classify``, default quantiles with 5 classes); the after
values are put into the *same* class bounds, so a unit "changes class" when
its Versorgungsgrad crosses one of the published map's bounds. Values below
the lowest bound fall into the first class, above the highest into the last.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.access import (
    Role,
    require_scenario_edit,
    staff_tools_allowed,
    user_bezirk_code,
    user_role,
)
from core.audit import Action, audit_record
from datapool.formula import formula_variables
from datapool.lineage import attribution
from explorer.maps.classify import (
    DEFAULT_PALETTE,
    METHODS,
    classify,
    palette_colors,
)
from lor import hierarchy
from lor.models import LorUnit

from .models import Facility, Scenario, ScenarioChange, SupplyRule
from .supply import (
    CATCHMENT,
    METHOD_LABELS,
    SRID,
    WITHIN,
    SupplyFacility,
    SupplyResult,
    supply_aggregate,
    supply_compute,
    supply_facilities,
)

MARKER = "Szenario – nicht veröffentlicht"
LEVELS = (
    hierarchy.PLANUNGSRAUM,
    hierarchy.BEZIRKSREGION,
    hierarchy.PROGNOSERAUM,
    hierarchy.BEZIRK,
)
SUPPLY_METHODS = (WITHIN, CATCHMENT)
CHANGE_PALETTE = "RdBu"


# --- reads -------------------------------------------------------------------


def _visible_q(user) -> Q:
    """Own scenarios; shared ones of the user's district for its planners and
    coordinators; every shared one for administrators. Guests see none but
    their own (they cannot make any)."""
    own = Q(owner_id=user.pk)
    role = user_role(user)
    if role == Role.ADMIN:
        return own | Q(shared=True)
    if role in (Role.PLANNER, Role.COORDINATOR):
        code = user_bezirk_code(user)
        if code:
            return own | Q(shared=True, district__code=code)
    return own


def scenario_list(*, user) -> QuerySet[Scenario]:
    """The scenarios the user may open, newest first."""
    return (
        Scenario.objects.filter(_visible_q(user))
        .select_related("owner", "rule", "rule__facility_type", "district")
        .order_by("-updated_at", "-pk")
    )


def scenario_get(*, pk: int, user) -> Scenario:
    """One scenario the user may open; ``Scenario.DoesNotExist`` otherwise."""
    return scenario_list(user=user).get(pk=pk)


def scenario_refusal(*, pk: int) -> str | None:
    """Why a scenario the user may not open is refused (None: there is none).

    Used after ``scenario_get`` failed: a scenario that exists is refused with
    its reason (private, or shared with another district) rather than hidden.
    """
    shared = Scenario.objects.filter(pk=pk).values_list("shared", flat=True).first()
    if shared is None:
        return None
    if shared:
        return _(
            "This scenario is shared with the planners and data coordinators of "
            "another district only."
        )
    return _("This scenario is private to its owner.")


def scenario_changes(*, scenario: Scenario) -> list[ScenarioChange]:
    """The scenario's changes in the order they apply."""
    return list(scenario.changes.select_related("facility").order_by("pk"))


def scenario_register_facilities(*, scenario: Scenario) -> QuerySet[Facility]:
    """The register's facilities of the scenario's type that count on its date."""
    on = scenario.ref_date
    return (
        Facility.objects.filter(facility_type=scenario.rule.facility_type)
        .filter(capacity__isnull=False)
        .exclude(valid_from__gt=on)
        .exclude(valid_to__lte=on)
        .select_related("unit")
        .order_by("name", "pk")
    )


def scenario_facilities(
    *, scenario: Scenario, base: list[SupplyFacility] | None = None
) -> list[SupplyFacility]:
    """The register's facilities (or ``base``, a list of them read before) with
    the scenario's changes applied, in order."""
    facilities = (
        list(base) if base is not None else supply_facilities(rule=scenario.rule)
    )
    by_id = {f.facility_id: n for n, f in enumerate(facilities)}
    for change in scenario_changes(scenario=scenario):
        if change.kind == ScenarioChange.Kind.ADD:
            facilities.append(
                SupplyFacility(
                    capacity=float(change.capacity),
                    geom=change.geom,
                    name=change.name,
                )
            )
            continue
        n = by_id.get(change.facility_id)
        if n is None:
            continue  # the facility left the register (or never had a capacity)
        f = facilities[n]
        if change.kind == ScenarioChange.Kind.MOVE:
            facilities[n] = f.moved_to(change.geom)
        elif change.kind == ScenarioChange.Kind.CAPACITY:
            facilities[n] = replace(f, capacity=float(change.capacity))
        elif change.kind == ScenarioChange.Kind.CLOSE:
            closing = change.closing_date
            if f.valid_to is not None and f.valid_to < closing:
                closing = f.valid_to
            facilities[n] = replace(f, valid_to=closing)
    return facilities


def _at_level(result: SupplyResult, level: str) -> SupplyResult:
    if level == hierarchy.PLANUNGSRAUM:
        return result
    return supply_aggregate(result=result, level=level)


def _class_of(value: float | None, bounds: list[tuple[float, float]]) -> int | None:
    """The class of a value in given bounds (upper inclusive, ends open)."""
    if value is None or not bounds:
        return None
    for n, (_lower, upper) in enumerate(bounds):
        if value <= upper:
            return n
    return len(bounds) - 1


def _status(unit) -> str:
    if unit.demand is not None:
        return unit.demand_status if unit.demand_status == "estimated" else "ok"
    return "suppressed" if unit.demand_status == "suppressed" else "missing"


def _side(unit, method: str) -> dict[str, Any]:
    supply = unit.supply_within if method == WITHIN else unit.supply_catchment
    return {
        "supply": supply,
        "grade": unit.versorgungsgrad(method),
        "deficit": unit.deficit(method),
    }


def scenario_sources(*, scenario: Scenario) -> list[str]:
    """Sources and licences of a scenario's numbers: register, demand, geometry."""
    facility_type = scenario.rule.facility_type
    register = _("Facility register of PRISMA")
    if facility_type.source:
        register = f"{register}: {facility_type.source}"
    if facility_type.license:
        register = f"{register} ({facility_type.license})"
    demand = attribution(
        variables=formula_variables(scenario.rule.demand_formula), computed=True
    )
    return [register, *demand.items, demand.prisma]


def scenario_compute(
    *,
    scenario: Scenario,
    method: str = CATCHMENT,
    level: str = hierarchy.PLANUNGSRAUM,
    class_method: str = "quantiles",
    k: int = 5,
) -> dict[str, Any]:
    """Before, after and change of the Versorgungsgrad per unit, as plain data.

    Writes nothing. ``method`` is ``grenzen`` (within borders) or ``2sfca``;
    ``level`` one of ``LEVELS``. The classes are those of the published map
    (see the module docstring); ``changed`` lists the units whose class
    changes.
    """
    if method not in SUPPLY_METHODS:
        raise ValidationError(_("Unknown method of the supply analysis."))
    if level not in LEVELS:
        raise ValidationError(_("Unknown level."))
    if class_method not in METHODS or class_method == "manual":
        class_method = "quantiles"
    rule = scenario.rule
    base = supply_facilities(rule=rule)
    before_pr = supply_compute(
        rule=rule, ref_date=scenario.ref_date, facilities_override=base
    )
    after_pr = supply_compute(
        rule=rule,
        ref_date=scenario.ref_date,
        facilities_override=scenario_facilities(scenario=scenario, base=base),
    )
    before, after = _at_level(before_pr, level), _at_level(after_pr, level)
    codes = sorted(before.units)
    names = dict(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=level, code__in=codes
        ).values_list("code", "name")
    )
    grades = [before.units[c].versorgungsgrad(method) for c in codes]
    statuses = [_status(before.units[c]) for c in codes]
    classification = classify(grades, statuses, class_method, k)
    bounds = classification.bounds
    colors = palette_colors(DEFAULT_PALETTE, len(bounds))
    units = []
    changed = []
    for code, cls in zip(codes, classification.classes, strict=True):
        b, a = before.units[code], after.units[code]
        side_b, side_a = _side(b, method), _side(a, method)
        if level != hierarchy.PLANUNGSRAUM:
            side_b["deficit"] = before.deficit(code, method)
            side_a["deficit"] = after.deficit(code, method)
        status = _status(b)
        cls_after = _class_of(side_a["grade"], bounds) if cls is not None else None
        side_b["class"], side_a["class"] = cls, cls_after
        change = (
            None
            if side_b["grade"] is None or side_a["grade"] is None
            else side_a["grade"] - side_b["grade"]
        )
        row = {
            "code": code,
            "name": names.get(code, code),
            "status": status,
            "incomplete": b.incomplete,
            "demand": b.demand,
            "need": b.need,
            "before": side_b,
            "after": side_a,
            "change": change,
            "class_changed": cls is not None and cls != cls_after,
        }
        units.append(row)
        if row["class_changed"]:
            changed.append(row)
    changes = [c for c in (row["change"] for row in units) if c]
    span = max((abs(c) for c in changes), default=0.0)
    return {
        "scenario": scenario.pk,
        "title": scenario.title,
        "marker": MARKER,
        "rule": rule.name,
        "capacity_unit": rule.facility_type.capacity_unit,
        "ref_date": scenario.ref_date.isoformat(),
        "method": method,
        "method_label": METHOD_LABELS[method],
        "level": level,
        "level_label": str(LorUnit.Level(level).label),
        "classes": [
            {"lower": lo, "upper": up, "color": color}
            for (lo, up), color in zip(bounds, colors, strict=True)
        ],
        "class_method": classification.method,
        # The change map: symmetric around 0, RdBu (red: worse, blue: better).
        "change_span": span,
        "change_colors": palette_colors(CHANGE_PALETTE, 7),
        "units": units,
        "changed": [r["code"] for r in changed],
        "facilities_before": before_pr.facilities_counted,
        "facilities_after": after_pr.facilities_counted,
        "sources": scenario_sources(scenario=scenario),
    }


# --- writes ------------------------------------------------------------------


def _snapshot(scenario: Scenario) -> dict[str, Any]:
    """The audited fields of a scenario, JSON-ready."""
    return {
        "title": scenario.title,
        "description": scenario.description,
        "rule": scenario.rule_id,
        "ref_date": scenario.ref_date.isoformat(),
        "shared": scenario.shared,
        "district": scenario.district.code if scenario.district else None,
    }


def _change_snapshot(change: ScenarioChange) -> dict[str, Any]:
    """What one scenario change does, JSON-ready (the point in EPSG:25833)."""
    return {
        "id": change.pk,
        "kind": change.kind,
        "facility": change.facility_id,
        "name": change.name,
        "capacity": str(change.capacity) if change.capacity is not None else None,
        "closing_date": change.closing_date.isoformat()
        if change.closing_date
        else None,
        "geom": change.geom.wkt if change.geom is not None else None,
    }


def _district(user) -> LorUnit | None:
    code = user_bezirk_code(user)
    if not code:
        return None
    return LorUnit.objects.filter(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code=code
    ).first()


@transaction.atomic
def scenario_create(
    *,
    owner,
    title: str,
    rule: SupplyRule,
    ref_date: date,
    description: str = "",
    shared: bool = False,
) -> Scenario:
    """A new scenario of the owner's district (staff roles only)."""
    if not staff_tools_allowed(owner):
        raise PermissionDenied(_("Your role does not allow this."))
    scenario = Scenario(
        owner=owner,
        title=title,
        description=description,
        rule=rule,
        ref_date=ref_date,
        district=_district(owner),
        shared=shared,
    )
    if shared and scenario.district is None:
        raise ValidationError(
            {"shared": _("Only a user with a district can share with the district.")}
        )
    scenario.full_clean()
    scenario.save()
    audit_record(
        user=owner, action=Action.CREATE, obj=scenario, details=_snapshot(scenario)
    )
    return scenario


@transaction.atomic
def scenario_update(
    *,
    scenario: Scenario,
    user,
    title: str,
    description: str,
    ref_date: date,
    shared: bool,
) -> Scenario:
    """Title, description, date and sharing of a scenario (its owner only);
    the audit keeps each changed field's old and new value."""
    require_scenario_edit(user=user, scenario=scenario)
    before = _snapshot(scenario)
    if shared and scenario.district_id is None:
        raise ValidationError(
            {"shared": _("Only a user with a district can share with the district.")}
        )
    scenario.title = title
    scenario.description = description
    scenario.ref_date = ref_date
    scenario.shared = shared
    scenario.full_clean()
    scenario.save()
    after = _snapshot(scenario)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if diff:
        audit_record(user=user, action=Action.CHANGE, obj=scenario, details=diff)
    return scenario


@transaction.atomic
def scenario_delete(*, scenario: Scenario, user) -> None:
    """Remove a scenario and its changes (its owner only)."""
    require_scenario_edit(user=user, scenario=scenario)
    details = {
        **_snapshot(scenario),
        "changes": [_change_snapshot(c) for c in scenario_changes(scenario=scenario)],
    }
    # Recorded before the delete, while the object still has its pk.
    audit_record(user=user, action=Action.DELETE, obj=scenario, details=details)
    scenario.delete()


def _point(geom: Point) -> Point:
    if geom.srid not in (None, SRID):
        geom = geom.transform(SRID, clone=True)
    elif geom.srid is None:
        geom = Point(geom.x, geom.y, srid=SRID)
    berlin = LorUnit.objects.filter(
        scheme=LorUnit.Scheme.LOR_2021,
        level=LorUnit.Level.PLANUNGSRAUM,
        geom__intersects=geom,
    )
    if not berlin.exists():
        raise ValidationError(
            {"geom": _("The point lies outside the Planungsräume of Berlin.")}
        )
    return geom


def _register_facility(scenario: Scenario, facility: Facility | None) -> Facility:
    if facility is None or facility.facility_type_id != scenario.rule.facility_type_id:
        raise ValidationError(
            {"facility": _("Please choose a facility of the scenario's type.")}
        )
    return facility


@transaction.atomic
def scenario_change_add(
    *,
    scenario: Scenario,
    user,
    kind: str,
    facility: Facility | None = None,
    name: str = "",
    geom: Point | None = None,
    capacity: Decimal | None = None,
    closing_date: date | None = None,
) -> ScenarioChange:
    """Record one change of the scenario (its owner only); the register stays."""
    require_scenario_edit(user=user, scenario=scenario)
    change = ScenarioChange(scenario=scenario, kind=kind)
    if kind == ScenarioChange.Kind.ADD:
        if geom is None:
            raise ValidationError({"geom": _("Please give a location.")})
        if capacity is None or capacity <= 0:
            raise ValidationError({"capacity": _("Please give a capacity above 0.")})
        change.geom = _point(geom)
        change.capacity = capacity
        change.name = name or _("New facility")
    elif kind == ScenarioChange.Kind.MOVE:
        change.facility = _register_facility(scenario, facility)
        if geom is None:
            raise ValidationError({"geom": _("Please give a location.")})
        change.geom = _point(geom)
    elif kind == ScenarioChange.Kind.CAPACITY:
        change.facility = _register_facility(scenario, facility)
        if capacity is None or capacity < 0:
            raise ValidationError(
                {"capacity": _("Please give a capacity of 0 or more.")}
            )
        change.capacity = capacity
    elif kind == ScenarioChange.Kind.CLOSE:
        change.facility = _register_facility(scenario, facility)
        change.closing_date = closing_date or scenario.ref_date
    else:
        raise ValidationError({"kind": _("Unknown change.")})
    if change.facility is not None:
        change.name = change.facility.name
    change.full_clean()
    change.save()
    # The scenario's "last changed" moves with its changes.
    scenario.save(update_fields=["updated_at"])
    audit_record(
        user=user,
        action=Action.CHANGE,
        obj=scenario,
        details={"change_added": _change_snapshot(change)},
    )
    return change


@transaction.atomic
def scenario_change_delete(*, change: ScenarioChange, user) -> None:
    """Undo one change (its scenario's owner only)."""
    scenario = change.scenario
    require_scenario_edit(user=user, scenario=scenario)
    removed = _change_snapshot(change)
    change.delete()
    scenario.save(update_fields=["updated_at"])
    audit_record(
        user=user,
        action=Action.CHANGE,
        obj=scenario,
        details={"change_removed": removed},
    )


def plr_point_on_surface(*, code: str) -> Point:
    """The population point of a Planungsraum (where an address-free facility sits)."""
    unit = LorUnit.objects.get(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM, code=code
    )
    point = unit.geom.point_on_surface
    point.srid = SRID
    return point
