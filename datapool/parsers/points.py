"""Parser of point data (facility layers): GeoJSON, GeoPackage, zipped Shapefile, CSV.

Every point is transformed to EPSG:25833 and placed in exactly one Planungsraum by a
spatial join in PostGIS (a read). The delivery counts the points per Planungsraum
(0 where there are none), optionally sums one numeric attribute, and carries the
placed points, which ``datapool.services.facilities`` stores inside the import
transaction.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from django.db import connection
from django.utils import timezone
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from lor.models import LorUnit

from ..themes import Theme
from .contract import (
    FacilityLayerDelivery,
    ImportValidationError,
    LayerSpec,
    ObservationRow,
    ParsedDelivery,
    PlacedPoint,
    Problem,
    ProblemList,
    ProgressCallback,
    VariableSpec,
    read_csv_file,
    width_problem,
)

SUFFIXES = frozenset({".geojson", ".json", ".gpkg", ".zip", ".shp"})
COORDINATE_PAIRS = [
    ("x", "y"),
    ("lon", "lat"),
    ("longitude", "latitude"),
    ("rechtswert", "hochwert"),
]
TARGET_SRID = 25833
UNIT = LorUnit._meta.db_table
LAYER_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_UNZIPPED_BYTES = 1024**3
OUTSIDE_EXAMPLES = 20
SUPPLIER = "Punktdaten ohne Lieferantenangabe"
# Berlin's extent with a margin; only used to explain a mismatched CRS, never to
# pick one.
BERLIN_LONLAT = (13.0, 52.3, 13.8, 52.7)
BERLIN_UTM33 = (365_000.0, 5_795_000.0, 420_000.0, 5_840_000.0)
NAME_ATTRIBUTES = ("name", "e_name", "bezeichnung", "einrichtung", "titel", "title")
# Attributes that hold the date of a snapshot (not e.g. an opening date).
DATE_ATTRIBUTES = ("stand", "stichtag", "datenstand")
ATTRIBUTE_LABELS = {  # attribute: (label in the variable name, unit, value type)
    "e_platz": ("Plätze", "Plätze", "count"),
    "plaetze": ("Plätze", "Plätze", "count"),
}
LAYER_THEMES = [
    (re.compile(r"kita|jfe|jugend|spielpl|familie"), Theme.JUGEND),
    (re.compile(r"schul"), Theme.SCHULE),
]
NOISE_TOKENS = re.compile(r"^(epsg\d*|wgs84|crs84|etrs89|utm33n?|\d{4,})$", re.I)
GEOMETRY_NAMES = {
    shapely.GeometryType.LINESTRING: "Linien",
    shapely.GeometryType.LINEARRING: "Linien",
    shapely.GeometryType.POLYGON: "Flächen (Polygon)",
    shapely.GeometryType.MULTILINESTRING: "Mehrfachlinien (MultiLineString)",
    shapely.GeometryType.MULTIPOLYGON: "Mehrfachflächen (MultiPolygon)",
    shapely.GeometryType.GEOMETRYCOLLECTION: "Geometriesammlungen",
    shapely.GeometryType.MULTIPOINT: "Mehrfachpunkte (MultiPoint mit mehreren Teilen)",
}


@dataclass
class _Points:
    """Points as read, in the file's CRS, before the spatial join."""

    numbers: list[int]  # feature number (1 = first) or, for CSV, the line
    raw_x: np.ndarray
    raw_y: np.ndarray
    attributes: list[dict[str, Any]]
    columns: list[str]
    crs: CRS
    by_line: bool = False
    notes: list[Problem] = field(default_factory=list)


def looks_like_points(header: list[str], file_name: str = "") -> bool:
    """A table with a pair of coordinate columns is a point layer."""
    lowered = {h.lower() for h in header}
    return any({a, b} <= lowered for a, b in COORDINATE_PAIRS)


