"""Factories for the Datenpool: variables, import runs, observations, indicators,
facility layers."""

from __future__ import annotations

from datetime import date

import factory
from factory.django import DjangoModelFactory

from datapool.models import FacilityLayer, ImportRun, Indicator, Observation, Variable
from datapool.themes import ProfileTheme
from tests.factories.lor import real_unit


class VariableFactory(DjangoModelFactory):
    """A Berlin-wide count, released, summed over the levels."""

    class Meta:
        model = Variable
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"TEST_{n + 1:03d}")
    name = factory.LazyAttribute(lambda v: f"Testvariable {v.key}")
    theme = "bevoelkerung"
    unit = "Personen"


class ImportRunFactory(DjangoModelFactory):
    """A finished table import (no file): what observations point to."""

    class Meta:
        model = ImportRun

    kind = ImportRun.Kind.TABLE
    status = ImportRun.Status.SUCCEEDED
    original_name = factory.Sequence(lambda n: f"tabelle_{n + 1}.csv")


class ObservationFactory(DjangoModelFactory):
    """A delivered value of Stülerstraße (01100101) on 31.12.2024."""

    class Meta:
        model = Observation

    variable = factory.SubFactory(VariableFactory)
    unit = factory.LazyFunction(lambda: real_unit("01100101"))
    ref_date = date(2024, 12, 31)
    value = 100.0
    status = Observation.Status.OK
    import_run = factory.SubFactory(ImportRunFactory)


class IndicatorFactory(DjangoModelFactory):
    """A share over two new variables: numerator / denominator * 100."""

    class Meta:
        model = Indicator

    class Params:
        numerator = factory.SubFactory(VariableFactory)

    variable = factory.SubFactory(
        VariableFactory,
        unit="%",
        value_type=Variable.ValueType.SHARE,
        aggregation=Variable.Aggregation.NONE,
    )
    denominator = factory.SubFactory(VariableFactory)
    theme = ProfileTheme.BEVOELKERUNG
    formula = factory.LazyAttribute(
        lambda i: f"{i.numerator.key} / {i.denominator.key} * 100"
    )


class FacilityLayerFactory(DjangoModelFactory):
    class Meta:
        model = FacilityLayer
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"testlayer{n + 1}")
    name = factory.LazyAttribute(lambda layer: f"Einrichtungen {layer.key}")
    import_run = factory.SubFactory(ImportRunFactory, kind=ImportRun.Kind.POINTS)
    ref_date = date(2024, 12, 31)
