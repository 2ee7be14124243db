"""Reading facility files (tables and GIS layers) into plain rows, nothing written.

A row keeps its position in the file (the line of a table, counting the header
as line 1; the feature number of a GIS layer, 1 = first) so that every problem
can name file, line, column and value.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyogrio
from django.contrib.gis.geos import GEOSGeometry
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from datapool.parsers.contract import ImportValidationError, Problem

TARGET_SRID = 25833
TABLE_SUFFIXES = frozenset({".csv", ".txt", ".xlsx"})
GIS_SUFFIXES = frozenset({".geojson", ".json", ".gpkg", ".zip"})


@dataclass
class RawRow:
    """One record of a file: its position, its cells as text, its geometry."""

    line: int
    values: dict[str, Any]
    geom: GEOSGeometry | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from an empty cell
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path, file_name: str) -> list[RawRow]:
    """The rows of a CSV (``;`` or ``,``, UTF-8 or Windows-1252) or XLSX file."""
    suffix = Path(file_name).suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, file_name)
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise ImportValidationError([Problem("Die Datei ist leer.", file_name)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on German Windows saves CSV as Windows-1252.
        text = raw.decode("cp1252")
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    for record in reader:
        values = {
            (k or "").strip().lower(): _text(v)
            for k, v in record.items()
            if k is not None
        }
        if any(values.values()):
            rows.append(RawRow(line=reader.line_num, values=values))
    return rows


def _read_xlsx(path: Path, file_name: str) -> list[RawRow]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportValidationError(
            [Problem(f"Die Datei ist keine lesbare XLSX-Datei ({exc}).", file_name)]
        ) from exc
    sheet = book.worksheets[0]
    rows_iter = sheet.iter_rows(values_only=True)
    header = [_text(h).lower() for h in next(rows_iter, ())]
    rows = []
    for number, cells in enumerate(rows_iter, start=2):
        values = {h: _text(c) for h, c in zip(header, cells, strict=False) if h}
        if any(values.values()):
            rows.append(RawRow(line=number, values=values))
    book.close()
    return rows


def read_gis(path: Path, file_name: str) -> list[RawRow]:
    """The features of a GeoJSON, GeoPackage or zipped Shapefile in EPSG:25833."""
    suffix = Path(file_name).suffix.lower()
    source = str(path)
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                shapes = [n for n in archive.namelist() if n.lower().endswith(".shp")]
        except zipfile.BadZipFile as exc:
            raise ImportValidationError(
                [Problem("Die ZIP-Datei ist beschädigt.", file_name)]
            ) from exc
        if not shapes:
            raise ImportValidationError(
                [
                    Problem(
                        "Die ZIP-Datei enthält keine Shapefile (.shp mit .shx, "
                        ".dbf und .prj).",
                        file_name,
                    )
                ]
            )
        source = f"/vsizip/{path}/{shapes[0]}"
    try:
        frame = pyogrio.read_dataframe(source)
    except (DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
        raise ImportValidationError(
            [
                Problem(
                    f"Die Datei kann nicht als Geodaten gelesen werden ({exc}).",
                    file_name,
                )
            ]
        ) from exc
    if getattr(frame, "geometry", None) is None or len(frame) == 0:
        raise ImportValidationError(
            [Problem("Die Datei enthält keine Objekte mit Geometrie.", file_name)]
        )
    if frame.crs is None:
        raise ImportValidationError(
            [
                Problem(
                    "Die Datei nennt kein Koordinatensystem (bei Shapefiles fehlt "
                    "die .prj-Datei).",
                    file_name,
                )
            ]
        )
    if frame.crs.to_epsg() != TARGET_SRID:
        frame = frame.to_crs(epsg=TARGET_SRID)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    rows = []
    for number, (record, shape) in enumerate(
        zip(
            frame[columns].to_dict("records"),
            frame.geometry.to_wkb(),
            strict=True,
        ),
        start=1,
    ):
        geom = GEOSGeometry(memoryview(shape), srid=TARGET_SRID) if shape else None
        rows.append(
            RawRow(
                line=number,
                values={str(k).strip().lower(): v for k, v in record.items()},
                geom=geom,
            )
        )
    return rows


def cell(row: RawRow, column: str) -> str:
    """The row's value of ``column`` as trimmed text ("" if absent or empty)."""
    return _text(row.values.get(column))
