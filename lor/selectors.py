"""Reads of LOR units: lists per level, children, ancestors, GeoJSON output."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from . import hierarchy
from .models import BERLIN_CODE, CrosswalkPiece, LorUnit

# Web maps need no millimetres: 6 decimals of a degree are about 10 cm.
GEOJSON_PRECISION = 6


def lor_unit_list(
    *,
    level: str | None = None,
    parent_code: str | None = None,
    scheme: str = LorUnit.Scheme.LOR_2021,
) -> QuerySet[LorUnit]:
    """Units of a scheme, optionally of one level and/or below one parent."""
    qs = LorUnit.objects.filter(scheme=scheme).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if parent_code is not None:
        if parent_code == BERLIN_CODE:
            qs = qs.filter(level=LorUnit.Level.BEZIRK)
        else:
            qs = qs.filter(parent__code=parent_code)
    return qs.order_by("code")


def lor_unit_get(*, code: str, scheme: str = LorUnit.Scheme.LOR_2021) -> LorUnit:
    return LorUnit.objects.select_related("parent").get(scheme=scheme, code=code)


def lor_unit_search(
    *, q: str, limit: int = 20, scheme: str = LorUnit.Scheme.LOR_2021
) -> list[LorUnit]:
    """Units of a scheme whose name contains ``q`` or whose key starts with it.

    Coarser levels first (a Bezirk before its Planungsräume), then by key.
    """
    q = q.strip()
    if not q:
        return []
    levels = [*hierarchy.LEVELS_BELOW_BERLIN]
    matches = Q(name__icontains=q) | Q(code__startswith=q)
    qs = (
        LorUnit.objects.filter(matches, scheme=scheme, level__in=levels)
        .select_related("parent")
        .defer("geom", "parent__geom")
        .annotate(
            level_rank=Case(
                *(When(level=lvl, then=Value(i)) for i, lvl in enumerate(levels)),
                output_field=IntegerField(),
            )
        )
        .order_by("level_rank", "code")
    )
    return list(qs[:limit])


def lor_unit_children(*, unit: LorUnit) -> QuerySet[LorUnit]:
    return lor_unit_list(parent_code=unit.code, scheme=unit.scheme)


def lor_unit_ancestors(*, unit: LorUnit) -> list[LorUnit]:
    """Berlin first, then each level down to (not including) the unit."""
    ancestors: list[LorUnit] = []
    current = unit.parent
    while current is not None:
        ancestors.append(current)
        current = current.parent
    if unit.level != LorUnit.Level.BERLIN:
        berlin = LorUnit.objects.filter(scheme=unit.scheme, code=BERLIN_CODE).first()
        if berlin:
            ancestors.append(berlin)
    return list(reversed(ancestors))


def lor_unit_child_level(*, level: str) -> str | None:
    """The level of a unit's children (None below Planungsraum)."""
    return hierarchy.child_level(level)


def lor_units_geojson(*, units: QuerySet[LorUnit]) -> dict[str, Any]:
    """A FeatureCollection in EPSG:4326; PostGIS writes the geometry JSON."""
    rows = units.annotate(
        geojson=AsGeoJSON(Transform("geom", 4326), precision=GEOJSON_PRECISION)
    ).values_list("code", "name", "level", "parent__code", "area_m2", "geojson")
    features = [
        {
            "type": "Feature",
            "id": code,
            "properties": {
                "code": code,
                "name": name,
                "level": level,
                "parent_code": parent_code,
                "area_m2": round(area, 1),
            },
            "geometry": json.loads(geojson),
        }
        for code, name, level, parent_code, area, geojson in rows
    ]
    return {"type": "FeatureCollection", "features": features}


def custom_area_set_list():
    """Custom area sets with their areas and member counts."""
    from django.db.models import Count, Prefetch

    from .models import CustomAreaSet

    return CustomAreaSet.objects.select_related("owner").prefetch_related(
        Prefetch(
            "areas",
            queryset=LorUnit.objects.annotate(n_members=Count("members")).order_by(
                "code"
            ),
        )
    )


