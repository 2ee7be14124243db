"""Background work of the facility register (thin: load by id, call a service)."""

from __future__ import annotations

from celery import shared_task
from django.core.exceptions import ValidationError

from .maintenance import facility_layer_publish
from .models import FacilityType, FacilityUpload, Scenario, SupplyRule
from .scenarios import scenario_compute
from .supply import SupplyError
from .supply_publish import supply_rule_publish
from .uploads import facility_upload_execute, facility_uploads_fail_stale


@shared_task
def facility_upload_execute_task(upload_id: int) -> None:
    upload = FacilityUpload.objects.filter(pk=upload_id).first()
    if upload is not None:
        facility_upload_execute(upload=upload)


@shared_task(acks_late=False, ignore_result=True)
def facility_uploads_sweep_task() -> int:
    """Periodic sweep (beat): fail uploads whose worker died."""
    return facility_uploads_fail_stale()


@shared_task
def facility_layer_publish_task(facility_type_id: int) -> None:
    facility_type = FacilityType.objects.filter(pk=facility_type_id).first()
    if facility_type is None:
        return
    facility_layer_publish(facility_type=facility_type)
    # A changed facility changes the published supply of its type, too: without
    # this the Versorgungsgrad maps would lag behind the register.
    for rule in SupplyRule.objects.filter(facility_type=facility_type, active=True):
        supply_rule_publish(rule=rule)


@shared_task(acks_late=False)
def supply_rule_publish_task(rule_id: int) -> dict:
    """Publish one supply rule (after an administrator changed it)."""
    return supply_rule_publish(rule=SupplyRule.objects.get(pk=rule_id))


@shared_task(acks_late=False)
def scenario_compute_task(scenario_id: int, method: str, level: str) -> dict:
    """Compute a scenario's before, after and change (writes nothing).

    A rule that cannot be computed (its demand variables are not in the
    Datenpool) answers with the German reason instead of failing the task."""
    try:
        return scenario_compute(
            scenario=Scenario.objects.select_related("rule__facility_type").get(
                pk=scenario_id
            ),
            method=method,
            level=level,
        )
    except (SupplyError, ValidationError) as exc:
        return {"scenario": scenario_id, "error": " ".join(_messages(exc))}


def _messages(exc: Exception) -> list[str]:
    return exc.messages if isinstance(exc, ValidationError) else [str(exc)]
