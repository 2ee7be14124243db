"""Factories for LOR units and custom area sets.

Most tests work on the real LOR 2021 units that tests/conftest.py loads; a factory
call with the key of such a unit returns that unit (``LorUnitFactory(code="01")``
is Mitte). Without a key it makes a new unit: a small square in EPSG:25833 with a
key of the unused district "99", so that it never collides with a real one.
"""

from __future__ import annotations

import factory
from django.contrib.gis.geos import MultiPolygon, Polygon
from factory.django import DjangoModelFactory

from lor.hierarchy import KEY_LENGTH
from lor.models import CustomAreaSet, LorUnit

# A point in Mitte, in EPSG:25833 metres; made-up units line up east of it.
ORIGIN_X, ORIGIN_Y = 390_000.0, 5_820_000.0
SIDE_M = 100.0


def square(index: int, *, side: float = SIDE_M) -> MultiPolygon:
    """A valid square of side metres, the index-th one in a row (EPSG:25833)."""
    x = ORIGIN_X + index * 2 * side
    ring = (
        (x, ORIGIN_Y),
        (x + side, ORIGIN_Y),
        (x + side, ORIGIN_Y + side),
        (x, ORIGIN_Y + side),
        (x, ORIGIN_Y),
    )
    return MultiPolygon(Polygon(ring), srid=25833)


def _made_up_code(unit) -> str:
    length = KEY_LENGTH.get(unit.level, 8)
    return ("99" + f"{unit.number:06d}")[:length]


class LorUnitFactory(DjangoModelFactory):
    """A LOR unit; an existing unit with the same scheme and key is returned as is."""

    class Meta:
        model = LorUnit
        django_get_or_create = ("scheme", "code")

    class Params:
        number = factory.Sequence(lambda n: n + 1)

    scheme = LorUnit.Scheme.LOR_2021
    level = LorUnit.Level.PLANUNGSRAUM
    code = factory.LazyAttribute(_made_up_code)
    name = factory.LazyAttribute(lambda unit: f"Testraum {unit.code}")
    geom = factory.LazyAttribute(lambda unit: square(unit.number))
    area_m2 = factory.LazyAttribute(lambda unit: unit.geom.area)


def real_unit(code: str) -> LorUnit:
    """The real LOR 2021 unit with this key (the test database has all of them)."""
    return LorUnit.objects.get(scheme=LorUnit.Scheme.LOR_2021, code=code)


class CustomAreaSetFactory(DjangoModelFactory):
    class Meta:
        model = CustomAreaSet

    name = factory.Sequence(lambda n: f"Gebietskulisse {n + 1}")
    kind = CustomAreaSet.Kind.OTHER