def parse_points(
    path: Path,
    *,
    file_name: str,
    options: dict[str, Any],
    progress: ProgressCallback | None = None,
) -> ParsedDelivery:
    """Read and validate a point file and count its points per Planungsraum."""
    problems = ProblemList()
    spec = _layer_spec(file_name, options, problems)
    ref_date_option = _ref_date_option(options, file_name, problems)
    problems.raise_if_any()

    points = _read(path, file_name, options)
    total = len(points.numbers)
    if progress:
        progress(0, total)
    sum_column = _attribute(points, spec.sum_attribute, "sum_attribute", file_name)
    name_column = _name_column(points, spec.name_attribute, file_name)
    variables = [_count_spec(spec)]
    sums: list[float] = []
    if sum_column:
        variables.append(_sum_spec(spec, sum_column, file_name, problems))
        sums = _sum_values(points, sum_column, file_name, problems)
    problems.raise_if_any()

    plr = sorted(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
        ).values_list("code", flat=True)
    )
    if not plr:
        raise ImportValidationError(
            [
                Problem(
                    "Die LOR-Planungsräume sind nicht geladen (manage.py "
                    "lor_import); Punkte können keinem Raum zugeordnet werden.",
                    file_name,
                )
            ]
        )
    x, y = _to_target(points)
    codes, on_border = _assign(x, y)
    outside = [i for i, code in enumerate(codes) if code is None]
    crs_label = _crs_label(points.crs)
    if len(outside) == total:
        raise ImportValidationError(
            [
                Problem(
                    (
                        f"Keiner der {total} Punkte liegt"
                        if total > 1
                        else "Der einzige Punkt liegt nicht"
                    )
                    + " in Berlin; es wurde nichts importiert. Stimmt das "
                    f"Koordinatensystem ({crs_label})?"
                    + _crs_hint(points, list(range(total)), file_name),
                    file_name,
                )
            ]
        )

    warnings = list(points.notes)
    ref_date, ref_date_source = _ref_date(ref_date_option, points, file_name, warnings)
    if outside:
        warnings.append(
            Problem(
                f"{len(outside)} von {total} Punkten liegen außerhalb Berlins (in "
                "keinem Planungsraum) und wurden nicht übernommen."
                + _crs_hint(points, outside, file_name),
                file_name,
            )
        )
        for i in outside[:OUTSIDE_EXAMPLES]:
            warnings.append(
                _problem(
                    points,
                    i,
                    file_name,
                    f"liegt außerhalb Berlins: x={_fmt(points.raw_x[i])}, "
                    f"y={_fmt(points.raw_y[i])} ({crs_label})",
                    value=_name(points.attributes[i], name_column) or None,
                )
            )

    placed = [
        PlacedPoint(
            number=points.numbers[i],
            x=float(x[i]),
            y=float(y[i]),
            unit_code=code,
            name=_name(points.attributes[i], name_column),
            attributes=points.attributes[i],
        )
        for i, code in enumerate(codes)
        if code is not None
    ]
    counts = Counter(p.unit_code for p in placed)
    # No point in a Planungsraum means there is no such facility: a real zero.
    rows = [
        ObservationRow(spec.count_key, code, ref_date, float(counts[code]), "ok", "")
        for code in plr
    ]
    if sum_column:
        totals: dict[str, float] = dict.fromkeys(plr, 0.0)
        for i, code in enumerate(codes):
            if code is not None:
                totals[code] += sums[i]
        sum_key = variables[1].key
        rows += [
            ObservationRow(sum_key, code, ref_date, totals[code], "ok", "")
            for code in plr
        ]

    if progress:
        progress(total, total)
    delivery = ParsedDelivery(
        variables=variables,
        rows=rows,
        warnings=warnings,
        rows_read=total,
        supplier=str(options.get("supplier") or SUPPLIER),
        extra={
            "facility_layer": spec.key,
            "points_total": total,
            "points_outside_berlin": len(outside),
            "points_on_border": on_border,
            "outside_examples": [
                {
                    "feature": points.numbers[i] if not points.by_line else None,
                    "line": points.numbers[i] if points.by_line else None,
                    "x": _fmt(points.raw_x[i]),
                    "y": _fmt(points.raw_y[i]),
                    "name": _name(points.attributes[i], name_column),
                }
                for i in outside[:OUTSIDE_EXAMPLES]
            ],
            "crs": crs_label,
            "ref_date_source": ref_date_source,
        },
    )

    delivery.facility_layer = FacilityLayerDelivery(
        spec=spec, ref_date=ref_date, sum_attribute=sum_column or "", points=placed
    )
    return delivery


# --- options -------------------------------------------------------------------


