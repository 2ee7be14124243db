"""The delivery formats PRISMA reads, in the order detection tries them.

Each format names its import kind, its parser, the file extensions that are
always this format, and a test on the header of a text file. Detection
(``datapool.parsers.detect``) walks ``FORMATS``; the import looks the parser up
by the run's kind. A new format is one module and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..models import ImportRun
from .contract import Parser
from .crime_atlas import looks_like_crime_atlas, parse_crime_atlas
from .ewr import looks_like_ewr, parse_ewr
from .gssa import looks_like_gssa, parse_gssa
from .mss import looks_like_mss, parse_mss
from .points import SUFFIXES as POINT_SUFFIXES
from .points import looks_like_points, parse_points
from .population import looks_like_population, parse_population
from .table import SUFFIXES as TABLE_SUFFIXES
from .table import parse_table

# header, file name -> whether the file is of this format
Recogniser = Callable[[list[str], str], bool]


@dataclass(frozen=True)
class DeliveryFormat:
    """One kind of file the Datenpool imports."""

    kind: str
    parse: Parser
    suffixes: frozenset[str] = frozenset()
    recognises: Recogniser | None = None


FORMATS: tuple[DeliveryFormat, ...] = (
    DeliveryFormat(ImportRun.Kind.EWR, parse_ewr, recognises=looks_like_ewr),
    DeliveryFormat(ImportRun.Kind.MSS, parse_mss, recognises=looks_like_mss),
    DeliveryFormat(ImportRun.Kind.GSSA, parse_gssa, recognises=looks_like_gssa),
    DeliveryFormat(
        ImportRun.Kind.CRIME_ATLAS,
        parse_crime_atlas,
        recognises=looks_like_crime_atlas,
    ),
    DeliveryFormat(
        ImportRun.Kind.POPULATION, parse_population, recognises=looks_like_population
    ),
    DeliveryFormat(
        ImportRun.Kind.POINTS,
        parse_points,
        suffixes=POINT_SUFFIXES,
        recognises=looks_like_points,
    ),
    DeliveryFormat(ImportRun.Kind.TABLE, parse_table, suffixes=TABLE_SUFFIXES),
)
# When in doubt a file is a generic table: the user maps its columns.
FALLBACK_KIND: str = ImportRun.Kind.TABLE


def parser_for(kind: str) -> Parser:
    """The parser of an import kind; ``KeyError`` for kinds without a file."""
    for delivery_format in FORMATS:
        if delivery_format.kind == kind:
            return delivery_format.parse
    raise KeyError(kind)


def parser_kinds() -> set[str]:
    """The import kinds that read a file."""
    return {delivery_format.kind for delivery_format in FORMATS}
