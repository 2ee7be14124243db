"""The shape of a profile's analysis and document, as TypedDicts.

These describe plain JSON-serialisable dicts; they add no behaviour and change no
key. The same shape is built by ``profiles.analysis.profile_analysis_build``,
frozen into ``ProfileEdition.analysis_snapshot`` on adoption, read back for
adopted editions, returned by ``/api/profiles/editions/<id>/`` and rendered by
the templates and the PDF. A frozen edition keeps the shape it was adopted with,
so a key is only ever added, never renamed or removed, and readers of stored
snapshots use ``.get()`` for keys added later.

Dates are ISO strings (``"2024-12-31"``). A value's ``status`` says why there is
no number: ``suppressed`` an input is suppressed (statistical secrecy),
``below_min`` the unit's denominator is below the indicator's minimum (no value
is shown), ``missing`` there is no data; ``ok`` (also for estimated values).
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

IsoDate = str
ValueStatus = Literal["ok", "suppressed", "missing", "below_min"]
Direction = Literal["higher_better", "lower_better", "neutral"]
Trend = Literal["better", "worse", "same"]
MssStatus = Literal["hoch", "mittel", "niedrig", "sehr niedrig"]
MssDynamics = Literal["positiv", "stabil", "negativ"]


class RegionRef(TypedDict):
    code: str  # 6-digit Bezirksregion key
    name: str
    bezirk_code: str
    bezirk_name: str


class UnitRef(TypedDict):
    code: str
    name: str


class Facts(TypedDict):
    residents: int | None
    residents_status: ValueStatus
    area_km2: float
    density: float | None  # residents per km²
    planungsraeume: list[UnitRef]


class IndicatorRow(TypedDict):
    """One core indicator of the region, with its comparison values."""

    key: str
    code: str  # Handbuch code
    name: str
    unit: str
    direction: Direction
    date: IsoDate | None  # of the value used: the latest on or before ref_date
    value: float | None
    status: ValueStatus
    note: str  # why there is no value, German, may be ""
    district: float | None
    berlin: float | None
    # 1 = highest value among the district's Bezirksregionen with a value; ties
    # share a rank. rank_of: how many of them were ranked.
    rank: int | None
    rank_of: int
    previous: float | None  # value at the indicator's previous date
    previous_date: IsoDate | None
    # Percentage points for shares, per cent for quantities (as /api/values/?compare=).
    change: float | None
    trend: Trend | None  # None for neutral indicators or without a change
    # The value, or an end of the change, is estimated (converted from LOR 2006
    # across the LOR reform). Editions frozen before these keys lack them.
    estimated: NotRequired[bool]
    change_estimated: NotRequired[bool]


class ThemeSection(TypedDict):
    theme: str  # German label of the theme, frozen with the edition
    theme_key: str  # ProfileTheme value
    indicators: list[IndicatorRow]


class MapCell(TypedDict):
    value: float | None
    status: ValueStatus


class IndicatorMap(TypedDict):
    """One indicator over the region's Planungsräume."""

    key: str
    name: str
    unit: str
    date: IsoDate | None
    values: dict[str, MapCell]  # Planungsraum key → cell


class SeriesEstimated(TypedDict):
    region: bool
    district: bool
    berlin: bool


class SeriesPoint(TypedDict):
    date: IsoDate
    region: float | None
    district: float | None
    berlin: float | None
    # Which of the three values are estimated (absent in older editions).
    estimated: NotRequired[SeriesEstimated]


class Series(TypedDict):
    key: str
    name: str
    unit: str
    points: list[SeriesPoint]


class AgeBand(TypedDict):
    band: str  # label in years: "3–4", "95+"
    key: str  # EWR variable: "E_E03_05"
    value: float | None  # persons in the band
    status: ValueStatus


class MssRow(TypedDict):
    """Published MSS classes (Monitoring Soziale Stadtentwicklung) of a Planungsraum."""

    code: str
    name: str
    status: MssStatus | None
    dynamics: MssDynamics | None
    status_index: str | None  # "1".."4"
    dynamics_index: str | None  # "1", "3" or "5"
    note: str


class FacilityCount(TypedDict):
    layer: str
    name: str
    count: int


class FacilityLayerCount(FacilityCount):
    """A facility count with its layer's citation (not kept in the analysis)."""

    source: str
    license: str


class ProfileAnalysis(TypedDict):
    """The generated analysis part of a Bezirksregion profile."""

    region: RegionRef
    ref_date: IsoDate | None
    previous_date: IsoDate | None
    facts: Facts
    themes: list[ThemeSection]
    maps: list[IndicatorMap]
    series: list[Series]
    age_structure: list[AgeBand]  # youngest first
    mss: list[MssRow]
    mss_date: IsoDate | None
    facilities: list[FacilityCount]
    sources: list[str]
    licenses: list[str]


# --- documents ------------------------------------------------------------------


class EditionFacts(TypedDict):
    id: int
    number: int
    status: str
    status_label: str
    ref_date: IsoDate | None  # the analysis's reference date
    adopted_on: IsoDate | None
    decision_reference: str
    title: str
    region_code: str
    based_on: int | None  # the edition this one continues (Fortschreibung)


class MeasureEntry(TypedDict):
    id: int
    text: str
    department: str
    status: str
    status_label: str
    due: IsoDate | None


class GoalEntry(TypedDict):
    id: int
    origin: int | None  # the goal of the previous edition this one copies
    theme: str
    theme_label: str
    text: str
    department: str
    priority: str
    priority_label: str
    status: str
    status_label: str
    indicators: list[str]  # indicator keys
    measures: list[MeasureEntry]


class AssessmentEntry(TypedDict):
    id: int
    department: str
    text: str


class ProfileDocument(TypedDict):
    """An edition (or, without an adopted one, the generated analysis) as a whole."""

    edition: EditionFacts | None
    analysis: ProfileAnalysis
    goals: list[GoalEntry]
    assessments: list[AssessmentEntry]


# --- comparison of two editions -------------------------------------------------


class IndicatorComparison(TypedDict):
    theme: str
    key: str
    name: str
    unit: str
    old: float | None
    old_status: str
    old_date: IsoDate | None
    new: float | None
    new_status: str
    new_date: IsoDate | None
    difference: float | None


class GoalChange(TypedDict):
    old: GoalEntry
    new: GoalEntry
    fields: list[str]  # names of the goal fields that differ, or "measures"


class GoalComparison(TypedDict):
    added: list[GoalEntry]
    removed: list[GoalEntry]
    changed: list[GoalChange]
    unchanged: list[GoalEntry]


class ResidentsComparison(TypedDict):
    residents_old: int | None
    residents_new: int | None


class ProfileComparison(TypedDict):
    old: ProfileDocument
    new: ProfileDocument
    facts: ResidentsComparison
    indicators: list[IndicatorComparison]
    goals: GoalComparison
