"""Which parser fits a file: by its name, extension and header."""

from __future__ import annotations

from pathlib import Path

from ..models import ImportRun
from .ewr import looks_like_ewr
from .mss import looks_like_mss
from .parsing import ImportValidationError, decode_text, read_csv_rows, sniff_delimiter

POINT_EXTENSIONS = {".geojson", ".json", ".gpkg", ".zip", ".shp"}
TABLE_EXTENSIONS = {".xlsx", ".xlsm"}
COORDINATE_PAIRS = [
    ("x", "y"),
    ("lon", "lat"),
    ("longitude", "latitude"),
    ("rechtswert", "hochwert"),
]


def detect_kind(path: Path, file_name: str) -> str:
    """Best guess of the import kind; table when in doubt (the user maps columns)."""
    suffix = Path(file_name).suffix.lower()
    if suffix in POINT_EXTENSIONS:
        return ImportRun.Kind.POINTS
    if suffix in TABLE_EXTENSIONS:
        return ImportRun.Kind.TABLE
    try:
        text = decode_text(path.read_bytes()[:65536], file_name)
        header, _ = read_csv_rows(
            text.split("\n", 1)[0], sniff_delimiter(text, file_name)
        )
    except ImportValidationError:
        return ImportRun.Kind.TABLE
    if looks_like_ewr(header, file_name):
        return ImportRun.Kind.EWR
    if looks_like_mss(header):
        return ImportRun.Kind.MSS
    lowered = {h.lower() for h in header}
    if any({a, b} <= lowered for a, b in COORDINATE_PAIRS):
        return ImportRun.Kind.POINTS
    return ImportRun.Kind.TABLE
