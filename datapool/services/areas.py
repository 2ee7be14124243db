"""Custom areas (Gebietskulissen) with their values: create, compute, delete.

The areas themselves are LOR units of their own scheme (``lor.services``); the
Datenpool owns the values aggregated to them, so creating a set queues their
computation and deleting one removes its values first.
"""

from __future__ import annotations

from django.db import transaction

from core.access import require_area_set_delete
from core.audit import audit_record
from core.models import AuditEvent
from lor.models import CustomAreaSet
from lor.services import AreaSpec, custom_area_set_create, custom_area_set_delete

from ..models import ImportRun
from .indicators import indicator_run_enqueue
from .observations import observations_delete_for_units


@transaction.atomic
def custom_area_set_add(
    *,
    user,
    name: str,
    kind: str,
    description: str,
    areas: list[AreaSpec],
) -> ImportRun:
    """Create the set and queue the computation of its values and indicators.

    ``lor.services.CustomAreaError`` when the areas are invalid; nothing is kept.
    """
    custom_area_set_create(
        name=name, kind=kind, description=description, areas=areas, owner=user
    )
    run = indicator_run_enqueue(user=user, custom_areas=True)
    assert run is not None  # a run over all indicators is always created
    return run


@transaction.atomic
def custom_area_set_remove(*, user, area_set: CustomAreaSet) -> None:
    """Delete the set with the values computed for it; its owner or an admin only."""
    require_area_set_delete(user=user, area_set=area_set)
    observations_delete_for_units(
        unit_ids=list(area_set.areas.values_list("id", flat=True))
    )
    audit_record(
        user=user,
        action=AuditEvent.Action.DELETE,
        obj=area_set,
        details={"areas": area_set.areas.count()},
    )
    custom_area_set_delete(area_set=area_set)
