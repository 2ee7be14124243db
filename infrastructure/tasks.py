from celery import shared_task

from infrastructure.models import Scenario, SupplyRule
from infrastructure.scenarios import scenario_compute
from infrastructure.supply_publish import supply_rule_publish


@shared_task(acks_late=False)
def supply_rule_publish_task(rule_id: int) -> dict:
    """Publish one supply rule (after an administrator changed it)."""
    return supply_rule_publish(rule=SupplyRule.objects.get(pk=rule_id))


@shared_task(acks_late=False)
def scenario_compute_task(scenario_id: int, method: str, level: str) -> dict:
    """Compute a scenario's before, after and change (writes nothing)."""
    return scenario_compute(
        scenario=Scenario.objects.select_related("rule__facility_type").get(
            pk=scenario_id
        ),
        method=method,
        level=level,
    )