def _layer_spec(
    file_name: str, options: dict[str, Any], problems: ProblemList
) -> LayerSpec:
    default_key, default_name = layer_defaults(file_name)
    key = str(options.get("layer") or default_key).strip().lower()
    if not LAYER_KEY.match(key):
        problems.add(
            Problem(
                f"„{key}“ ist kein gültiger Ebenenschlüssel (Option layer): erlaubt "
                "sind Kleinbuchstaben, Ziffern und Unterstrich, beginnend mit einem "
                "Buchstaben, höchstens 40 Zeichen.",
                file_name,
                value=key,
            )
        )
    theme = str(options.get("theme") or "").strip().lower()
    if theme and theme not in Theme.values:
        problems.add(
            Problem(
                f"Unbekanntes Thema (Option theme); möglich: {', '.join(Theme.values)}",
                file_name,
                value=theme,
            )
        )
    if not theme or theme not in Theme.values:
        theme = next(
            (t for pattern, t in LAYER_THEMES if pattern.search(key)),
            Theme.INFRASTRUKTUR,
        )
    source = str(options.get("source") or "").strip()
    return LayerSpec(
        key=key,
        # Leaves room for ": Anzahl" in the variable names (200 characters).
        name=str(options.get("layer_name") or default_name).strip()[:160],
        theme=theme,
        source=(source or f"Punktdatei „{file_name}“")[:300],
        license=str(options.get("license") or "").strip()[:120],
        metadata_complete=bool(source),
        sum_attribute=str(options.get("sum_attribute") or "").strip(),
        name_attribute=str(options.get("name_attribute") or "").strip(),
    )


def layer_defaults(file_name: str) -> tuple[str, str]:
    """Layer key and name from a file name ('infra_kitas_epsg25833.geojson')."""
    tokens = [
        t
        for t in re.split(r"[\s_.\-]+", Path(file_name).stem)
        if t and not NOISE_TOKENS.match(t)
    ]
    if len(tokens) > 1 and tokens[0].lower() == "infra":
        tokens = tokens[1:]
    name = " ".join(tokens) or "Punktdaten"
    name = name[0].upper() + name[1:]
    key = "_".join(tokens).lower()
    for umlaut, ascii_ in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        key = key.replace(umlaut, ascii_)
    key = re.sub(r"[^a-z0-9_]+", "", key)[:40].strip("_") or "punktdaten"
    if not key[0].isalpha():
        key = f"ebene_{key}"[:40].strip("_")
    return key, name


def _ref_date_option(
    options: dict[str, Any], file_name: str, problems: ProblemList
) -> date | None:
    raw = options.get("ref_date")
    if not raw:
        return None
    if isinstance(raw, date):
        return raw
    parsed = _parse_date(str(raw))
    if parsed is None:
        problems.add(
            Problem(
                "Stichtag (Option ref_date) ist kein Datum; erwartet JJJJ-MM-TT "
                "oder TT.MM.JJJJ",
                file_name,
                value=str(raw),
            )
        )
    return parsed


def _parse_date(text: str) -> date | None:
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _ref_date(
    option: date | None, points: _Points, file_name: str, warnings: list[Problem]
) -> tuple[date, str]:
    """The option, else one common snapshot date in the data, else today."""
    if option:
        return option, "Option ref_date"
    for column in points.columns:
        if column.lower() not in DATE_ATTRIBUTES:
            continue
        found = {
            found_date
            for a in points.attributes
            if (found_date := _as_date(a.get(column))) is not None
        }
        if len(found) == 1:
            return found.pop(), f"Attribut {column}"
    today = timezone.localdate()
    warnings.append(
        Problem(
            "Kein Stichtag angegeben (Option ref_date) und keiner in den Daten: "
            f"das Importdatum {today:%d.%m.%Y} wurde als Stichtag verwendet.",
            file_name,
        )
    )
    return today, "Importdatum"


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        return _parse_date(value)
    return None


def _crs_option(options: dict[str, Any], file_name: str) -> CRS | None:
    raw = str(options.get("crs") or "").strip()
    if not raw:
        return None
    try:
        return CRS.from_user_input(f"EPSG:{raw}" if raw.isdigit() else raw)
    except CRSError as exc:
        raise ImportValidationError(
            [
                Problem(
                    "Unbekanntes Koordinatensystem (Option crs); erwartet z. B. "
                    "EPSG:25833 oder EPSG:4326",
                    file_name,
                    value=raw,
                )
            ]
        ) from exc


