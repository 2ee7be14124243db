"""Writes of the facility register by people: create, edit, close, add a type.

Every change checks the rule of ``core.access`` (the district's data
coordinators and administrators), is audited in the same transaction and
republishes the type's map layer, so the explorer draws the register as it is.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.access import (
    require_facility_edit,
    require_facility_maintenance,
    user_bezirk_code,
    user_is_admin,
)
from core.audit import Action, audit_record
from datapool.models import FacilityLayer, ImportRun
from datapool.parsers.contract import FacilityLayerDelivery, LayerSpec, PlacedPoint
from datapool.services.facilities import facility_layer_replace
from datapool.themes import Theme
from lor.models import LorUnit

from .models import Facility, FacilityType
from .selectors import facilities_valid_at, planungsraum_codes

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = (
    "name",
    "capacity",
    "operator",
    "status",
    "valid_from",
    "valid_to",
    "geom",
    "unit",
)


def facility_place(*, geom: GEOSGeometry | None, unit: LorUnit | None) -> LorUnit:
    """The Planungsraum of a location (PostGIS point in polygon), else ``unit``.

    A location outside Berlin, or neither location nor Planungsraum, is refused.
    """
    if geom is not None:
        code = planungsraum_codes(geoms=[geom])[0]
        if code is None:
            raise ValidationError(
                {"geom": "Der Ort liegt in keinem Planungsraum (außerhalb Berlins)."}
            )
        return LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.PLANUNGSRAUM,
            code=code,
        )
    if unit is None:
        raise ValidationError(
            {
                "geom": "Bitte einen Ort auf der Karte, Koordinaten oder einen "
                "Planungsraum angeben."
            }
        )
    return unit


def _check_type_district(facility: Facility) -> None:
    district = facility.facility_type.district
    if district is not None and not facility.unit.code.startswith(district.code):
        raise ValidationError(
            {
                "facility_type": f"Der Typ „{facility.facility_type.name}“ gehört "
                f"dem Bezirk {district.name}; die Einrichtung muss dort liegen."
            }
        )


def _snapshot(facility: Facility) -> dict[str, Any]:
    return {
        "name": facility.name,
        # As stored (two decimals), so that 90 and 90.00 are no change.
        "capacity": str(Decimal(facility.capacity).quantize(Decimal("0.01")))
        if facility.capacity is not None
        else None,
        "operator": facility.operator,
        "status": facility.status,
        "valid_from": facility.valid_from.isoformat() if facility.valid_from else None,
        "valid_to": facility.valid_to.isoformat() if facility.valid_to else None,
        "unit": facility.unit.code if facility.unit_id else None,
        "location": facility.geom.wkt if facility.geom else None,
    }


@transaction.atomic
def facility_create(
    *,
    user,
    facility_type: FacilityType,
    name: str,
    geom: GEOSGeometry | None = None,
    unit: LorUnit | None = None,
    capacity: Decimal | None = None,
    operator: str = "",
    status: str = Facility.Status.OPEN,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Facility:
    """A new facility in its Planungsraum, if the user maintains that district."""
    require_facility_maintenance(user)
    facility = Facility(
        facility_type=facility_type,
        name=name,
        geom=geom,
        unit=facility_place(geom=geom, unit=unit),
        capacity=capacity,
        operator=operator,
        status=status,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    require_facility_edit(user=user, facility=facility)
    _check_type_district(facility)
    facility.full_clean()
    facility.save()
    audit_record(
        user=user, action=Action.CREATE, obj=facility, details=_snapshot(facility)
    )
    facility_layer_publish_later(facility_type=facility_type)
    return facility


@transaction.atomic
def facility_update(*, user, facility: Facility, **changes: Any) -> Facility:
    """Change the given fields; the audit keeps each field's old and new value."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    require_facility_edit(user=user, facility=facility)
    before = _snapshot(facility)
    for field, value in changes.items():
        setattr(facility, field, value)
    if "geom" in changes or "unit" in changes:
        facility.unit = facility_place(geom=facility.geom, unit=facility.unit)
        # Moving a facility into another district needs that district's rights.
        require_facility_edit(user=user, facility=facility)
        _check_type_district(facility)
    if facility.status == Facility.Status.CLOSED and facility.valid_to is None:
        # The dates decide what counts: a closure needs its day.
        raise ValidationError(
            {
                "valid_to": "Bitte das Schließdatum angeben (ab diesem Tag zählt die "
                "Einrichtung nicht mehr)."
            }
        )
    if facility.valid_to and facility.valid_to <= timezone.localdate():
        facility.status = Facility.Status.CLOSED
    facility.full_clean()
    facility.save()
    after = _snapshot(facility)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if diff:
        audit_record(user=user, action=Action.CHANGE, obj=facility, details=diff)
        facility_layer_publish_later(facility_type=facility.facility_type)
    return facility


