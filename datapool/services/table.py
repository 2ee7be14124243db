"""Parser of generic tables (CSV/XLSX): one key column, one column per variable."""

from __future__ import annotations

from pathlib import Path

from .parsing import ImportValidationError, ParsedDelivery, Problem, ProgressCallback


def parse_table(
    path: Path,
    *,
    file_name: str,
    options: dict,
    progress: ProgressCallback | None = None,
) -> ParsedDelivery:
    raise ImportValidationError(
        [Problem("Tabellenimport noch nicht verfügbar.", file_name)]
    )