# --- reading -------------------------------------------------------------------


def _read(path: Path, file_name: str, options: dict[str, Any]) -> _Points:
    if not path.exists() or path.stat().st_size == 0:
        raise ImportValidationError([Problem("Die Datei ist leer.", file_name)])
    suffix = Path(file_name).suffix.lower()
    crs_option = _crs_option(options, file_name)
    file_layer = str(options.get("file_layer") or "") or None
    if suffix in {".geojson", ".json"}:
        _check_geojson(path, file_name)
        return _read_ogr(str(path), file_name, None, crs_option)
    if suffix == ".zip":
        source = _zip_member(path, file_name, crs_option, file_layer)
        return _read_ogr(source, file_name, None, crs_option)
    if suffix == ".gpkg":
        layer = _gpkg_layer(path, file_name, file_layer)
        return _read_ogr(str(path), file_name, layer, crs_option)
    if suffix == ".shp":
        raise ImportValidationError(
            [
                Problem(
                    "Eine einzelne .shp-Datei enthält weder Attribute noch das "
                    "Koordinatensystem. Bitte .shp, .shx, .dbf und .prj zusammen "
                    "als ZIP-Datei hochladen.",
                    file_name,
                )
            ]
        )
    return _read_csv(path, file_name, crs_option)


def _check_geojson(path: Path, file_name: str) -> None:
    """Syntax and structure first, so that the user learns where the file breaks."""
    raw = path.read_bytes()
    if not raw.strip():
        raise ImportValidationError([Problem("Die Datei ist leer.", file_name)])
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ImportValidationError(
            [
                Problem(
                    f"GeoJSON muss UTF-8-kodiert sein (ungültiges Byte an Stelle "
                    f"{exc.start}).",
                    file_name,
                )
            ]
        ) from exc
    except json.JSONDecodeError as exc:
        raise ImportValidationError(
            [
                Problem(
                    f"Die Datei ist kein gültiges JSON: Syntaxfehler bei Zeichen "
                    f"{exc.colno} oder kurz davor („{exc.msg}“). Ist die Datei "
                    "abgeschnitten oder von Hand bearbeitet?",
                    file_name,
                    line=exc.lineno,
                )
            ]
        ) from exc
    if not isinstance(doc, dict) or (
        doc.get("type") not in {"FeatureCollection", "Feature"}
        and "features" not in doc
    ):
        raise ImportValidationError(
            [
                Problem(
                    "Die Datei ist kein GeoJSON: erwartet wird ein Objekt mit "
                    '"type": "FeatureCollection" und einer Liste "features".',
                    file_name,
                )
            ]
        )
    if doc.get("type") != "Feature" and not doc.get("features"):
        raise ImportValidationError(
            [
                Problem(
                    "Die Datei enthält keine Objekte (leere FeatureCollection): "
                    "es gibt keine Punkte zu importieren.",
                    file_name,
                )
            ]
        )


