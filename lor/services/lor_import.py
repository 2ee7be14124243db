"""Writes to the LOR tables: the import of a LOR scheme from its official files."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyogrio
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from shapely import wkb as shapely_wkb
from shapely.geometry import MultiPolygon as ShapelyMultiPolygon

from .. import hierarchy
from ..hierarchy import (
    BERLIN,
    BEZIRK,
    BEZIRKSREGION,
    KEY_LENGTH,
    LOR_2021,
    PLANUNGSRAUM,
    PROGNOSERAUM,
)
from ..models import BERLIN_CODE, LorUnit
from .scheme_import import (
    SLIVER_TOLERANCE_M2,
    LorImportError,
    SchemeImportReport,
    UnitRow,
    check_gaps_and_area,
    check_overlaps,
    checked_multipolygon,
    dissolve_in_postgis,
    to_25833,
    write_units,
)

# Derived parents are compared with the official polygons; the shipped PLR
# layer is lightly simplified, so they agree only within a few per mille.
OFFICIAL_SYMDIFF_TOLERANCE = 0.003

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


class LorImportReport(SchemeImportReport):
    """What the LOR 2021 import wrote and checked."""


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
        derived = dissolve_in_postgis(plr_geoms, scheme=LOR_2021)
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
    frame = to_25833(path, frame)
    polygons: dict[str, ShapelyMultiPolygon] = {}
    for index, (key, geom) in enumerate(
        zip(frame[id_field], frame.geometry, strict=True)
    ):
        where = f"{path.name}, Objekt {index + 1} ({id_field} {key})"
        geom = checked_multipolygon(geom, where=where)
        key = str(key).strip()
        if key in polygons:
            raise LorImportError(f"{where}: Schlüssel doppelt.")
        polygons[key] = geom
    return polygons


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


def _write_units(
    *,
    keys: dict[str, KeyRow],
    plr_geoms: dict[str, ShapelyMultiPolygon],
    derived: dict[str, GEOSGeometry],
    report: LorImportReport,
) -> None:
    _check_unique_names(keys)
    names_by_level = {
        BEZIRK: {
            hierarchy.key_prefix(row.plr, BEZIRK): row.bez_name for row in keys.values()
        },
        PROGNOSERAUM: {row.pgr: row.pgr_name for row in keys.values()},
        BEZIRKSREGION: {row.bzr: row.bzr_name for row in keys.values()},
    }
    write_units(
        scheme=LOR_2021,
        levels=[
            (BERLIN, {BERLIN_CODE: UnitRow("Berlin", derived[BERLIN_CODE])}),
            *(
                (
                    level,
                    {
                        code: UnitRow(name, derived[code])
                        for code, name in names.items()
                    },
                )
                for level, names in names_by_level.items()
            ),
            (
                PLANUNGSRAUM,
                {
                    row.plr: UnitRow(
                        row.plr_name,
                        GEOSGeometry(memoryview(plr_geoms[row.plr].wkb), srid=25833),
                        row.official_area_m2,
                        row.valid_from,
                    )
                    for row in keys.values()
                },
            ),
        ],
        scheme_start=date(2021, 1, 1),
        report=report,
    )


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
    check_overlaps(scheme=LOR_2021)
    check_gaps_and_area(scheme=LOR_2021, report=report)

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
