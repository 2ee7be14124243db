"""Writes to the LOR tables: the import of a LOR scheme from its official files."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import cast

import geopandas as gpd
import pyogrio
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction
from shapely import wkb as shapely_wkb
from shapely.geometry import MultiPolygon as ShapelyMultiPolygon
from shapely.validation import explain_validity

from .. import hierarchy
from ..hierarchy import BEZIRK, BEZIRKSREGION, KEY_LENGTH, PLANUNGSRAUM, PROGNOSERAUM
from ..models import BERLIN_CODE, LorUnit

# Berlin's extent in EPSG:25833 with a margin: coordinates outside it mean the
# file is in another CRS than declared (or assumed).
BERLIN_ENVELOPE_25833 = (360_000.0, 5_790_000.0, 420_000.0, 5_845_000.0)
BERLIN_AREA_KM2 = 891.1
BERLIN_AREA_TOLERANCE = 0.005
# Derived parents are compared with the official polygons; the shipped PLR
# layer is lightly simplified, so they agree only within a few per mille.
OFFICIAL_SYMDIFF_TOLERANCE = 0.003
# Slivers below this area (m²) between or inside units are digitising noise.
SLIVER_TOLERANCE_M2 = 100.0

KEY_TABLE_COLUMNS = {
    "plr": "Planungsraum (Nummer)",
    "plr_name": "Planungsraum (Name)",
    "bzr": "Bezirksregion (Nummer)",
    "bzr_name": "Bezirksregion (Name)",
    "pgr": "Prognoseraum (Nummer)",
    "pgr_name": "Prognoseraum (Name)",
    "bez_name": "Bezirk",
    "area": "Fläche in qm",
    "stand": "Stand der Daten",
}


class LorImportError(Exception):
    """The source files are not a valid LOR scheme; nothing was changed."""


@dataclass(frozen=True)
class LorSource:
    """The four official files that make up the LOR 2021 scheme."""

    keys: Path
    planungsraeume: Path
    prognoseraeume: Path
    bezirke: Path

    @classmethod
    def from_directory(cls, directory: Path) -> LorSource:
        return cls(
            keys=directory / "lor2021_schluessel_plr_bzr_pgr_bez.csv",
            planungsraeume=directory / "lor2021_planungsraeume_epsg25833.geojson",
            prognoseraeume=directory / "lor2021_prognoseraeume_epsg25833.geojson",
            bezirke=directory / "lor_bezirke_wgs84.geojson",
        )


@dataclass
class KeyRow:
    plr: str
    plr_name: str
    bzr: str
    bzr_name: str
    pgr: str
    pgr_name: str
    bez_name: str
    official_area_m2: float | None
    valid_from: date | None


@dataclass
class LorImportReport:
    created: int = 0
    updated: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    total_area_km2: float = 0.0
    checks: list[str] = field(default_factory=list)


def lor_import(*, source: LorSource) -> LorImportReport:
    """Load or refresh the LOR 2021 scheme; all or nothing, validated in PostGIS."""
    for path in (
        source.keys,
        source.planungsraeume,
        source.prognoseraeume,
        source.bezirke,
    ):
        if not path.is_file():
            raise LorImportError(f"Datei nicht gefunden: {path}")
    keys = _read_key_table(source.keys)
    plr_geoms = _read_polygons(source.planungsraeume, id_field="PLR_ID")
    _check_plr_against_keys(source.planungsraeume, plr_geoms, keys)
    official_pgr = _read_polygons(source.prognoseraeume, id_field="PGR_ID")
    official_bez = _read_polygons(source.bezirke, id_field="id")

    report = LorImportReport()
    with transaction.atomic():
        derived = _dissolve_in_postgis(plr_geoms)
        _write_units(keys=keys, plr_geoms=plr_geoms, derived=derived, report=report)
        _validate(
            report=report,
            official_pgr=official_pgr,
            official_bez=official_bez,
            source=source,
        )
    return report


def _read_key_table(path: Path) -> dict[str, KeyRow]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [
                c
                for c in KEY_TABLE_COLUMNS.values()
                if c not in (reader.fieldnames or [])
            ]
            if missing:
                raise LorImportError(
                    f"{path.name}, Zeile 1: Spalte(n) fehlen: {', '.join(missing)}"
                )
            rows: dict[str, KeyRow] = {}
            for line_no, raw in enumerate(reader, start=2):
                row = _parse_key_row(path, line_no, raw)
                if row.plr in rows:
                    raise LorImportError(
                        f"{path.name}, Zeile {line_no}, Spalte "
                        f"„{KEY_TABLE_COLUMNS['plr']}“: Schlüssel {row.plr} doppelt"
                    )
                rows[row.plr] = row
    except UnicodeDecodeError as exc:
        raise LorImportError(
            f"{path.name}: Die Datei ist nicht UTF-8-kodiert ({exc.reason} "
            f"bei Byte {exc.start})."
        ) from exc
    if not rows:
        raise LorImportError(f"{path.name}: Die Schlüsseltabelle enthält keine Zeilen.")
    return rows


def _parse_key_row(path: Path, line_no: int, raw: dict[str, str]) -> KeyRow:
    def cell(key: str) -> str:
        return (raw.get(KEY_TABLE_COLUMNS[key]) or "").strip()

    def fail(key: str, message: str) -> LorImportError:
        return LorImportError(
            f"{path.name}, Zeile {line_no}, "
            f"Spalte „{KEY_TABLE_COLUMNS[key]}“: {message}"
        )

    plr, bzr, pgr = cell("plr"), cell("bzr"), cell("pgr")
    for key, value, level in (
        ("plr", plr, PLANUNGSRAUM),
        ("bzr", bzr, BEZIRKSREGION),
        ("pgr", pgr, PROGNOSERAUM),
    ):
        length = KEY_LENGTH[level]
        if not re.fullmatch(rf"\d{{{length}}}", value):
            raise fail(key, f"„{value}“ ist kein {length}-stelliger Schlüssel")
    if bzr != hierarchy.key_prefix(plr, BEZIRKSREGION):
        raise fail("bzr", f"{bzr} ist nicht der Anfang von {plr}")
    if pgr != hierarchy.key_prefix(plr, PROGNOSERAUM):
        raise fail("pgr", f"{pgr} ist nicht der Anfang von {plr}")
    for key in ("plr_name", "bzr_name", "pgr_name", "bez_name"):
        if not cell(key):
            raise fail(key, "Name fehlt")
    area: float | None = None
    if cell("area"):
        try:
            area = float(cell("area"))
        except ValueError as exc:
            raise fail("area", f"„{cell('area')}“ ist keine Zahl") from exc
    valid_from: date | None = None
    if match := re.fullmatch(r"(\d\d)\.(\d\d)\.(\d{4})", cell("stand")):
        day, month, year = (int(g) for g in match.groups())
        valid_from = date(year, month, day)
    return KeyRow(
        plr=plr,
        plr_name=cell("plr_name"),
        bzr=bzr,
        bzr_name=cell("bzr_name"),
        pgr=pgr,
        pgr_name=cell("pgr_name"),
        bez_name=cell("bez_name"),
        official_area_m2=area,
        valid_from=valid_from,
    )


def _read_polygons(path: Path, *, id_field: str) -> dict[str, ShapelyMultiPolygon]:
    """Polygons keyed by id_field, in EPSG:25833, each checked for validity."""
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise LorImportError(
            f"{path.name}: Die Geometriedatei ist nicht lesbar ({exc})."
        ) from exc
    if id_field not in frame.columns:
        raise LorImportError(f"{path.name}: Attribut „{id_field}“ fehlt.")
    if frame.empty:
        raise LorImportError(f"{path.name}: Die Datei enthält keine Objekte.")
    frame = _to_25833(path, frame)
    polygons: dict[str, ShapelyMultiPolygon] = {}
    for index, (key, geom) in enumerate(
        zip(frame[id_field], frame.geometry, strict=True)
    ):
        where = f"{path.name}, Objekt {index + 1} ({id_field} {key})"
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
        key = str(key).strip()
        if key in polygons:
            raise LorImportError(f"{where}: Schlüssel doppelt.")
        polygons[key] = geom
    return polygons


def _to_25833(path: Path, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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


def _check_plr_against_keys(
    path: Path, plr_geoms: dict[str, ShapelyMultiPolygon], keys: dict[str, KeyRow]
) -> None:
    unknown = sorted(set(plr_geoms) - set(keys))
    if unknown:
        raise LorImportError(
            f"{path.name}: Planungsraum-Schlüssel nicht in der Schlüsseltabelle: "
            f"{', '.join(unknown[:10])}"
        )
    without_geometry = sorted(set(keys) - set(plr_geoms))
    if without_geometry:
        raise LorImportError(
            f"{path.name}: Keine Geometrie für Planungsraum(e) "
            f"{', '.join(without_geometry[:10])}"
        )


def _dissolve_in_postgis(
    plr_geoms: dict[str, ShapelyMultiPolygon],
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
                [KEY_LENGTH[level] for level in (BEZIRK, PROGNOSERAUM, BEZIRKSREGION)],
                BERLIN_CODE,
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


def _write_units(
    *,
    keys: dict[str, KeyRow],
    plr_geoms: dict[str, ShapelyMultiPolygon],
    derived: dict[str, GEOSGeometry],
    report: LorImportReport,
) -> None:
    scheme = LorUnit.Scheme.LOR_2021
    existing = {u.code: u for u in LorUnit.objects.filter(scheme=scheme)}
    scheme_start = date(2021, 1, 1)

    berlin = {BERLIN_CODE: ("Berlin", None, None)}
    bezirke = {
        hierarchy.key_prefix(row.plr, BEZIRK): (row.bez_name, None, None)
        for row in keys.values()
    }
    prognoseraeume = {row.pgr: (row.pgr_name, None, None) for row in keys.values()}
    regionen = {row.bzr: (row.bzr_name, None, None) for row in keys.values()}
    planungsraeume = {
        row.plr: (row.plr_name, row.official_area_m2, row.valid_from)
        for row in keys.values()
    }
    _check_unique_names(keys)

    # (name, official area, valid from) per key, and how a key finds its parent.
    levels: list[
        tuple[
            LorUnit.Level,
            Mapping[str, tuple[str, float | None, date | None]],
            Callable[[str], str | None],
        ]
    ] = [
        (LorUnit.Level.BERLIN, berlin, lambda code: None),
        (LorUnit.Level.BEZIRK, bezirke, lambda code: None),
        (LorUnit.Level.PROGNOSERAUM, prognoseraeume, hierarchy.parent_key),
        (LorUnit.Level.BEZIRKSREGION, regionen, hierarchy.parent_key),
        (LorUnit.Level.PLANUNGSRAUM, planungsraeume, hierarchy.parent_key),
    ]
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
    for level, units, parent_code in levels:
        to_create: list[LorUnit] = []
        to_update: list[LorUnit] = []
        for code, (name, official_area, valid_from) in sorted(units.items()):
            if level == LorUnit.Level.PLANUNGSRAUM:
                geom = GEOSGeometry(memoryview(plr_geoms[code].wkb), srid=25833)
            else:
                geom = derived[code]
            parent = by_code.get(parent_code(code) or "")
            unit = existing.get(code) or LorUnit(scheme=scheme, code=code)
            unit.level = level
            unit.name = name
            unit.parent = parent
            # GEOSGeometry is of the WKB's type; both sources are MultiPolygons.
            unit.geom = cast(MultiPolygon, geom)
            unit.area_m2 = geom.area
            unit.official_area_m2 = official_area
            unit.valid_from = valid_from or scheme_start
            (to_update if unit.pk else to_create).append(unit)
            by_code[code] = unit
        LorUnit.objects.bulk_create(to_create)
        LorUnit.objects.bulk_update(to_update, fields)
        report.created += len(to_create)
        report.updated += len(to_update)
        report.counts[level.value] = len(units)


def _check_unique_names(keys: dict[str, KeyRow]) -> None:
    """A code must carry one name; names may repeat across codes (e.g. Schloßstraße)."""
    seen: dict[str, str] = {}
    for row in keys.values():
        for code, name in (
            (row.bzr, row.bzr_name),
            (row.pgr, row.pgr_name),
            (hierarchy.key_prefix(row.plr, BEZIRK), row.bez_name),
        ):
            if seen.setdefault(code, name) != name:
                raise LorImportError(
                    f"Schlüsseltabelle: {code} trägt zwei Namen "
                    f"(„{seen[code]}“ und „{name}“)."
                )


def _validate(
    *,
    report: LorImportReport,
    official_pgr: dict[str, ShapelyMultiPolygon],
    official_bez: dict[str, ShapelyMultiPolygon],
    source: LorSource,
) -> None:
    """Check the written scheme in PostGIS; raising rolls the import back."""
    scheme = LorUnit.Scheme.LOR_2021
    table = LorUnit._meta.db_table
    with connection.cursor() as cursor:
        # Keys nest: every key starts with its parent's key.
        cursor.execute(
            f"""SELECT c.code FROM {table} c JOIN {table} p ON c.parent_id = p.id
                WHERE c.scheme = %s AND left(c.code, length(p.code)) <> p.code""",
            [scheme],
        )
        if bad := [r[0] for r in cursor.fetchall()]:
            raise LorImportError(
                f"Schlüssel passen nicht zum übergeordneten Raum: {bad[:10]}"
            )

        # Each child lies inside its parent.
        cursor.execute(
            f"""SELECT c.code, ST_Area(ST_Difference(c.geom, p.geom))
                FROM {table} c JOIN {table} p ON c.parent_id = p.id
                WHERE c.scheme = %s AND NOT ST_Covers(p.geom, c.geom)
                  AND ST_Area(ST_Difference(c.geom, p.geom)) > %s""",
            [scheme, SLIVER_TOLERANCE_M2],
        )
        if outside := cursor.fetchall():
            code, area = outside[0]
            raise LorImportError(
                f"{len(outside)} Raum/Räume ragen über ihren übergeordneten Raum "
                "hinaus, "
                f"z. B. {code} um {area:.0f} m²."
            )

        # Siblings of the same level neither overlap nor (within Berlin) leave gaps.
        cursor.execute(
            f"""SELECT a.code, b.code, ST_Area(ST_Intersection(a.geom, b.geom))
                FROM {table} a JOIN {table} b
                  ON a.scheme = b.scheme AND a.level = b.level AND a.id < b.id
                 AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
                WHERE a.scheme = %s AND a.level = %s
                  AND ST_Area(ST_Intersection(a.geom, b.geom)) > %s""",
            [scheme, LorUnit.Level.PLANUNGSRAUM, SLIVER_TOLERANCE_M2],
        )
        if overlaps := cursor.fetchall():
            a, b, area = overlaps[0]
            raise LorImportError(
                f"{len(overlaps)} Überlappung(en) zwischen Planungsräumen, "
                f"z. B. {a} und {b} mit {area:.0f} m²."
            )
        cursor.execute(
            f"""SELECT coalesce(sum(ST_Area(ST_MakePolygon(ST_ExteriorRing(d.geom)))
                                    - ST_Area(d.geom)), 0), ST_Area(u.geom)
                FROM {table} u, ST_Dump(u.geom) d
                WHERE u.scheme = %s AND u.code = %s GROUP BY u.geom""",
            [scheme, BERLIN_CODE],
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
            f"Fläche Berlins {report.total_area_km2:.1f} km² weicht um {deviation:.1%} "
            f"von {BERLIN_AREA_KM2} km² ab."
        )
    report.checks.append(
        f"Fläche Berlin: {report.total_area_km2:.2f} km² "
        f"(amtlich {BERLIN_AREA_KM2} km², Abweichung {deviation:.2%})"
    )

    for level, official, path in (
        (LorUnit.Level.PROGNOSERAUM, official_pgr, source.prognoseraeume),
        (LorUnit.Level.BEZIRK, official_bez, source.bezirke),
    ):
        worst = _compare_with_official(level=level, official=official, path=path)
        report.checks.append(
            f"{level.label}: größte Abweichung von den amtlichen Flächen {worst:.2%}"
        )


def _compare_with_official(
    *, level: str, official: dict[str, ShapelyMultiPolygon], path: Path
) -> float:
    derived = {
        u.code: u.geom
        for u in LorUnit.objects.filter(scheme=LorUnit.Scheme.LOR_2021, level=level)
    }
    if set(derived) != set(official):
        diff = sorted(set(derived) ^ set(official))
        raise LorImportError(
            f"{path.name}: Schlüssel stimmen nicht mit der Schlüsseltabelle überein: "
            f"{', '.join(diff[:10])}"
        )
    worst = 0.0
    for code, geom in official.items():
        mine = shapely_wkb.loads(bytes(derived[code].wkb))
        share = mine.symmetric_difference(geom).area / geom.area
        if share > OFFICIAL_SYMDIFF_TOLERANCE:
            raise LorImportError(
                f"{path.name}: {code} weicht um {share:.2%} der Fläche von den "
                f"zusammengefassten Planungsräumen ab (erlaubt "
                f"{OFFICIAL_SYMDIFF_TOLERANCE:.1%})."
            )
        worst = max(worst, share)
    return worst
