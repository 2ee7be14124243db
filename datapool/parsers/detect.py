"""Which format a file has: by its extension, then by its header."""

from __future__ import annotations

from pathlib import Path

from .contract import ImportValidationError, decode_text, read_csv_rows, sniff_delimiter
from .registry import FALLBACK_KIND, FORMATS

HEAD_BYTES = 65536


def detect_kind(path: Path, file_name: str) -> str:
    """Best guess of the import kind; table when in doubt (the user maps columns)."""
    with path.open("rb") as fh:
        return detect_kind_of_head(fh.read(HEAD_BYTES), file_name)


def detect_kind_of_head(head: bytes, file_name: str) -> str:
    """The same guess from the first bytes of a file (an upload not yet stored)."""
    suffix = Path(file_name).suffix.lower()
    for delivery_format in FORMATS:
        if suffix in delivery_format.suffixes:
            return delivery_format.kind
    try:
        text = decode_text(head[:HEAD_BYTES], file_name)
        header, _ = read_csv_rows(
            text.split("\n", 1)[0], sniff_delimiter(text, file_name)
        )
    except ImportValidationError:
        return FALLBACK_KIND
    for delivery_format in FORMATS:
        if delivery_format.recognises and delivery_format.recognises(header, file_name):
            return delivery_format.kind
    return FALLBACK_KIND
