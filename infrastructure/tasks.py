from celery import shared_task
from django.core.exceptions import ValidationError

from infrastructure.models import Scenario, SupplyRule
from infrastructure.scenarios import scenario_compute
from infrastructure.supply import SupplyError
from infrastructure.supply_publish import supply_rule_publish


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
