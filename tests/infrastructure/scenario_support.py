"""The seeded Kita rule, also after a transactional test flushed the tables
(the data migration's rows are gone then)."""

from __future__ import annotations

from decimal import Decimal

from infrastructure.models import FacilityType, SupplyRule


def kita_rule() -> SupplyRule:
    """The ``kita`` rule as migration 0003 seeds it (E_E1U6, 1 place, 1 000 m)."""
    kita, _ = FacilityType.objects.get_or_create(
        key="kita",
        defaults={"name": "Kindertagesstätte", "capacity_unit": "Plätze"},
    )
    rule, _ = SupplyRule.objects.get_or_create(
        key="kita",
        defaults={
            "name": "Kita-Plätze für Kinder von 1 bis unter 6 Jahren",
            "facility_type": kita,
            "demand_formula": "E_E1U6",
            "demand_label": "Kinder von 1 bis unter 6 Jahren",
            "richtwert": Decimal("1"),
            "richtwert_unit": "Plätze je Kind",
            "richtwert_source": "Annahme (siehe Migration 0003_supply_rule_seed)",
            "richtwert_is_assumption": True,
            "catchment_m": 1000,
        },
    )
    return rule
