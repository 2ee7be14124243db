"""Writes the old LOR scheme (2006, in force until 31.12.2020) beside LOR 2021.

The source is one file of Planungsraum polygons (Geoportal, 2019 edition); the
Bezirksregionen, Prognoseräume, Bezirke and Berlin are dissolved from it in
PostGIS by key prefix, like the 2021 import does. Names of the higher levels
come from small shipped tables (Bezirksregionen: GSSA 2022; Bezirke: the
Bezirk layer, unchanged by the reform); the old Prognoseräume have no
published names here and are called "Prognoseraum <key>".

The real file carries a key twice (see ``lor/data/lor2006/korrekturen.csv``).
The import never repairs that on its own: a duplicate key stops it with each
polygon's name, key and location, and only an explicit correction (a key plus
a point inside the polygon, and the right key) changes a key.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyogrio
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from shapely.geometry import MultiPolygon as ShapelyMultiPolygon
from shapely.geometry import Point

from .. import hierarchy
from ..hierarchy import LOR_2006
from .scheme_import import (
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

PLR_COUNT = 448
BZR_COUNT = 138
BEZIRK_COUNT = 12
# A correction's point must lie inside the polygon or this close to it (m).
CORRECTION_SNAP_M = 50.0
SCHEME_END = date(2020, 12, 31)


@dataclass(frozen=True)
class Lor2006Source:
    """The files of the old scheme; ``corrections`` is optional and explicit."""

    planungsraeume: Path
    bezirksregionen: Path
    bezirke: Path
    corrections: Path | None = None

    @classmethod
    def from_directory(cls, directory: Path, *, bezirke: Path) -> Lor2006Source:
        return cls(
            planungsraeume=directory / "berlin-lor-planning-areas-until-2020.geojson",
            bezirksregionen=directory / "lor2006_bezirksregionen.csv",
            bezirke=bezirke,
        )


@dataclass(frozen=True)
class KeyCorrection:
    """Give the polygon with key ``key`` that holds (lon, lat) the key ``correct``."""

    key: str
    lon: float
    lat: float
    correct: str
    reason: str = ""

    @classmethod
    def parse(cls, text: str) -> KeyCorrection:
        """``06010102@13.29,52.51=04030417`` as given on the command line."""
        match = re.fullmatch(
            r"\s*(\d{8})@(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)=(\d{8})\s*", text
        )
        if not match:
            raise LorImportError(
                f"Korrektur „{text}“ nicht lesbar; erwartet "
                "SCHLÜSSEL@LÄNGE,BREITE=RICHTIGER_SCHLÜSSEL "
                "(z. B. 06010102@13.299,52.515=04030417)."
            )
        key, lon, lat, correct = match.groups()
        return cls(key=key, lon=float(lon), lat=float(lat), correct=correct)

    def __str__(self) -> str:
        return f"{self.key}@{self.lon},{self.lat}={self.correct}"


@dataclass
class Lor2006ImportReport(SchemeImportReport):
    """What the LOR 2006 import wrote and checked, and which keys it corrected."""

    corrections: list[str] = field(default_factory=list)


def read_corrections(path: Path) -> list[KeyCorrection]:
    """The correction table: schluessel, laenge, breite, richtig, grund."""
    columns = ("schluessel", "laenge", "breite", "richtig", "grund")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if missing := [c for c in columns if c not in (reader.fieldnames or [])]:
            raise LorImportError(f"{path.name}: Spalte(n) fehlen: {', '.join(missing)}")
        corrections = []
        for line_no, row in enumerate(reader, start=2):
            try:
                parsed = KeyCorrection.parse(
                    f"{row['schluessel']}@{row['laenge']},{row['breite']}"
                    f"={row['richtig']}"
                )
            except LorImportError as exc:
                raise LorImportError(f"{path.name}, Zeile {line_no}: {exc}") from exc
            corrections.append(
                KeyCorrection(
                    key=parsed.key,
                    lon=parsed.lon,
                    lat=parsed.lat,
                    correct=parsed.correct,
                    reason=row["grund"].strip(),
                )
            )
    return corrections


def lor2006_import(
    *, source: Lor2006Source, corrections: list[KeyCorrection] | None = None
) -> Lor2006ImportReport:
    """Load or refresh the LOR 2006 scheme; all or nothing, validated in PostGIS.

    ``corrections`` are applied in addition to ``source.corrections``.
    """
    for path in (source.planungsraeume, source.bezirksregionen, source.bezirke):
        if not path.is_file():
            raise LorImportError(f"Datei nicht gefunden: {path}")
    all_corrections = list(corrections or [])
    if source.corrections is not None:
        if not source.corrections.is_file():
            raise LorImportError(f"Datei nicht gefunden: {source.corrections}")
        all_corrections = read_corrections(source.corrections) + all_corrections

    report = Lor2006ImportReport()
    plr = _read_planungsraeume(source.planungsraeume, all_corrections, report)
    bzr_names = _read_names(source.bezirksregionen, key_column="schluessel")
    bez_names = _read_bezirk_names(source.bezirke)
    _check_hierarchy_names(plr, bzr_names, bez_names)

    with transaction.atomic():
        geoms = {code: geom for code, (_name, geom) in plr.items()}
        derived = dissolve_in_postgis(geoms, scheme=LOR_2006)
        _write_units(
            plr=plr,
            derived=derived,
            bzr_names=bzr_names,
            bez_names=bez_names,
            report=report,
        )
        _validate(report)
    return report


def _read_planungsraeume(
    path: Path, corrections: list[KeyCorrection], report: Lor2006ImportReport
) -> dict[str, tuple[str, ShapelyMultiPolygon]]:
    """(name, polygon in EPSG:25833) per key, after the explicit corrections."""
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise LorImportError(
            f"{path.name}: Die Datei ist nicht lesbar ({exc})."
        ) from exc
    for column in ("id", "name"):
        if column not in frame.columns:
            raise LorImportError(f"{path.name}: Attribut „{column}“ fehlt.")
    wgs84 = frame.to_crs(4326) if frame.crs is not None else frame
    frame = to_25833(path, frame)

    features: list[tuple[str, str, ShapelyMultiPolygon, Point]] = []
    for index, (key, name, geom, geom_wgs84) in enumerate(
        zip(frame["id"], frame["name"], frame.geometry, wgs84.geometry, strict=True)
    ):
        key, name = str(key).strip(), str(name).strip()
        where = f"{path.name}, Objekt {index + 1} ({key} {name})"
        geom = checked_multipolygon(geom, where=where)
        if not re.fullmatch(r"\d{8}", key):
            raise LorImportError(f"{where}: „{key}“ ist kein 8-stelliger Schlüssel.")
        features.append((key, name, geom, geom_wgs84.representative_point()))

    for correction in corrections:
        features = _apply(correction, features, path, report)

    by_key: dict[str, list[tuple[str, Point]]] = {}
    for key, name, _geom, point in features:
        by_key.setdefault(key, []).append((name, point))
    duplicates = {k: v for k, v in by_key.items() if len(v) > 1}
    if duplicates:
        lines = [
            f"{key} „{name}“ bei {point.x:.3f} E, {point.y:.3f} N"
            for key, found in sorted(duplicates.items())
            for name, point in found
        ]
        raise LorImportError(
            f"{path.name}: Schlüssel mehrfach vergeben: "
            + "; ".join(lines)
            + ". Das richtige Polygon mit einer Korrektur umschlüsseln, z. B. "
            "--correct SCHLÜSSEL@LÄNGE,BREITE=RICHTIGER_SCHLÜSSEL oder "
            "--corrections lor/data/lor2006/korrekturen.csv."
        )
    return {key: (name, geom) for key, name, geom, _point in features}


def _apply(
    correction: KeyCorrection,
    features: list[tuple[str, str, ShapelyMultiPolygon, Point]],
    path: Path,
    report: Lor2006ImportReport,
) -> list[tuple[str, str, ShapelyMultiPolygon, Point]]:
    """Re-key the one polygon the correction points at; anything else is an error."""
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 25833, always_xy=True).transform(
        correction.lon, correction.lat
    )
    point = Point(x, y)
    hits = [
        i
        for i, (key, _name, geom, _p) in enumerate(features)
        if key == correction.key and geom.distance(point) <= CORRECTION_SNAP_M
    ]
    if len(hits) != 1:
        raise LorImportError(
            f"{path.name}: Korrektur {correction} trifft "
            f"{'kein' if not hits else 'mehr als ein'} Polygon mit Schlüssel "
            f"{correction.key} bei {correction.lon}, {correction.lat} "
            f"(Abstand bis {CORRECTION_SNAP_M:.0f} m); nichts geändert."
        )
    key, name, geom, rep = features[hits[0]]
    report.corrections.append(
        f"{key} „{name}“ bei {rep.x:.3f} E, {rep.y:.3f} N → {correction.correct}"
        + (f" ({correction.reason})" if correction.reason else "")
    )
    corrected = list(features)
    corrected[hits[0]] = (correction.correct, name, geom, rep)
    return corrected


def _read_names(path: Path, *, key_column: str) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {
            row[key_column].strip(): row["name"].strip()
            for row in csv.DictReader(fh)
            if row.get(key_column)
        }


def _read_bezirk_names(path: Path) -> dict[str, str]:
    frame = pyogrio.read_dataframe(path, read_geometry=False)
    return {
        str(k).strip(): str(n).strip()
        for k, n in zip(frame["id"], frame["name"], strict=True)
    }


def _check_hierarchy_names(
    plr: dict[str, tuple[str, ShapelyMultiPolygon]],
    bzr_names: dict[str, str],
    bez_names: dict[str, str],
) -> None:
    """Counts as published, and a name for every Bezirksregion and Bezirk."""
    bzr = {
        hierarchy.key_prefix(k, hierarchy.BEZIRKSREGION, scheme=LOR_2006) for k in plr
    }
    bez = {hierarchy.key_prefix(k, hierarchy.BEZIRK, scheme=LOR_2006) for k in plr}
    if len(plr) != PLR_COUNT or len(bzr) != BZR_COUNT or len(bez) != BEZIRK_COUNT:
        raise LorImportError(
            f"LOR 2006 hat {PLR_COUNT} Planungsräume, {BZR_COUNT} Bezirksregionen "
            f"und {BEZIRK_COUNT} Bezirke; die Datei ergibt {len(plr)}, {len(bzr)} "
            f"und {len(bez)}."
        )
    if missing := sorted(bzr - set(bzr_names)):
        raise LorImportError(f"Kein Name für Bezirksregion(en) {', '.join(missing)}")
    if missing := sorted(bez - set(bez_names)):
        raise LorImportError(f"Kein Name für Bezirk(e) {', '.join(missing)}")


def _write_units(
    *,
    plr: dict[str, tuple[str, ShapelyMultiPolygon]],
    derived: dict[str, GEOSGeometry],
    bzr_names: dict[str, str],
    bez_names: dict[str, str],
    report: Lor2006ImportReport,
) -> None:
    names: dict[str, str] = {LOR_2006.berlin_key: "Berlin"}
    for code in derived:
        level = hierarchy.level_of_key(code, scheme=LOR_2006)
        if level == hierarchy.BEZIRK:
            names[code] = bez_names[code]
        elif level == hierarchy.BEZIRKSREGION:
            names[code] = bzr_names[code]
        elif level == hierarchy.PROGNOSERAUM:
            names[code] = f"Prognoseraum {code}"
    levels: list[tuple[str, dict[str, UnitRow]]] = [
        (
            level,
            {
                code: UnitRow(names[code], geom)
                for code, geom in derived.items()
                if hierarchy.level_of_key(code, scheme=LOR_2006) == level
            },
        )
        for level in hierarchy.LEVELS
        if level != hierarchy.PLANUNGSRAUM
    ]
    levels.append(
        (
            hierarchy.PLANUNGSRAUM,
            {
                code: UnitRow(name, GEOSGeometry(memoryview(geom.wkb), srid=25833))
                for code, (name, geom) in plr.items()
            },
        )
    )
    # The old scheme was introduced in 2006 and replaced on 1.1.2021.
    write_units(
        scheme=LOR_2006,
        levels=levels,
        scheme_start=date(2006, 1, 1),
        report=report,
    )


def _validate(report: Lor2006ImportReport) -> None:
    """Overlaps, gaps and Berlin's area in PostGIS; raising rolls the import back."""
    check_overlaps(scheme=LOR_2006, with_names=True)
    check_gaps_and_area(
        scheme=LOR_2006, report=report, berlin_label="Berlins (LOR 2006)"
    )
