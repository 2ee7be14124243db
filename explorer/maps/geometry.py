"""Simplified web geometry per level, topology-preserving, cached as gzip bytes.

The polygons of a level form a coverage (LOR units are dissolved from the
Planungsräume, so neighbours share their edges exactly). ``coverage_simplify``
simplifies each shared edge once, so neighbours still meet without gaps or
slivers. Simplification runs in EPSG:25833 (metres); the output is EPSG:4326
with 6 decimals (about 10 cm), which rounds shared vertices identically.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import dataclass

import numpy as np
import shapely
from django.db import connection
from pyproj import Transformer

from datapool.selectors import level_parse
from lor.models import LorUnit

# Tolerances in metres: about half a pixel at the zoom each level is usually seen at.
TOLERANCE_M = {
    "planungsraum": 8.0,
    "bezirksregion": 15.0,
    "prognoseraum": 25.0,
    "bezirk": 40.0,
    "berlin": 40.0,
    "custom": 15.0,
}
DECIMALS = 6
LEVELS = tuple(TOLERANCE_M)


class GeometryLevelError(ValueError):
    """The level is unknown; the message says so, in German."""


@dataclass(frozen=True)
class WebGeometry:
    etag: str
    raw: bytes  # the GeoJSON FeatureCollection, UTF-8
    gzipped: bytes
    features: int


_cache: dict[tuple[str, str], tuple[tuple, WebGeometry]] = {}
_lock = threading.Lock()


def _level_filter(
    level: str, scheme: str = LorUnit.Scheme.LOR_2021
) -> tuple[str, list]:
    base, area_set = level_parse(level)
    if base not in TOLERANCE_M or (base == "custom" and area_set is None):
        raise GeometryLevelError(
            "Unbekannte Ebene. Erlaubt: bezirk, prognoseraum, bezirksregion, "
            "planungsraum, berlin oder custom:<id>."
        )
    if area_set is not None:
        return "u.level = %s AND u.scheme = %s AND u.area_set_id = %s", [
            base,
            LorUnit.Scheme.CUSTOM,
            area_set,
        ]
    return "u.level = %s AND u.scheme = %s", [base, scheme]


def _version(where: str, params: list) -> tuple:
    """A cheap fingerprint of the level's units (area_m2 follows the geometry)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*), coalesce(max(u.id), 0), coalesce(sum(u.area_m2), 0),
                   coalesce(md5(string_agg(u.code || u.name, ',' ORDER BY u.code)), '')
            FROM {LorUnit._meta.db_table} u WHERE {where}
            """,
            params,
        )
        return tuple(cursor.fetchone())


def lor_web_geometry(
    *, level: str, scheme: str = LorUnit.Scheme.LOR_2021
) -> WebGeometry:
    """The level's simplified FeatureCollection (code, name, parent_code), cached.

    ``scheme`` picks LOR 2006 units instead of LOR 2021 (custom areas: ignored).
    """
    base, _area_set = level_parse(level)
    where, params = _level_filter(level, scheme)
    version = (*_version(where, params), TOLERANCE_M[base], DECIMALS)
    key = (level, scheme)
    cached = _cache.get(key)
    if cached and cached[0] == version:
        return cached[1]
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == version:
            return cached[1]
        geometry = _build(where, params, TOLERANCE_M[base], version)
        _cache[key] = (version, geometry)
        return geometry


def _build(where: str, params: list, tolerance: float, version: tuple) -> WebGeometry:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT u.code, u.name, p.code, ST_AsBinary(u.geom)
            FROM {LorUnit._meta.db_table} u
            LEFT JOIN {LorUnit._meta.db_table} p ON p.id = u.parent_id
            WHERE {where}
            ORDER BY u.code
            """,
            params,
        )
        rows = cursor.fetchall()
    geoms = shapely.from_wkb([bytes(r[3]) for r in rows])
    simplified = lor_simplify(geoms, tolerance)
    to_wgs84 = Transformer.from_crs(25833, 4326, always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = to_wgs84.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([x, y]), DECIMALS)

    projected = shapely.transform(simplified, project)
    features = [
        f'{{"type":"Feature","id":{json.dumps(code)},"properties":'
        f"{json.dumps({'code': code, 'name': name, 'parent_code': parent})},"
        f'"geometry":{shapely.to_geojson(geom)}}}'
        for (code, name, parent, _wkb), geom in zip(rows, projected, strict=True)
    ]
    raw = (
        '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
    ).encode()
    etag = hashlib.sha1(repr(version).encode(), usedforsecurity=False).hexdigest()[:20]
    return WebGeometry(
        etag=etag,
        raw=raw,
        gzipped=gzip.compress(raw, compresslevel=9, mtime=0),
        features=len(rows),
    )


def lor_simplify(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify polygons; shared edges stay shared when they form a coverage."""
    if len(geoms) == 0:
        return geoms
    if shapely.coverage_is_valid(geoms):
        return shapely.coverage_simplify(geoms, tolerance, simplify_boundary=True)
    # Custom areas may overlap (a Planungsraum in two areas): no coverage to keep.
    return shapely.simplify(geoms, tolerance, preserve_topology=True)