@transaction.atomic
def facility_close(*, user, facility: Facility, on: date) -> Facility:
    """Close the facility: from ``on`` (its valid_to) it no longer counts."""
    require_facility_edit(user=user, facility=facility)
    if facility.valid_from and on <= facility.valid_from:
        raise ValidationError(
            {
                "valid_to": "Das Schließdatum muss nach dem Eröffnungsdatum "
                f"({facility.valid_from:%d.%m.%Y}) liegen."
            }
        )
    before = facility.status, facility.valid_to
    facility.status = Facility.Status.CLOSED
    facility.valid_to = on
    facility.full_clean()
    facility.save(update_fields=["status", "valid_to", "updated_at"])
    audit_record(
        user=user,
        action=Action.STATUS,
        obj=facility,
        details={
            "status": [before[0], facility.status],
            "valid_to": [
                before[1].isoformat() if before[1] else None,
                on.isoformat(),
            ],
        },
    )
    facility_layer_publish_later(facility_type=facility.facility_type)
    return facility


@transaction.atomic
def facility_type_create(
    *,
    user,
    key: str,
    name: str,
    capacity_unit: str,
    demand_group: str = "",
    district: LorUnit | None = None,
) -> FacilityType:
    """A type a district adds; coordinators add types of their own district only."""
    require_facility_maintenance(user)
    own = user_bezirk_code(user)
    if not user_is_admin(user):
        if own is None:
            raise PermissionDenied("Ihr Profil nennt keinen Bezirk.")
        district = LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code=own
        )
    facility_type = FacilityType(
        key=key,
        name=name,
        capacity_unit=capacity_unit,
        demand_group=demand_group,
        district=district,
        source=f"PRISMA: Einrichtungsregister ({district.name})"
        if district
        else "PRISMA: Einrichtungsregister",
    )
    facility_type.full_clean()
    facility_type.save()
    audit_record(
        user=user,
        action=Action.CREATE,
        obj=facility_type,
        details={"key": key, "district": district.code if district else None},
    )
    return facility_type


def facility_layer_publish_later(*, facility_type: FacilityType) -> None:
    """Republish the type's map layer once the change has committed.

    Publishing rewrites the whole layer (the Kitas: 2,880 points, seconds on a
    busy machine), so a worker does it and the edit returns at once. It always
    publishes the state at the time it runs, so tasks that overtake each other
    still end with the latest stock. Without a broker it publishes here.
    """
    if not facility_type.layer_key:
        return
    type_id = facility_type.pk

    def send() -> None:
        # Tasks import this module at their top; the service reaches its task here.
        from .tasks import facility_layer_publish_task

        try:
            facility_layer_publish_task.apply_async(args=[type_id], retry=False)
        except Exception:  # kombu and redis raise several connection errors
            logger.warning("no broker: publishing facility layer %s here", type_id)
            with transaction.atomic():
                facility_layer_publish(
                    facility_type=FacilityType.objects.get(pk=type_id)
                )

    transaction.on_commit(send)


@transaction.atomic
def facility_layer_publish(
    *, facility_type: FacilityType, on: date | None = None
) -> dict[str, int]:
    """Publish the type's facilities valid on ``on`` as its Datenpool map layer.

    The register is the one home of facilities; the Datenpool's facility layer
    (``FacilityType.layer_key``) is what the explorer draws, so it is replaced
    by the register's current stock after every change. Types without a layer
    key or without located facilities publish nothing.
    """
    if not facility_type.layer_key:
        return {"facilities": 0}
    on = on or timezone.localdate()
    facilities = (
        facilities_valid_at(facility_type=facility_type, on=on)
        .filter(geom__isnull=False, unit__isnull=False)
        .select_related("unit")
        .order_by("pk")
    )
    stored = FacilityLayer.objects.filter(key=facility_type.layer_key).first()
    # The layer's summed attribute (e.g. the Kitas' e_platz) carries the capacity.
    sum_attribute = stored.sum_attribute if stored else ""
    points = []
    for number, f in enumerate(facilities, start=1):
        point = f.geom if isinstance(f.geom, Point) else f.geom.point_on_surface
        attributes = dict(f.attributes)
        attributes.update(
            {
                "register_id": f.pk,
                "kapazitaet": float(f.capacity) if f.capacity is not None else None,
                "kapazitaet_einheit": facility_type.capacity_unit,
                "traeger": f.operator,
                "status": f.status,
            }
        )
        if sum_attribute:
            attributes[sum_attribute] = attributes["kapazitaet"]
        points.append(
            PlacedPoint(
                number=number,
                x=point.x,
                y=point.y,
                unit_code=f.unit.code,
                name=f.name,
                attributes=attributes,
            )
        )
    if not points and stored is None:
        return {"facilities": 0}
    now = timezone.now()
    run = ImportRun.objects.create(
        kind=ImportRun.Kind.COMPUTATION,
        status=ImportRun.Status.SUCCEEDED,
        original_name=f"Einrichtungsregister: {facility_type.name} ({on:%d.%m.%Y})",
        options={"infrastructure_layer": facility_type.key},
        district=facility_type.district,
        started_at=now,
        finished_at=now,
        percent=100,
    )
    spec = LayerSpec(
        key=facility_type.layer_key,
        # A layer delivered earlier keeps its name and theme.
        name=stored.name if stored else facility_type.name,
        theme=stored.theme if stored else Theme.INFRASTRUKTUR,
        source=(facility_type.source or "PRISMA: Einrichtungsregister")[:300],
        license=facility_type.license[:120],
        metadata_complete=True,
    )
    return facility_layer_replace(
        import_run=run,
        layer=FacilityLayerDelivery(
            spec=spec,
            ref_date=on,
            sum_attribute=sum_attribute,
            points=points,
        ),
    )
