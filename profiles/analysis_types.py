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
    # Converted from LOR 2006 (a date before the reform); editions stored
    # before this field existed lack it.
    estimated: NotRequired[bool]


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


# --- chapter "Soziale Infrastruktur" (profiles.chapters) --------------------------


class SupplyFigures(TypedDict):
    """A unit's supply by one method, as published (``VS_<RULE>_*``)."""

    supply: float | None  # in the facility type's unit
    grade: float | None  # Versorgungsgrad in % (supply / need × 100)
    deficit: float | None  # Fehlbedarf, sum of the Planungsräume' deficits


class SupplyRow(TypedDict):
    level: str  # bezirksregion, bezirk, berlin or planungsraum
    code: str
    name: str
    need: float | None  # Bedarf = demand × Richtwert
    status: ValueStatus  # of the need (suppressed or missing demand)
    methods: dict[str, SupplyFigures]  # "grenzen" / "2sfca" → figures


class SupplyRuleChapter(TypedDict):
    """One supply rule (facility type vs Richtwert) in the region."""

    key: str
    name: str
    facility_type: str
    facility_type_name: str
    unit: str  # capacity unit of the type
    demand_label: str
    demand_formula: str
    richtwert: float
    richtwert_unit: str
    richtwert_source: str
    richtwert_is_assumption: bool
    catchment_m: int
    catchment_source: str
    min_capacity: float | None
    date: IsoDate | None  # of the published values used
    variables: dict[str, str]  # role → Datenpool key
    comparison: list[SupplyRow]  # region, its Bezirk, Berlin
    planungsraeume: list[SupplyRow]


class FacilityTypeEntry(TypedDict):
    key: str
    name: str
    unit: str
    count: int  # facilities of the type in the region
    source: str
    license: str


class FacilityEntry(TypedDict):
    """A facility of the register in the region (in the stock on the date)."""

    type: str
    type_name: str
    name: str
    capacity: float | None
    unit: str
    operator: str
    status: str
    status_label: str
    planungsraum: str
    x: float | None  # EPSG:25833; None: only its Planungsraum is known
    y: float | None


class MethodRef(TypedDict):
    key: str  # "grenzen" or "2sfca"
    label: str


class InfrastructureChapter(TypedDict):
    date: IsoDate | None  # of the facility stock
    methods: list[MethodRef]
    rules: list[SupplyRuleChapter]
    facility_types: list[FacilityTypeEntry]
    facilities: list[FacilityEntry]
    sources: list[str]


# --- chapter "Fördermittel" (profiles.chapters) ------------------------------


class FundingComparisonRow(TypedDict):
    """Euros of all years in a unit, as ``funding.selectors.funding_by_unit``."""

    level: str  # bezirksregion, bezirk or berlin
    code: str
    name: str
    residents: float | None
    approved: float
    paid: float
    approved_per_resident: float | None
    paid_per_resident: float | None


class FundingProgrammeEntry(TypedDict):
    key: str
    name: str
    funder: str
    period: str
    is_example: bool
    projects: int  # projects in the region
    approved: float | None  # the region's share, all years (None: not shown)
    paid: float | None


class FundingAreaEntry(TypedDict):
    key: str
    name: str
    programme: str
    valid_from: IsoDate | None
    valid_to: IsoDate | None
    is_example: bool
    planungsraeume: list[str]  # its Planungsräume in the region


class FundingProjectEntry(TypedDict):
    id: int
    number: str
    title: str
    programme: str
    area: str
    planungsraum: str
    sponsor: str
    field_of_action: str
    start: IsoDate | None
    end: IsoDate | None
    status: str
    status_label: str
    is_example: bool
    whole_area: bool  # an area project: its amounts cover the whole area
    years: str
    approved: float | None  # whole project, all years (None: not shown)
    paid: float | None
    region_share: float  # share of its amounts counted in the region (0..1)


class FundingChapter(TypedDict):
    amounts_visible: bool  # False: every amount removed for the viewer
    residents_date: IsoDate | None  # of the residents per-resident values use
    years: list[int]
    comparison: list[FundingComparisonRow]  # region, Bezirk, Berlin; [] if hidden
    programmes: list[FundingProgrammeEntry]
    areas: list[FundingAreaEntry]
    projects: list[FundingProjectEntry]
    has_examples: bool
    example_note: str
    distribution_note: str
    sources: list[str]


class ProfileAnalysis(TypedDict):
    """The generated analysis part of a Bezirksregion profile.

    ``infrastructure`` and ``funding`` were added later: older snapshots lack
    them (read with ``.get()``).
    """

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
    infrastructure: NotRequired[InfrastructureChapter]
    funding: NotRequired[FundingChapter]


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


class ProjectRef(TypedDict):
    """A funding project linked to a measure."""

    id: int
    number: str
    title: str
    programme: str
    is_example: bool


class MeasureEntry(TypedDict):
    id: int
    text: str
    department: str
    status: str
    status_label: str
    due: IsoDate | None
    funding_projects: list[ProjectRef]


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
