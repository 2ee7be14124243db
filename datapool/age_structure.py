"""The age bands of the Einwohnerregister (EWR) variable catalogue.

The EWR matrix delivers residents (``E_E``) in 32 age bands ``E_E<low>_<high>``:
``low`` is the first year of age in the band, ``high`` the first year after it
(``E_E03_05`` = aged 3 and 4), and the last band is open (``E_E95_110`` = 95 and
older). The bands do not overlap and cover every age, so they sum to ``E_E``.

The half-yearly population tables (``datapool.parsers.population``) deliver
only eight coarser bands ``E_E<low>U<high>`` (``E_EU6`` = under 6,
``E_E65U110`` = 65 and older). On EWR dates these are derived as harmonised
sums of the fine bands (``variable_components.csv``), so every date with any
bands has the coarse set; a chart shows the finest set a date has complete and
never mixes sets (``BAND_SETS``, finest first).
"""

from __future__ import annotations

import re

RESIDENTS = "E_E"
AGE_BANDS = [
    "E_E00_01",
    "E_E01_02",
    "E_E02_03",
    "E_E03_05",
    "E_E05_06",
    "E_E06_07",
    "E_E07_08",
    "E_E08_10",
    "E_E10_12",
    "E_E12_14",
    "E_E14_15",
    "E_E15_18",
    "E_E18_21",
    "E_E21_25",
    "E_E25_27",
    "E_E27_30",
    "E_E30_35",
    "E_E35_40",
    "E_E40_45",
    "E_E45_50",
    "E_E50_55",
    "E_E55_60",
    "E_E60_63",
    "E_E63_65",
    "E_E65_67",
    "E_E67_70",
    "E_E70_75",
    "E_E75_80",
    "E_E80_85",
    "E_E85_90",
    "E_E90_95",
    "E_E95_110",
]
HALF_YEAR_BANDS = [
    "E_EU6",
    "E_E6U15",
    "E_E15U18",
    "E_E18U27",
    "E_E27U45",
    "E_E45U55",
    "E_E55U65",
    "E_E65U110",
]
# Finest first: a chart takes the first set whose bands all have the date.
BAND_SETS = (AGE_BANDS, HALF_YEAR_BANDS)
# The open last band counts as reaching 100 when a width is needed.
OPEN_BAND_END = 100


_FINE_KEY = re.compile(r"^E_E(\d{2})_(\d{2,3})$")
_COARSE_KEY = re.compile(r"^E_E(\d*)U(\d{1,3})$")


def _bounds(key: str) -> tuple[int, int]:
    """(first year, first year after) of either key form: E_E03_05, E_E6U15."""
    match = _FINE_KEY.match(key) or _COARSE_KEY.match(key)
    if match is None:
        raise ValueError(f"not an age band key: {key!r}")
    low, high = match.groups()
    return int(low or 0), int(high)


def age_band_label(key: str) -> str:
    """'E_E03_05' → '3–4', 'E_E00_01' → '0', 'E_E95_110' → '95+', 'E_EU6' → '0–5'."""
    low, high = _bounds(key)
    if high >= 110:
        return f"{low}+"
    return str(low) if high - low == 1 else f"{low}–{high - 1}"


def age_band_width(key: str) -> int:
    """Years of age in the band (the open last band as if it ended at 100)."""
    low, high = _bounds(key)
    return min(high, OPEN_BAND_END) - low


def age_band_start(key: str) -> int:
    """The first year of age in the band: 'E_E03_05' → 3."""
    return _bounds(key)[0]
