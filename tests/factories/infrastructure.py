"""Factories for the facility register and supply rules.

The real Kitas come into the register through the production importer
(``infrastructure.layer_import.facilities_import_gis``), not through a factory.
"""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from infrastructure.models import Facility, FacilityType, SupplyRule


class FacilityTypeFactory(DjangoModelFactory):
    class Meta:
        model = FacilityType
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"typ{n + 1}")
    name = factory.LazyAttribute(lambda t: f"Einrichtungstyp {t.key}")
    capacity_unit = "Plätze"


class FacilityFactory(DjangoModelFactory):
    class Meta:
        model = Facility

    facility_type = factory.SubFactory(FacilityTypeFactory)
    name = factory.Sequence(lambda n: f"Einrichtung {n + 1}")
    capacity = Decimal("10")


class SupplyRuleFactory(DjangoModelFactory):
    """A rule on a new type: one place per person of E_E within 1,000 m."""

    class Meta:
        model = SupplyRule
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"regel{n + 1}")
    name = factory.LazyAttribute(lambda r: f"Regel {r.key}")
    facility_type = factory.SubFactory(FacilityTypeFactory)
    demand_formula = "E_E"
    demand_label = "Einwohner"
    richtwert = Decimal("1")
    richtwert_unit = "Plätze je Person"
    richtwert_source = "Testwert"
    catchment_m = 1000