def lor_unit_geometries(*, level: str) -> dict[str, Any]:
    """Each unit's geometry (EPSG:25833) of a level or 'custom:<id>', by key."""
    qs = LorUnit.objects.all()
    if level.startswith("custom:") and level[7:].isdigit():
        qs = qs.filter(scheme=LorUnit.Scheme.CUSTOM, area_set_id=int(level[7:]))
    else:
        qs = qs.filter(scheme=LorUnit.Scheme.LOR_2021, level=level)
    return dict(qs.order_by("code").values_list("code", "geom"))


def crosswalk_pieces() -> QuerySet[CrosswalkPiece]:
    """The pieces of the crosswalk LOR 2006 → LOR 2021, by old then new key."""
    return CrosswalkPiece.objects.select_related("old_unit", "new_unit").order_by(
        "old_unit__code", "new_unit__code"
    )


def crosswalk_convert(
    *, values: Mapping[str, float], weight: str = "population"
) -> dict[str, float]:
    """Counts per LOR 2006 Planungsraum spread onto LOR 2021 Planungsräume.

    ``weight`` is ``population`` (calibrated) or ``area`` (plain areal overlay).
    Old keys without a value contribute nothing; only counts may be converted
    this way (shares are recomputed from converted counts, docs/crosswalk.md).
    """
    if weight not in ("population", "area"):
        raise ValueError(f"unknown crosswalk weight {weight!r}")
    converted: dict[str, float] = {}
    for old, new, w in CrosswalkPiece.objects.values_list(
        "old_unit__code", "new_unit__code", f"weight_{weight}"
    ):
        if old in values:
            converted[new] = converted.get(new, 0.0) + values[old] * w
    return converted


@cache
def lor_key_renames() -> dict[str, str]:
    """Keys a source documents as renamed: wrong key → LOR 2021 key of the same area.

    From ``lor/data/lor2021_umbenennungen.csv`` (key, right key, name, reason);
    only a rename the sources document is listed, never a key that merely looks
    similar (a neighbouring key names another area).
    """
    path = Path(settings.PRISMA_LOR_DATA_DIR) / "lor2021_umbenennungen.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["schluessel"]: row["richtig"] for row in csv.DictReader(fh)}


@dataclass
class CrosswalkTarget:
    """How one LOR 2021 Planungsraum is made of LOR 2006 Planungsräume."""

    relation: str  # CrosswalkPiece.Relation
    # (old key, population weight of the old unit's value, calibrated persons
    # 31.12.2020 in the piece, share of the old unit's area in the piece)
    pieces: list[tuple[str, float, float, float]] = field(default_factory=list)

    @property
    def whole_old_units(self) -> list[str]:
        """The old units lying (almost) wholly inside this new one."""
        return [
            old for old, _w, _p, share in self.pieces if share >= CROSSWALK_WHOLE_SHARE
        ]


# An old unit counts as lying wholly inside a new one from this share of its
# area on (lor.services.crosswalk.SAME_AREA_SHARE decides the relations alike).
CROSSWALK_WHOLE_SHARE = 0.98


def crosswalk_targets() -> dict[str, CrosswalkTarget]:
    """Per LOR 2021 Planungsraum key: its relation and its pieces of old units."""
    targets: dict[str, CrosswalkTarget] = {}
    for old, new, weight, persons, share, relation in (
        CrosswalkPiece.objects.order_by("new_unit__code", "old_unit__code")
        .values_list(
            "old_unit__code",
            "new_unit__code",
            "weight_population",
            "population",
            "weight_area",
            "relation",
        )
        .iterator()
    ):
        target = targets.setdefault(new, CrosswalkTarget(relation=relation))
        target.pieces.append((old, weight, persons, share))
    return targets
