"""How much of a table PRISMA reads: unpacked bytes, rows, columns and cells.

A delivery is read in a worker, never in a request; but a worker too must not
spend minutes or gigabytes on one file. Every limit is a setting
(``PRISMA_TABLE_MAX_COLUMNS``, ``…_MAX_ROWS``, ``…_MAX_CELLS``,
``…_MAX_UNPACKED_BYTES``; docs/operations.md, "Limits") and is checked before
the data is held in memory:

- A workbook (XLSX) is a zip archive. Its central directory declares the
  uncompressed size of every part; ``zipfile`` never inflates a part beyond its
  declared size (it cuts the stream there and the checksum fails), so the
  declared sizes bound what openpyxl can read. They are checked, in total and
  per worksheet, before openpyxl opens the file: a zip bomb is refused unread.
- A CSV file is counted record by record without keeping the records; only a
  table within the limits is then read.
- The rows of a worksheet are counted while openpyxl streams them (its stored
  dimensions may lie, and a row numbered 40,000,000 makes it produce every empty
  row before it), and reading stops at the first limit passed.

A refused table is an ``ImportValidationError`` whose German message names the
limit, so the import report and the mapping page explain it like any other
problem of the file.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from django.conf import settings

from .contract import ImportValidationError, Problem

# A workbook has a few dozen parts; thousands are a way to make zipfile allocate
# an entry for each before anything else could be checked.
MAX_ZIP_ENTRIES = 10_000
_END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"
_ZIP_TAIL = 22 + 65535  # the end record and its longest comment


@dataclass(frozen=True)
class TableLimits:
    max_columns: int
    max_rows: int
    max_cells: int
    max_unpacked_bytes: int


def table_limits() -> TableLimits:
    """The limits in force (settings PRISMA_TABLE_MAX_*)."""
    return TableLimits(
        max_columns=settings.PRISMA_TABLE_MAX_COLUMNS,
        max_rows=settings.PRISMA_TABLE_MAX_ROWS,
        max_cells=settings.PRISMA_TABLE_MAX_CELLS,
        max_unpacked_bytes=settings.PRISMA_TABLE_MAX_UNPACKED_BYTES,
    )


def number(n: int) -> str:
    """An integer the German way (1.000.000)."""
    return f"{n:,}".replace(",", ".")


def size(n: int) -> str:
    """A byte count for people (3 GB, 12,5 MB, 800 KB)."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= factor:
            shown = f"{n / factor:.1f}".removesuffix(".0").replace(".", ",")
            return f"{shown} {unit}"
    return f"{n} Bytes"


def _refuse(message: str, file_name: str, line: int | None = None) -> NoReturn:
    raise ImportValidationError([Problem(message, file_name, line=line)])


def refuse_columns(
    count: int, limits: TableLimits, file_name: str, line: int | None = None
) -> NoReturn:
    _refuse(
        f"Die Tabelle hat {number(count)} Spalten; PRISMA liest höchstens "
        f"{number(limits.max_columns)} Spalten je Datei.",
        file_name,
        line,
    )


def refuse_rows(
    count: int, limits: TableLimits, file_name: str, *, exact: bool
) -> NoReturn:
    more = "" if exact else "mehr als "
    _refuse(
        f"Die Tabelle hat {more}{number(count)} Zeilen; PRISMA liest höchstens "
        f"{number(limits.max_rows)} Zeilen je Datei.",
        file_name,
    )


def refuse_cells(
    count: int, limits: TableLimits, file_name: str, *, exact: bool
) -> NoReturn:
    more = "" if exact else "mehr als "
    _refuse(
        f"Die Tabelle hat {more}{number(count)} Zellen; PRISMA liest höchstens "
        f"{number(limits.max_cells)} Zellen je Datei.",
        file_name,
    )


def file_check_size(path: Path, file_name: str, limits: TableLimits) -> None:
    """A file larger than the unpacked limit is refused before it is read."""
    try:
        length = path.stat().st_size
    except OSError:
        return  # reading it reports the problem in its own words
    if length > limits.max_unpacked_bytes:
        _refuse(
            f"Die Datei ist {size(length)} groß; PRISMA liest höchstens "
            f"{size(limits.max_unpacked_bytes)} je Datei.",
            file_name,
        )


