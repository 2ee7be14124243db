"""Reads of the facility register."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from lor.models import LorUnit

from .models import Facility, FacilityType


def facilities_valid_at(*, facility_type: FacilityType, on: date) -> QuerySet[Facility]:
    """The type's facilities in the stock on this day.

    The dates decide, not the status: a facility counts from its opening day
    (valid_from) up to the day before its closing day (valid_to); open ends count.
    """
    return Facility.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_to__isnull=True) | Q(valid_to__gt=on),
        facility_type=facility_type,
    )


def facilities_valid_in_unit(
    *, code_prefix: str, on: date, facility_types: list[FacilityType]
) -> QuerySet[Facility]:
    """Facilities of these types in a LOR unit (by key prefix) in the stock on ``on``.

    The same dates rule as ``facilities_valid_at``; a facility belongs to the unit
    its Planungsraum lies in (LOR keys nest).
    """
    return (
        Facility.objects.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=on),
            Q(valid_to__isnull=True) | Q(valid_to__gt=on),
            facility_type__in=facility_types,
            unit__code__startswith=code_prefix,
        )
        .select_related("unit")
        .order_by("name", "pk")
    )


def supply_by_planungsraum(
    *, facility_type: FacilityType, on: date
) -> dict[str, Decimal]:
    """Summed capacity per Planungsraum code; capacities not recorded add nothing."""
    rows = (
        facilities_valid_at(facility_type=facility_type, on=on)
        .filter(unit__isnull=False, capacity__isnull=False)
        .values("unit__code")
        .annotate(total=Sum("capacity"))
    )
    return {row["unit__code"]: row["total"] for row in rows}


def planungsraum_codes(*, geoms: list) -> list[str | None]:
    """The LOR 2021 Planungsraum of each geometry (None outside Berlin or empty).

    A polygon counts where its point on surface lies; ST_Covers includes the
    boundary, and a point on a shared border goes to the smallest key, as in
    the Datenpool's point imports.
    """
    codes: list[str | None] = [None] * len(geoms)
    present = [(i, g) for i, g in enumerate(geoms) if g is not None and not g.empty]
    if not present:
        return codes
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.i, (
                SELECT min(u.code) FROM {LorUnit._meta.db_table} u
                WHERE u.scheme = %s AND u.level = %s
                  AND ST_Covers(u.geom, ST_PointOnSurface(
                      ST_SetSRID(ST_GeomFromWKB(p.wkb), 25833)))
            )
            FROM unnest(%s::int[], %s::bytea[]) AS p(i, wkb)
            """,
            [
                LorUnit.Scheme.LOR_2021,
                LorUnit.Level.PLANUNGSRAUM,
                [i for i, _ in present],
                [bytes(g.wkb) for _, g in present],
            ],
        )
        for i, code in cursor.fetchall():
            codes[i] = code
    return codes


def facility_list(
    *,
    facility_type: FacilityType | None = None,
    bezirk_code: str = "",
    status: str = "",
    q: str = "",
) -> QuerySet[Facility]:
    """Facilities of the register filtered by type, district, status and text."""
    rows = Facility.objects.select_related("facility_type", "unit")
    if facility_type is not None:
        rows = rows.filter(facility_type=facility_type)
    if bezirk_code:
        # LOR keys nest: a Planungsraum's key starts with its Bezirk's key.
        rows = rows.filter(unit__code__startswith=bezirk_code)
    if status:
        rows = rows.filter(status=status)
    if q:
        rows = rows.filter(
            Q(name__icontains=q)
            | Q(operator__icontains=q)
            | Q(source_key=q)
            | Q(unit__code=q)
        )
    return rows.order_by("facility_type__name", "name", "pk")


def facility_type_list(*, bezirk_code: str | None = None) -> QuerySet[FacilityType]:
    """Berlin-wide types and, with a district, the types that district added."""
    types = FacilityType.objects.select_related("district")
    if bezirk_code is None:
        return types.order_by("name")
    return types.filter(
        Q(district__isnull=True) | Q(district__code=bezirk_code)
    ).order_by("name")
