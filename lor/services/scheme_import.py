"""The steps every LOR scheme import shares, parametrised by the scheme.

Both imports (``lor_import`` for LOR 2021, ``lor2006_import`` for LOR 2006)
read Planungsraum polygons, dissolve the higher levels from them by key prefix
in PostGIS, write the units level by level and check the written scheme. What
differs between them (the source files, where names come from, extra checks)
stays in their own modules; the key lengths and Berlin's key come from the
scheme in ``lor.hierarchy``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple, cast

import geopandas as gpd
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection
from shapely import wkb as shapely_wkb
from shapely.geometry import MultiPolygon as ShapelyMultiPolygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from .. import hierarchy
from ..hierarchy import BERLIN, BEZIRK, BEZIRKSREGION, PROGNOSERAUM, LorScheme
from ..models import LorUnit

# Berlin's extent in EPSG:25833 with a margin: coordinates outside it mean the
# file is in another CRS than declared (or assumed).
BERLIN_ENVELOPE_25833 = (360_000.0, 5_790_000.0, 420_000.0, 5_845_000.0)
BERLIN_AREA_KM2 = 891.1
BERLIN_AREA_TOLERANCE = 0.005
# Slivers below this area (m²) between or inside units are digitising noise.
SLIVER_TOLERANCE_M2 = 100.0


class LorImportError(Exception):
    """The source files are not a valid LOR scheme; nothing was changed."""


@dataclass
class SchemeImportReport:
    created: int = 0
    updated: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    total_area_km2: float = 0.0
    checks: list[str] = field(default_factory=list)

    def summary(self, *, label: str) -> list[str]:
        """What the import commands print: counts, then each passed check."""
        counts = ", ".join(f"{level}: {n}" for level, n in self.counts.items())
        return [
            f"{label} geladen ({counts}); neu {self.created}, "
            f"aktualisiert {self.updated}.",
            *(f"  ✓ {line}" for line in self.checks),
        ]


class UnitRow(NamedTuple):
    """One unit to write; ``valid_from`` None means the scheme's start."""

    name: str
    geom: GEOSGeometry
    official_area_m2: float | None = None
    valid_from: date | None = None


