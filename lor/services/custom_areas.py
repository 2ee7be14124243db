"""Planners' own areas: sets of Planungsräume, by key or matched from a polygon."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction

from ..hierarchy import KEY_LENGTH
from ..models import CustomAreaMember, CustomAreaSet, LorUnit

# A Planungsraum belongs to an uploaded polygon when at least this share of its
# area lies inside: data exist per Planungsraum, so areas are unions of them.
MIN_SHARE = 0.5


class CustomAreaError(ValueError):
    """The definition cannot be used; the message says why, in German."""


@dataclass
class AreaSpec:
    name: str
    keys: list[str] = field(default_factory=list)
    polygon: GEOSGeometry | None = None


def _planungsraeume_for_keys(name: str, keys: list[str]) -> dict[int, float]:
    members: dict[int, float] = {}
    plr = LorUnit.objects.filter(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
    )
    for key in keys:
        key = key.strip()
        if not key:
            continue
        if not key.isdigit() or len(key) not in KEY_LENGTH.values():
            raise CustomAreaError(
                f"Gebiet „{name}“: „{key}“ ist kein LOR-Schlüssel "
                "(2, 4, 6 oder 8 Ziffern)."
            )
        found = list(plr.filter(code__startswith=key).values_list("id", flat=True))
        if not found:
            raise CustomAreaError(
                f"Gebiet „{name}“: Schlüssel {key} gibt es im LOR 2021 nicht."
            )
        members.update(dict.fromkeys(found, 1.0))
    return members


def _planungsraeume_for_polygon(name: str, polygon: GEOSGeometry) -> dict[int, float]:
    if polygon.srid != 25833:
        polygon = polygon.transform(25833, clone=True)
    if not polygon.valid:
        raise CustomAreaError(f"Gebiet „{name}“: Die Fläche ist geometrisch ungültig.")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT id,
                   ST_Area(ST_Intersection(geom, ST_GeomFromEWKB(%s))) / ST_Area(geom)
            FROM {LorUnit._meta.db_table}
            WHERE scheme = %s AND level = 'planungsraum'
              AND ST_Intersects(geom, ST_GeomFromEWKB(%s))
            """,
            [bytes(polygon.ewkb), LorUnit.Scheme.LOR_2021, bytes(polygon.ewkb)],
        )
        shares = {pk: share for pk, share in cursor.fetchall() if share >= MIN_SHARE}
    if not shares:
        raise CustomAreaError(
            f"Gebiet „{name}“: Die Fläche deckt keinen Planungsraum zu mindestens "
            f"{MIN_SHARE:.0%} ab."
        )
    return shares


@transaction.atomic
def custom_area_set_create(
    *, name: str, kind: str, areas: list[AreaSpec], owner=None, description: str = ""
) -> CustomAreaSet:
    """Create a set of areas; each becomes a unit whose geometry is its PLRs' union."""
    if not name.strip():
        raise CustomAreaError("Bitte geben Sie der Gebietskulisse einen Namen.")
    if not areas:
        raise CustomAreaError("Die Gebietskulisse enthält kein Gebiet.")
    area_set = CustomAreaSet(
        name=name.strip(), kind=kind, description=description, owner=owner
    )
    area_set.full_clean()
    area_set.save()
    for n, spec in enumerate(areas, start=1):
        members = (
            _planungsraeume_for_polygon(spec.name, spec.polygon)
            if spec.polygon is not None
            else _planungsraeume_for_keys(spec.name, spec.keys)
        )
        if not members:
            raise CustomAreaError(f"Gebiet „{spec.name}“ enthält keinen Planungsraum.")
        geom = _union(list(members))
        unit = LorUnit.objects.create(
            scheme=LorUnit.Scheme.CUSTOM,
            level=LorUnit.Level.CUSTOM,
            code=f"K{area_set.pk:04d}{n:03d}"[-8:],
            name=spec.name.strip() or f"Gebiet {n}",
            geom=geom,
            area_m2=geom.area,
            area_set=area_set,
        )
        CustomAreaMember.objects.bulk_create(
            CustomAreaMember(area=unit, planungsraum_id=pk, share=share)
            for pk, share in members.items()
        )
    return area_set


def _union(unit_ids: list[int]) -> MultiPolygon:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ST_AsEWKB(ST_Multi(ST_Union(geom))) FROM {LorUnit._meta.db_table} "
            "WHERE id = ANY(%s)",
            [unit_ids],
        )
        # ST_Multi makes it a MultiPolygon, and GEOSGeometry is of the WKB's type.
        return cast(MultiPolygon, GEOSGeometry(memoryview(cursor.fetchone()[0])))


@transaction.atomic
def custom_area_set_delete(*, area_set: CustomAreaSet) -> None:
    """Remove a set with its areas; values computed for them must be gone first."""
    CustomAreaMember.objects.filter(area__area_set=area_set).delete()
    LorUnit.objects.filter(area_set=area_set).delete()
    area_set.delete()
