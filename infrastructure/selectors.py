"""Reads of the facility register."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

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
