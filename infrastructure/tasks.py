from celery import shared_task

from infrastructure.models import SupplyRule
from infrastructure.supply_publish import supply_rule_publish


@shared_task(acks_late=False)
def supply_rule_publish_task(rule_id: int) -> dict:
    """Publish one supply rule (after an administrator changed it)."""
    return supply_rule_publish(rule=SupplyRule.objects.get(pk=rule_id))