def to_25833(path: Path, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in EPSG:25833; LorImportError if it does not lie in Berlin."""
    minx, miny, maxx, maxy = frame.total_bounds
    looks_geographic = minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90
    if frame.crs is None or (frame.crs.to_epsg() == 4326 and not looks_geographic):
        # GeoJSON without a crs member is read as WGS 84; the Geoportal's LOR
        # layers are exported that way with UTM coordinates.
        frame = frame.set_crs(4326 if looks_geographic else 25833, allow_override=True)
    frame = frame.to_crs(25833)
    x0, y0, x1, y1 = BERLIN_ENVELOPE_25833
    minx, miny, maxx, maxy = frame.total_bounds
    if not (x0 <= minx and maxx <= x1 and y0 <= miny and maxy <= y1):
        raise LorImportError(
            f"{path.name}: Die Koordinaten liegen nicht in Berlin "
            f"(Ausdehnung {minx:.0f}, {miny:.0f} – {maxx:.0f}, {maxy:.0f} "
            "in EPSG:25833); "
            "ist das Koordinatensystem richtig angegeben?"
        )
    return frame


def checked_multipolygon(
    geom: BaseGeometry | None, *, where: str
) -> ShapelyMultiPolygon:
    """A source feature's geometry as a valid MultiPolygon; ``where`` names it."""
    if geom is None or geom.is_empty:
        raise LorImportError(f"{where}: Geometrie fehlt.")
    if geom.geom_type == "Polygon":
        geom = ShapelyMultiPolygon([geom])
    if geom.geom_type != "MultiPolygon":
        raise LorImportError(f"{where}: {geom.geom_type} statt Polygon.")
    if not geom.is_valid:
        raise LorImportError(
            f"{where}: ungültige Geometrie ({explain_validity(geom)})."
        )
    return cast(ShapelyMultiPolygon, geom)


def dissolve_in_postgis(
    plr_geoms: Mapping[str, ShapelyMultiPolygon], *, scheme: LorScheme
) -> dict[str, GEOSGeometry]:
    """Union of the Planungsräume per key prefix, and of all of them for Berlin."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE lor_import_plr (code text PRIMARY KEY, "
            "geom geometry(MultiPolygon, 25833)) ON COMMIT DROP"
        )
        cursor.executemany(
            "INSERT INTO lor_import_plr VALUES (%s, ST_GeomFromWKB(%s, 25833))",
            [(code, shapely_wkb.dumps(geom)) for code, geom in plr_geoms.items()],
        )
        cursor.execute(
            """
            SELECT left(code, n), ST_AsEWKB(ST_Multi(ST_Union(geom)))
            FROM lor_import_plr, unnest(%s::int[]) AS lengths(n)
            GROUP BY n, left(code, n)
            UNION ALL
            SELECT %s, ST_AsEWKB(ST_Multi(ST_Union(geom))) FROM lor_import_plr
            """,
            # Bezirk, Prognoseraum and Bezirksregion: the key prefixes of a PLR.
            [
                [
                    hierarchy.key_length(level, scheme=scheme)
                    for level in (BEZIRK, PROGNOSERAUM, BEZIRKSREGION)
                ],
                scheme.berlin_key,
            ],
        )
        derived = {
            code: GEOSGeometry(memoryview(ewkb)) for code, ewkb in cursor.fetchall()
        }
        cursor.execute("DROP TABLE lor_import_plr")
    for code, geom in derived.items():
        if geom.geom_type != "MultiPolygon":
            derived[code] = MultiPolygon(geom, srid=25833)
    return derived


def write_units(
    *,
    scheme: LorScheme,
    levels: Sequence[tuple[str, Mapping[str, UnitRow]]],
    scheme_start: date,
    report: SchemeImportReport,
) -> None:
    """Create or update the scheme's units, coarse levels first (they are parents).

    Berlin and the Bezirke have no parent; every other unit's parent is the
    unit its key's prefix names.
    """
    existing = {u.code: u for u in LorUnit.objects.filter(scheme=scheme.name)}
    by_code: dict[str, LorUnit] = {}
    fields = [
        "level",
        "name",
        "parent",
        "geom",
        "area_m2",
        "official_area_m2",
        "valid_from",
    ]
    for level, units in levels:
        to_create: list[LorUnit] = []
        to_update: list[LorUnit] = []
        for code, row in sorted(units.items()):
            parent = (
                None
                if level in (BERLIN, BEZIRK)
                else by_code.get(hierarchy.parent_key(code, scheme=scheme) or "")
            )
            unit = existing.get(code) or LorUnit(scheme=scheme.name, code=code)
            unit.level = level
            unit.name = row.name
            unit.parent = parent
            # GEOSGeometry is of the WKB's type; both sources are MultiPolygons.
            unit.geom = cast(MultiPolygon, row.geom)
            unit.area_m2 = row.geom.area
            unit.official_area_m2 = row.official_area_m2
            unit.valid_from = row.valid_from or scheme_start
            (to_update if unit.pk else to_create).append(unit)
            by_code[code] = unit
        LorUnit.objects.bulk_create(to_create)
        LorUnit.objects.bulk_update(to_update, fields)
        report.created += len(to_create)
        report.updated += len(to_update)
        report.counts[level] = len(units)


def check_overlaps(*, scheme: LorScheme, with_names: bool = False) -> None:
    """No two Planungsräume overlap beyond a sliver; the example names both."""
    table = LorUnit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.code, a.name, b.code, b.name,
                       ST_Area(ST_Intersection(a.geom, b.geom))
                FROM {table} a JOIN {table} b
                  ON a.scheme = b.scheme AND a.level = b.level AND a.id < b.id
                 AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
                WHERE a.scheme = %s AND a.level = %s
                  AND ST_Area(ST_Intersection(a.geom, b.geom)) > %s""",
            [scheme.name, hierarchy.PLANUNGSRAUM, SLIVER_TOLERANCE_M2],
        )
        overlaps = cursor.fetchall()
    if overlaps:
        a, a_name, b, b_name, area = overlaps[0]
        if with_names:
            a, b = f"{a} „{a_name}“", f"{b} „{b_name}“"
        raise LorImportError(
            f"{len(overlaps)} Überlappung(en) zwischen Planungsräumen, z. B. "
            f"{a} und {b} mit {area:.0f} m²."
        )


def check_gaps_and_area(
    *, scheme: LorScheme, report: SchemeImportReport, berlin_label: str = "Berlins"
) -> None:
    """No gaps inside Berlin, and Berlin's area as published; both reported."""
    table = LorUnit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT coalesce(sum(ST_Area(ST_MakePolygon(ST_ExteriorRing(d.geom)))
                                    - ST_Area(d.geom)), 0), ST_Area(u.geom)
                FROM {table} u, ST_Dump(u.geom) d
                WHERE u.scheme = %s AND u.code = %s GROUP BY u.geom""",
            [scheme.name, scheme.berlin_key],
        )
        gaps_m2, berlin_m2 = cursor.fetchone()
    if gaps_m2 > SLIVER_TOLERANCE_M2:
        raise LorImportError(
            f"Lücken zwischen den Planungsräumen: {gaps_m2:.0f} m² innerhalb Berlins "
            "gehören zu keinem Planungsraum."
        )
    report.checks.append(f"Lücken zwischen Planungsräumen: {gaps_m2:.0f} m²")

    report.total_area_km2 = berlin_m2 / 1e6
    deviation = abs(report.total_area_km2 - BERLIN_AREA_KM2) / BERLIN_AREA_KM2
    if deviation > BERLIN_AREA_TOLERANCE:
        raise LorImportError(
            f"Fläche {berlin_label} {report.total_area_km2:.1f} km² weicht um "
            f"{deviation:.1%} von {BERLIN_AREA_KM2} km² ab."
        )
    report.checks.append(
        f"Fläche Berlin: {report.total_area_km2:.2f} km² "
        f"(amtlich {BERLIN_AREA_KM2} km², Abweichung {deviation:.2%})"
    )
