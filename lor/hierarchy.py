"""The LOR hierarchy: levels, key lengths and how keys nest, per LOR scheme.

Every other module reads these facts from here instead of restating them.

Rules:

* Levels, coarse to fine: Berlin → Bezirk → Prognoseraum → Bezirksregion →
  Planungsraum. Each level but Berlin has exactly one parent level, the one
  before it. Custom areas (``LorUnit.Level.CUSTOM``) are outside the hierarchy.
* A unit's key has a fixed number of digits per level, and it starts with its
  parent's key, so the whole chain of ancestors can be read off the key alone:
  the ancestor at a level is the key's first ``key_length(level)`` digits.
* Berlin's key is the Amtlicher Gemeindeschlüssel, under which the AfS publishes
  Berlin totals. It is no prefix of other keys: every key is inside Berlin, so
  Berlin's prefix is the empty string.
* Facts that differ between LOR schemes (Berlin's key, the key lengths) live in
  one ``LorScheme`` per scheme; LOR 2021 is the default everywhere, LOR 2006
  (until 2020) is kept beside it for time series across the reform.

Functions here are pure: no database, no settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Final

BERLIN: Final = "berlin"
BEZIRK: Final = "bezirk"
PROGNOSERAUM: Final = "prognoseraum"
BEZIRKSREGION: Final = "bezirksregion"
PLANUNGSRAUM: Final = "planungsraum"

# Coarse to fine; a level's parent is the one before it.
LEVELS: Final[tuple[str, ...]] = (
    BERLIN,
    BEZIRK,
    PROGNOSERAUM,
    BEZIRKSREGION,
    PLANUNGSRAUM,
)
# The levels Berlin is divided into, which maps and pickers offer.
LEVELS_BELOW_BERLIN: Final[tuple[str, ...]] = LEVELS[1:]


@dataclass(frozen=True)
class LorScheme:
    """What differs between LOR schemes: their name, Berlin's key, key lengths."""

    name: str  # the value stored in ``LorUnit.scheme``
    berlin_key: str
    # Digits of a key per level below Berlin.
    key_lengths: Mapping[str, int]


LOR_2021: Final = LorScheme(
    name="LOR 2021",
    berlin_key="11000000",
    key_lengths=MappingProxyType(
        {BEZIRK: 2, PROGNOSERAUM: 4, BEZIRKSREGION: 6, PLANUNGSRAUM: 8}
    ),
)
# The scheme in force until 31.12.2020 (448 Planungsräume, 138 Bezirksregionen,
# 60 Prognoseräume). Its keys have the same lengths (BB PP RR LL: Bezirk 2,
# Prognoseraum 4, Bezirksregion 6 digits) but name other areas: 01011101 is
# Stülerstraße in 2006, 01100101 in 2021. Keys are only meaningful per scheme.
LOR_2006: Final = LorScheme(
    name="LOR 2006",
    berlin_key="11000000",
    key_lengths=MappingProxyType(
        {BEZIRK: 2, PROGNOSERAUM: 4, BEZIRKSREGION: 6, PLANUNGSRAUM: 8}
    ),
)
SCHEMES: Final[Mapping[str, LorScheme]] = MappingProxyType(
    {LOR_2021.name: LOR_2021, LOR_2006.name: LOR_2006}
)

# How a scheme is named in query strings (``?scheme=lor2006``); LOR 2021 is the
# default wherever none is given.
SCHEME_PARAMS: Final[Mapping[str, str]] = MappingProxyType(
    {"lor2021": LOR_2021.name, "lor2006": LOR_2006.name}
)
DEFAULT_SCHEME_PARAM: Final = "lor2021"

# The LOR reform: LOR 2021 is in force from 1.1.2021, so 31.12.2020 is the last
# reference date delivered in LOR 2006. Values of earlier dates shown on LOR 2021
# units are converted by the crosswalk (status ``estimated``); charts mark the
# reform between these two days.
LOR_2006_LAST_DATE: Final = date(2020, 12, 31)
LOR_REFORM_DATE: Final = date(2021, 1, 1)

# The default scheme's facts, for the many callers that only know LOR 2021.
BERLIN_KEY: Final = LOR_2021.berlin_key
KEY_LENGTH: Final = LOR_2021.key_lengths


def scheme_of_param(param: str) -> str:
    """The scheme name (``LorUnit.scheme``) of a query-string name; KeyError if none."""
    return SCHEME_PARAMS[param]


def before_reform(ref_date: date) -> bool:
    """True for reference dates of the old scheme (up to 31.12.2020)."""
    return ref_date < LOR_REFORM_DATE


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"{level!r} is no level of the LOR hierarchy")


def level_index(level: str) -> int:
    """Depth of the level: 0 for Berlin, 4 for Planungsraum; ValueError otherwise."""
    _check_level(level)
    return LEVELS.index(level)


def parent_level(level: str) -> str | None:
    """The next coarser level (None for Berlin); ValueError for a non-LOR level."""
    index = level_index(level)
    return LEVELS[index - 1] if index > 0 else None


def child_level(level: str) -> str | None:
    """The next finer level (None for Planungsraum); ValueError for a non-LOR level."""
    index = level_index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def levels_above(level: str) -> list[str]:
    """The coarser levels, nearest first (Planungsraum: Bezirksregion … Berlin)."""
    return list(reversed(LEVELS[: level_index(level)]))


def finest_level(levels: Iterable[str]) -> str | None:
    """The finest LOR level among ``levels``; None if none is one (custom is not)."""
    present = set(levels)
    return next((level for level in reversed(LEVELS) if level in present), None)


def key_length(level: str, *, scheme: LorScheme = LOR_2021) -> int:
    """Digits of a key at a level below Berlin; ValueError for Berlin or non-LOR."""
    _check_level(level)
    if level == BERLIN:
        raise ValueError("Berlin's key is no prefix; use scheme.berlin_key")
    return scheme.key_lengths[level]


def level_of_key(key: str, *, scheme: LorScheme = LOR_2021) -> str | None:
    """The level a key names, read off its length; None if it is no LOR key.

    Berlin's key wins over the length rule (it has a Planungsraum's length).
    """
    if key == scheme.berlin_key:
        return BERLIN
    if not key.isdigit():
        return None
    for level, length in scheme.key_lengths.items():
        if len(key) == length:
            return level
    return None


def key_prefix(key: str, level: str, *, scheme: LorScheme = LOR_2021) -> str:
    """The first digits of ``key`` that name its unit at ``level``; '' at Berlin.

    Every key of a unit inside that unit starts with the result. Like slicing,
    a key shorter than the level's length comes back whole.
    """
    _check_level(level)
    if level == BERLIN:
        return ""
    return key[: scheme.key_lengths[level]]


def ancestor_key(key: str, level: str, *, scheme: LorScheme = LOR_2021) -> str:
    """The key of the unit at ``level`` that contains ``key`` (Berlin: its key)."""
    if level == BERLIN:
        return scheme.berlin_key
    return key_prefix(key, level, scheme=scheme)


def parent_key(key: str, *, scheme: LorScheme = LOR_2021) -> str | None:
    """The key of the unit directly above (None for Berlin); ValueError if no key."""
    level = level_of_key(key, scheme=scheme)
    if level is None:
        raise ValueError(f"{key!r} is no key of {scheme.name}")
    parent = parent_level(level)
    return None if parent is None else ancestor_key(key, parent, scheme=scheme)


def descendant_prefix(key: str, level: str) -> str:
    """The prefix every descendant's key starts with: '' for Berlin, else the key."""
    return "" if level == BERLIN else key
