"""Factories for the facility register and supply rules, and a test-only loader
of the real Kitas (the production Kita importer lives in ``infrastructure``)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import factory
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from factory.django import DjangoModelFactory

from infrastructure.models import Facility, FacilityType, SupplyRule
from lor.models import LorUnit

DEMO_KITAS = (
    Path(settings.BASE_DIR)
    / "datapool"
    / "data"
    / "demo"
    / "infra_kitas_epsg25833.geojson"
)


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


def kitas_from_geojson(*, path: Path = DEMO_KITAS) -> FacilityType:
    """The real Kitas (Geoportal, 2,880 points) as register facilities of type
    ``kita`` with their places (``e_platz``) and Planungsraum, for tests and
    bench only."""
    kita, _ = FacilityType.objects.get_or_create(
        key="kita",
        defaults={"name": "Kindertagesstätte", "capacity_unit": "Plätze"},
    )
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    facilities = []
    for feature in features:
        props = feature["properties"]
        places = (props.get("e_platz") or "").strip()
        facilities.append(
            Facility(
                facility_type=kita,
                name=(props.get("e_name") or "")[:300],
                source_key=props.get("e_nr") or "",
                geom=Point(*feature["geometry"]["coordinates"][:2], srid=25833),
                capacity=Decimal(places) if places.isdigit() else None,
                operator=(props.get("t_name") or "")[:200],
            )
        )
    Facility.objects.bulk_create(facilities, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Facility._meta.db_table} f SET unit_id = u.id
            FROM {LorUnit._meta.db_table} u
            WHERE f.facility_type_id = %s AND f.unit_id IS NULL
              AND u.scheme = %s AND u.level = %s AND ST_Intersects(u.geom, f.geom)
            """,
            [kita.id, LorUnit.Scheme.LOR_2021, LorUnit.Level.PLANUNGSRAUM],
        )
    return kita