def _zip_member(
    path: Path, file_name: str, crs_option: CRS | None, file_layer: str | None
) -> str:
    """The GDAL path of the one Shapefile (or GeoJSON/GeoPackage) in the archive."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ImportValidationError(
            [Problem("Die ZIP-Datei ist beschädigt oder keine ZIP-Datei.", file_name)]
        ) from exc
    with archive:
        infos = [
            i
            for i in archive.infolist()
            if not i.is_dir() and not i.filename.startswith("__MACOSX/")
        ]
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        raise ImportValidationError(
            [Problem("Die ZIP-Datei ist entpackt größer als 1 GB.", file_name)]
        )
    names = [i.filename for i in infos]
    lowered = {n.lower() for n in names}
    shapefiles = [n for n in names if n.lower().endswith(".shp")]
    if file_layer:
        shapefiles = [n for n in shapefiles if Path(n).stem == file_layer]
    others = [
        n for n in names if Path(n).suffix.lower() in {".geojson", ".json", ".gpkg"}
    ]
    if len(shapefiles) > 1:
        raise ImportValidationError(
            [
                Problem(
                    "Die ZIP-Datei enthält mehrere Shapefiles ("
                    + ", ".join(shapefiles[:5])
                    + "); bitte eines je Datei hochladen oder mit der Option "
                    "file_layer wählen.",
                    file_name,
                )
            ]
        )
    if shapefiles:
        member = shapefiles[0]
        stem = member[:-4].lower()
        problems = ProblemList()
        for sidecar in (".shx", ".dbf"):
            if stem + sidecar not in lowered:
                problems.add(
                    Problem(
                        f"Shapefile „{member}“ ist unvollständig: die Datei "
                        f"„{Path(member).stem}{sidecar}“ fehlt im ZIP.",
                        file_name,
                    )
                )
        if stem + ".prj" not in lowered and crs_option is None:
            problems.add(
                Problem(
                    f"Shapefile „{member}“ ohne .prj-Datei: das Koordinatensystem "
                    "ist unbekannt und wird nicht geraten. Bitte die .prj-Datei "
                    f"(„{Path(member).stem}.prj“) mit in das ZIP packen.",
                    file_name,
                )
            )
        problems.raise_if_any()
        return f"/vsizip/{path}/{member}"
    if len(others) == 1:
        return f"/vsizip/{path}/{others[0]}"
    raise ImportValidationError(
        [
            Problem(
                "Die ZIP-Datei enthält kein Shapefile (.shp mit .shx, .dbf, .prj); "
                "gefunden: " + (", ".join(names[:8]) or "nichts"),
                file_name,
            )
        ]
    )


def _gpkg_layer(path: Path, file_name: str, file_layer: str | None) -> str | None:
    try:
        layers = [(str(n), str(t)) for n, t in pyogrio.list_layers(str(path))]
    except (DataSourceError, DataLayerError) as exc:
        raise ImportValidationError(
            [Problem(f"Die GeoPackage-Datei ist nicht lesbar ({exc}).", file_name)]
        ) from exc
    names = [n for n, _ in layers]
    if file_layer:
        if file_layer not in names:
            raise ImportValidationError(
                [
                    Problem(
                        f"Ebene „{file_layer}“ (Option file_layer) fehlt im "
                        f"GeoPackage; vorhanden: {', '.join(names)}",
                        file_name,
                    )
                ]
            )
        return file_layer
    point_layers = [n for n, t in layers if "point" in t.lower()]
    if len(layers) == 1:
        return names[0]
    if len(point_layers) == 1:
        return point_layers[0]
    raise ImportValidationError(
        [
            Problem(
                "Das GeoPackage enthält mehrere Ebenen ("
                + (", ".join(names) or "keine")
                + "); bitte die gewünschte mit der Option file_layer angeben.",
                file_name,
            )
        ]
    )


def _read_ogr(
    source: str, file_name: str, layer: str | None, crs_option: CRS | None
) -> _Points:
    try:
        frame = pyogrio.read_dataframe(source, layer=layer)
    except (
        DataSourceError,
        DataLayerError,
        FieldError,
        GeometryError,
    ) as exc:
        raise ImportValidationError(
            [
                Problem(
                    f"Die Datei kann nicht als Geodaten gelesen werden ({exc}).",
                    file_name,
                )
            ]
        ) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ImportValidationError(
            [Problem("Die Datei enthält keine Geometrien (keine Punkte).", file_name)]
        )
    if len(frame) == 0:
        raise ImportValidationError(
            [Problem("Die Datei enthält keine Objekte (keine Punkte).", file_name)]
        )
    declared = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    crs = declared or crs_option
    if crs is None:
        raise ImportValidationError(
            [
                Problem(
                    "Die Datei gibt kein Koordinatensystem an; es wird nicht "
                    "geraten. Bitte mit Koordinatensystem (z. B. EPSG:25833) "
                    "exportieren.",
                    file_name,
                )
            ]
        )
    if (
        declared is not None
        and crs_option is not None
        and not declared.equals(crs_option, ignore_axis_order=True)
    ):
        raise ImportValidationError(
            [
                Problem(
                    f"Die Datei gibt {_crs_label(declared)} an, die Option crs "
                    f"aber {_crs_label(crs_option)}.",
                    file_name,
                )
            ]
        )
    geoms = np.asarray(frame.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    empty = shapely.is_empty(geoms) | (types == shapely.GeometryType.MISSING)
    single_multipoint = (types == shapely.GeometryType.MULTIPOINT) & (
        shapely.get_num_geometries(geoms) == 1
    )
    geoms = np.where(single_multipoint, shapely.get_geometry(geoms, 0), geoms)
    types = np.where(single_multipoint, shapely.GeometryType.POINT, types)
    problems = ProblemList()
    missing = np.flatnonzero(empty)
    if len(missing):
        problems.add(
            Problem(
                f"{len(missing)} Objekt(e) ohne Geometrie (Koordinaten), z. B. "
                + _numbers(missing)
                + ". Jeder Punkt braucht einen Ort.",
                file_name,
            )
        )
    for type_id, label in GEOMETRY_NAMES.items():
        wrong = np.flatnonzero((types == type_id) & ~empty)
        if len(wrong):
            problems.add(
                Problem(
                    f"Die Datei enthält {len(wrong)} {label} statt Punkte, z. B. "
                    + _numbers(wrong)
                    + ". Erwartet werden Punktdaten (Standorte von Einrichtungen).",
                    file_name,
                )
            )
    problems.raise_if_any()
    attributes = frame.drop(columns=frame.geometry.name)
    return _Points(
        numbers=list(range(1, len(frame) + 1)),
        raw_x=shapely.get_x(geoms).astype(float),
        raw_y=shapely.get_y(geoms).astype(float),
        attributes=[
            {str(k): _json_value(v) for k, v in row.items()}
            for row in attributes.to_dict("records")
        ],
        columns=[str(c) for c in attributes.columns],
        crs=crs,
    )


def _read_csv(path: Path, file_name: str, crs_option: CRS | None) -> _Points:
    header, body = read_csv_file(path, file_name)
    lowered = {h.lower(): h for h in header}
    pair = next(
        (
            (lowered[a], lowered[b])
            for a, b in COORDINATE_PAIRS
            if a in lowered and b in lowered
        ),
        None,
    )
    if pair is None:
        raise ImportValidationError(
            [
                Problem(
                    "Keine Koordinatenspalten gefunden: erwartet werden x/y, lon/lat, "
                    "longitude/latitude oder rechtswert/hochwert; gefunden: "
                    + ", ".join(header[:10]),
                    file_name,
                    line=1,
                )
            ]
        )
    problems = ProblemList()
    numbers: list[int] = []
    xs: list[float] = []
    ys: list[float] = []
    attributes: list[dict[str, Any]] = []
    index = {h: i for i, h in enumerate(header)}
    for offset, cells in enumerate(body):
        line = offset + 2
        if not any(cell.strip() for cell in cells):
            continue
        wrong_width = width_problem(cells, header, file_name, line)
        if wrong_width:
            problems.add(wrong_width)
            continue
        coordinates = []
        for column in pair:
            raw = cells[index[column]].strip()
            try:
                coordinates.append(_number(raw))
            except ValueError:
                problems.add(
                    Problem(
                        "Koordinate fehlt" if not raw else "Koordinate ist keine Zahl",
                        file_name,
                        line,
                        column,
                        raw,
                    )
                )
        if len(coordinates) != 2:
            continue
        numbers.append(line)
        xs.append(coordinates[0])
        ys.append(coordinates[1])
        attributes.append(
            {
                h: (cells[i].strip() or None)
                for h, i in index.items()
                if h not in pair and h
            }
        )
    problems.raise_if_any()
    if not numbers:
        raise ImportValidationError(
            [Problem("Die Datei enthält keine Punkte (nur die Kopfzeile).", file_name)]
        )
    raw_x, raw_y = np.array(xs), np.array(ys)
    notes = []
    crs = crs_option
    if crs is None:
        looks_geographic = bool(
            np.all(np.abs(raw_x) <= 180) and np.all(np.abs(raw_y) <= 90)
        )
        crs = CRS.from_epsg(4326 if looks_geographic else TARGET_SRID)
        notes.append(
            Problem(
                "Kein Koordinatensystem angegeben (Option crs): die Koordinaten "
                + (
                    "wurden als Längen-/Breitengrade (EPSG:4326) gelesen."
                    if looks_geographic
                    else "wurden als ETRS89/UTM 33N (EPSG:25833) gelesen."
                ),
                file_name,
            )
        )
    return _Points(
        numbers=numbers,
        raw_x=raw_x,
        raw_y=raw_y,
        attributes=attributes,
        columns=[h for h in header if h not in pair and h],
        crs=crs,
        by_line=True,
        notes=notes,
    )


# --- values --------------------------------------------------------------------


def _attribute(points: _Points, wanted: str, option: str, file_name: str) -> str:
    """The column matching an option (case-insensitive: Shapefiles upper-case)."""
    if not wanted:
        return ""
    match = next((c for c in points.columns if c.lower() == wanted.lower()), None)
    if match is None:
        raise ImportValidationError(
            [
                Problem(
                    f"Attribut „{wanted}“ (Option {option}) fehlt in der Datei; "
                    "vorhanden: " + ", ".join(points.columns[:20]),
                    file_name,
                    column=wanted,
                )
            ]
        )
    return match


def _name_column(points: _Points, wanted: str, file_name: str) -> str:
    if wanted:
        return _attribute(points, wanted, "name_attribute", file_name)
    by_lower = {c.lower(): c for c in points.columns}
    return next((by_lower[n] for n in NAME_ATTRIBUTES if n in by_lower), "")


def _name(attributes: dict[str, Any], column: str) -> str:
    value = attributes.get(column) if column else None
    return "" if value is None else str(value).strip()


def _sum_values(
    points: _Points, column: str, file_name: str, problems: ProblemList
) -> list[float]:
    values: list[float] = []
    for i, attributes in enumerate(points.attributes):
        raw = attributes.get(column)
        try:
            values.append(_number(raw))
        except ValueError:
            values.append(0.0)
            text = "" if raw is None else str(raw)
            problems.add(
                _problem(
                    points,
                    i,
                    file_name,
                    f"Attribut „{column}“ fehlt; für die Summe braucht jeder Punkt "
                    "eine Zahl"
                    if not text.strip()
                    else f"Attribut „{column}“ ist keine Zahl und kann nicht "
                    "summiert werden",
                    column=column,
                    value=text if text.strip() else None,
                )
            )
    return values


def _number(raw: Any) -> float:
    """A finite number from a native value or text ('69', '12,5', '390.387,4')."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError(raw)
    if isinstance(raw, int | float | np.integer | np.floating):
        value = float(raw)
    else:
        text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
        if "," in text and "." in text:
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
            raise ValueError(raw)
        value = float(text)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def _json_value(value: Any) -> Any:
    """A value the JSON attributes can hold (NaN and missing become null)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, bytes):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _count_spec(spec: LayerSpec) -> VariableSpec:
    return VariableSpec(
        key=spec.count_key,
        name=f"{spec.name}: Anzahl",
        theme=spec.theme,
        unit="Einrichtungen",
        value_type="count",
        aggregation="sum",
        description=f"Anzahl der Einrichtungen der Ebene „{spec.name}“ je Raum.",
        definition=(
            "Jeder Punkt zählt in dem Planungsraum, in dem er liegt (auf einer "
            "gemeinsamen Grenze: im Planungsraum mit dem kleineren Schlüssel). "
            "Räume ohne Einrichtung haben den Wert 0. Punkte außerhalb Berlins "
            "zählen nicht."
        ),
        source=spec.source,
        license=spec.license,
        metadata_complete=spec.metadata_complete,
    )


def _sum_spec(
    spec: LayerSpec, column: str, file_name: str, problems: ProblemList
) -> VariableSpec:
    label, unit, value_type = ATTRIBUTE_LABELS.get(
        column.lower(), (column[:38], "", "amount")
    )
    key = f"{spec.key.upper()}_{re.sub(r'[^A-Z0-9]+', '_', column.upper())}"
    if len(key) > 64:
        problems.add(
            Problem(
                f"Variablenschlüssel „{key}“ ist länger als 64 Zeichen; bitte einen "
                "kürzeren Ebenenschlüssel (Option layer) wählen.",
                file_name,
                column=column,
            )
        )
    return VariableSpec(
        key=key,
        name=f"{spec.name}: {label}",
        theme=spec.theme,
        unit=unit,
        value_type=value_type,
        aggregation="sum",
        description=(
            f"Summe des Attributs „{column}“ der Einrichtungen der Ebene "
            f"„{spec.name}“ je Raum."
        ),
        definition=(
            "Summiert über die Punkte im Planungsraum (Zuordnung wie bei der "
            "Anzahl); Räume ohne Einrichtung haben den Wert 0."
        ),
        source=spec.source,
        license=spec.license,
        metadata_complete=spec.metadata_complete,
    )


# --- geometry ------------------------------------------------------------------


def _to_target(points: _Points) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in EPSG:25833; what cannot be transformed becomes inf."""
    target = CRS.from_epsg(TARGET_SRID)
    if points.crs.equals(target, ignore_axis_order=True):
        return points.raw_x, points.raw_y
    transformer = Transformer.from_crs(points.crs, target, always_xy=True)
    x, y = transformer.transform(points.raw_x, points.raw_y)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _assign(x: np.ndarray, y: np.ndarray) -> tuple[list[str | None], int]:
    """Each point's Planungsraum (None outside Berlin) and how many lie on a border.

    ST_Covers includes the boundary; a point on a shared border is covered by
    several Planungsräume and goes to the one with the smallest key.
    """
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    codes: list[str | None] = [None] * len(x)
    on_border = 0
    if not len(finite):
        return codes, 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.i, c.code, c.n
            FROM unnest(%s::int[], %s::float8[], %s::float8[]) AS p(i, x, y)
            CROSS JOIN LATERAL (
                SELECT min(u.code) AS code, count(*) AS n
                FROM {UNIT} u
                WHERE u.scheme = %s AND u.level = %s
                  AND ST_Covers(u.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), %s))
            ) c
            """,
            [
                finite.tolist(),
                x[finite].tolist(),
                y[finite].tolist(),
                LorUnit.Scheme.LOR_2021,
                LorUnit.Level.PLANUNGSRAUM,
                TARGET_SRID,
            ],
        )
        for i, code, n in cursor.fetchall():
            codes[i] = code
            on_border += n > 1
    return codes, on_border


def _crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def _crs_hint(points: _Points, indices: list[int], file_name: str) -> str:
    """Why the points may miss Berlin, judged from their raw coordinates."""
    x, y = points.raw_x[indices], points.raw_y[indices]

    def share(
        bounds: tuple[float, float, float, float], a: np.ndarray, b: np.ndarray
    ) -> float:
        inside = (a >= bounds[0]) & (a <= bounds[2]) & (b >= bounds[1])
        return float(np.mean(inside & (b <= bounds[3]))) if len(a) else 0.0

    label = _crs_label(points.crs)
    if share(BERLIN_LONLAT, x, y) > 0.5 and not points.crs.is_geographic:
        return (
            " Die Koordinaten sehen nach Längen-/Breitengraden (EPSG:4326) aus, "
            f"die Datei gibt aber {label} an."
        )
    if share(BERLIN_UTM33, x, y) > 0.5 and not points.crs.equals(
        CRS.from_epsg(TARGET_SRID), ignore_axis_order=True
    ):
        rfc7946 = (
            " Eine GeoJSON-Datei ohne „crs“-Angabe gilt als EPSG:4326."
            if Path(file_name).suffix.lower() in {".geojson", ".json"}
            and points.crs.is_geographic
            else ""
        )
        return (
            " Die Koordinaten sehen nach Metern in ETRS89/UTM 33N (EPSG:25833) "
            f"aus, die Datei gibt aber {label} an." + rfc7946
        )
    if share(BERLIN_LONLAT, y, x) > 0.5:
        return " Sind Längen- und Breitengrad vertauscht?"
    return ""


def _problem(
    points: _Points,
    i: int,
    file_name: str,
    message: str,
    *,
    column: str | None = None,
    value: str | None = None,
) -> Problem:
    """A problem located at a CSV line or at a feature number."""
    if points.by_line:
        return Problem(message, file_name, points.numbers[i], column, value)
    return Problem(
        f"Objekt Nr. {points.numbers[i]}: {message}", file_name, None, column, value
    )


def _numbers(indices: np.ndarray) -> str:
    shown = ", ".join(str(i + 1) for i in indices[:5])
    return f"Objekt Nr. {shown}" + (" …" if len(indices) > 5 else "")


def _fmt(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if math.isfinite(value) else "?"