def csv_check(text: str, delimiter: str, file_name: str, limits: TableLimits) -> None:
    """Count rows, columns and cells of a CSV text one record at a time."""
    # A physical line without quotes has exactly one field more than delimiters:
    # the hostile case (a million columns) is refused without parsing the line.
    for number_, line in enumerate(io.StringIO(text, newline=""), start=1):
        if '"' not in line:
            fields = line.count(delimiter) + 1
            if fields > limits.max_columns:
                refuse_columns(fields, limits, file_name, line=number_)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = cells = header_cells = 0
    try:
        for record in reader:
            if len(record) > limits.max_columns:
                refuse_columns(len(record), limits, file_name, line=reader.line_num)
            if not rows:
                header_cells = len(record)
            rows += 1
            cells += len(record)
    except csv.Error:
        return  # reading the table reports the broken line, located
    if rows:  # the header is no data row
        rows, cells = rows - 1, cells - header_cells
    if rows > limits.max_rows:
        refuse_rows(rows, limits, file_name, exact=True)
    if cells > limits.max_cells:
        refuse_cells(cells, limits, file_name, exact=True)


def workbook_check(path: Path, file_name: str, limits: TableLimits) -> None:
    """Refuse a workbook whose parts unpack beyond the limit, before opening it."""
    entries = _zip_entry_count(path)
    if entries is not None and entries > MAX_ZIP_ENTRIES:
        _refuse(
            f"Die Arbeitsmappe besteht aus {number(entries)} Teilen; PRISMA liest "
            f"höchstens {number(MAX_ZIP_ENTRIES)} (beschädigt oder keine "
            "Excel-Datei?).",
            file_name,
        )
    try:
        with zipfile.ZipFile(path) as archive:
            parts = [(info.filename, info.file_size) for info in archive.infolist()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl reports a broken workbook in its own words
    total = sum(length for _name, length in parts)
    if total <= limits.max_unpacked_bytes:
        return
    name, largest = max(parts, key=lambda part: part[1])
    what = (
        "Tabellenblatt"
        if name.startswith("xl/worksheets/")
        else "gemeinsame Texte"
        if name == "xl/sharedStrings.xml"
        else "Teil"
    )
    _refuse(
        f"Die Arbeitsmappe ist entpackt {size(total)} groß ({what} {name}: "
        f"{size(largest)}); PRISMA liest höchstens "
        f"{size(limits.max_unpacked_bytes)} je Datei. Bitte nur die benötigten "
        "Daten als eigene Datei speichern.",
        file_name,
    )


def _zip_entry_count(path: Path) -> int | None:
    """The number of parts the end record declares, read without zipfile."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, io.SEEK_END)
            length = fh.tell()
            fh.seek(max(0, length - _ZIP_TAIL))
            tail = fh.read()
    except OSError:
        return None
    at = tail.rfind(_END_OF_CENTRAL_DIRECTORY)
    if at < 0 or len(tail) - at < 22:
        return None
    (total,) = struct.unpack("<H", tail[at + 10 : at + 12])
    # 0xFFFF defers to a zip64 record: more parts than any workbook has.
    return MAX_ZIP_ENTRIES + 1 if total == 0xFFFF else total


class SheetCounter:
    """Counts the rows and cells of a streamed worksheet; refuses past a limit."""

    def __init__(self, limits: TableLimits, file_name: str):
        self.limits = limits
        self.file_name = file_name
        self.rows = 0
        self.cells = 0

    def row(self, width: int) -> None:
        """One more row (empty ones too) of ``width`` cells."""
        self.rows += 1
        if width > self.limits.max_columns:
            refuse_columns(width, self.limits, self.file_name, line=self.rows)
        # The header row is counted too: it is read like any other.
        if self.rows > self.limits.max_rows + 1:
            refuse_rows(self.limits.max_rows, self.limits, self.file_name, exact=False)
        self.cells += width
        if self.cells > self.limits.max_cells:
            refuse_cells(
                self.limits.max_cells, self.limits, self.file_name, exact=False
            )
