"""Reads of Bezirksregionenprofile: the generated analysis part.

Every number of the analysis comes from ``datapool.selectors.observation_values``,
the selector behind ``/api/values/``: shares are the stored indicator values
(summed numerator over summed denominator per unit), never averages of
Planungsraum shares. Suppressed values stay ``None`` with status ``suppressed``.
The analysis is a plain JSON-serialisable dict, so an adopted edition can freeze
it as it was; its shape is ``profiles.analysis_types.ProfileAnalysis``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from itertools import chain
from typing import NamedTuple, cast

from django.conf import settings
from django.db.models import Count, Q
from django.utils import translation

from datapool.age_structure import BAND_SETS, RESIDENTS, age_band_label
from datapool.lineage import SourceCredit, variable_lineage
from datapool.models import Facility, Indicator, Observation, Variable
from datapool.selectors import (
    ValueRow,
    age_bands_at,
    datapool_version,
    facility_layer_public_list,
    observation_values,
    variable_dates,
)
from datapool.themes import ProfileTheme
from explorer.context import unit_ranks
from lor.hierarchy import BEZIRK, key_prefix
from lor.models import BERLIN_CODE, LorUnit

from .analysis_types import (
    AgeBand,
    Direction,
    FacilityLayerCount,
    Facts,
    IndicatorMap,
    IndicatorRow,
    MapCell,
    MssDynamics,
    MssRow,
    MssStatus,
    ProfileAnalysis,
    Series,
    SeriesPoint,
    ThemeSection,
    Trend,
    UnitRef,
    ValueStatus,
)
from .chapters import funding_chapter, infrastructure_chapter

# Indicators drawn as Planungsraum maps and as time series in every profile.
MAP_INDICATORS = (
    "KI_ANTEIL_U18",
    "KI_ANTEIL_65PLUS",
    "KI_ANTEIL_AUSL",
    "KI_ARBEITSLOSE",
    "KI_KINDERARMUT",
)
SERIES_VARIABLES = (RESIDENTS, "KI_ANTEIL_U18", "KI_ANTEIL_65PLUS", "KI_ANTEIL_AUSL")
MSS_STATUS = "MSS_SI_N"
MSS_DYNAMICS = "MSS_DI_N"
MSS_STATUS_LABELS: dict[int, MssStatus] = {
    1: "hoch",
    2: "mittel",
    3: "niedrig",
    4: "sehr niedrig",
}
MSS_DYNAMICS_LABELS: dict[int, MssDynamics] = {1: "positiv", 3: "stabil", 5: "negativ"}
DIRECTIONS: dict[str, Direction] = {
    Indicator.Direction.HIGHER_BETTER: "higher_better",
    Indicator.Direction.HIGHER_WORSE: "lower_better",
    Indicator.Direction.NEUTRAL: "neutral",
}


# Rows of a whole level (all 143 Bezirksregionen, all 542 Planungsräume, the
# districts, Berlin) are the same for every profile; a batch of 143 PDFs asked
# for them 143 times. They are kept per process for one state of the Datenpool:
# the key is ``datapool_version()`` (a finished import or indicator run changes
# it) plus the highest observation id, so no number outlives an import.
_SHARED_LOCK = threading.Lock()
_SHARED: dict = {"key": None, "rows": {}, "dates": {}}
# A bound on the memo: a full profile needs some 200 (variable, level, date) rows.
SHARED_MAX_ENTRIES = 2000


def _data_key() -> tuple:
    latest = Observation.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (*datapool_version(), latest)


def _shared_store() -> dict:
    """The process-wide memo of the current Datenpool state (reset on a change)."""
    key = _data_key()
    with _SHARED_LOCK:
        if _SHARED["key"] != key or (
            len(_SHARED["rows"]) + len(_SHARED["dates"]) > SHARED_MAX_ENTRIES
        ):
            _SHARED.update(key=key, rows={}, dates={})
        return _SHARED


def profile_memo_clear() -> None:
    """Forget the memoised level rows (tests; the key makes it unnecessary)."""
    with _SHARED_LOCK:
        _SHARED.update(key=None, rows={}, dates={})


class UnitValue(NamedTuple):
    """A unit's value as the profile shows it: ``None`` unless the status is ok."""

    value: float | None
    status: ValueStatus


class _Values:
    """Memoised ``observation_values`` by (variable, level, date) → {code: row}.

    With ``store`` (see ``_shared_store``) the rows are shared by every profile
    built in this process for the same Datenpool state; the rows are read only.
    """

    def __init__(self, store: dict | None = None) -> None:
        self._cache: dict = {} if store is None else store["rows"]
        self._dates: dict = {} if store is None else store["dates"]

    def rows(self, variable: Variable, level: str, ref_date: date | None) -> dict:
        if ref_date is None:
            return {}
        key = (variable.pk, level, ref_date)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = {
                r.code: r
                for r in observation_values(
                    variable=variable, level=level, ref_date=ref_date
                )
            }
        return found

    def dates(self, variable: Variable, level: str) -> list[date]:
        key = (variable.pk, level)
        found = self._dates.get(key)
        if found is None:
            found = self._dates[key] = variable_dates(variable=variable, level=level)
        return found

    def estimated(self, variable, level, ref_date, code) -> bool:
        """True if the unit's value there is estimated (converted from LOR 2006)."""
        row = self.rows(variable, level, ref_date).get(code)
        return row is not None and row.value is not None and row.status == "estimated"

    def value(self, variable, level, ref_date, code) -> UnitValue:
        row = self.rows(variable, level, ref_date).get(code)
        if row is None:
            return UnitValue(None, "missing")
        return UnitValue(
            None if row.value is None else float(row.value), _status(row.status)
        )


def _status(status: str) -> ValueStatus:
    # Estimated values are shown like any other; the rest say why there is none.
    return "ok" if status in ("ok", "estimated") else cast(ValueStatus, status)


def _date_at_or_before(dates: list[date], ref_date: date) -> date | None:
    earlier = [d for d in dates if d <= ref_date]
    return earlier[-1] if earlier else None


def _date_with_value(
    dates: list[date], ref_date: date | None, value_at: Callable[[date], UnitValue]
) -> date | None:
    """The latest date on or before ``ref_date`` at which the unit has a value.

    An indicator delivered less often (the MSS every two years) is shown with
    its last value and that value's date, not as "no data" at the newest
    date. Without any value, the latest date on or before ``ref_date``.
    """
    if ref_date is None:
        return None
    earlier = [d for d in dates if d <= ref_date]
    for d in reversed(earlier):
        if value_at(d).status != "missing":
            return d
    return earlier[-1] if earlier else None


def _previous(dates: list[date], current: date | None) -> date | None:
    if current is None:
        return None
    earlier = [d for d in dates if d < current]
    return earlier[-1] if earlier else None


def _trend(direction: Direction, change: float | None) -> Trend | None:
    if change is None or direction == "neutral":
        return None
    if abs(change) < 1e-9:
        return "same"
    up = change > 0
    return "better" if up == (direction == "higher_better") else "worse"


def profile_ref_dates() -> list[date]:
    """Reference dates of the residents (E_E) at Bezirksregion level, oldest first."""
    variable = Variable.objects.filter(key=RESIDENTS).first()
    if variable is None:
        return []
    return variable_dates(variable=variable, level=LorUnit.Level.BEZIRKSREGION)


def profile_analysis_build(
    *, region: LorUnit, ref_date: date | None = None
) -> ProfileAnalysis:
    """The generated analysis part of a Bezirksregion (latest EWR date when None).

    A JSON-serialisable dict whose shape ``ProfileAnalysis`` describes key by key.
    """
    bezirk = LorUnit.objects.get(
        scheme=LorUnit.Scheme.LOR_2021,
        level=LorUnit.Level.BEZIRK,
        code=key_prefix(region.code, BEZIRK),
    )
    dates = profile_ref_dates()
    if ref_date is None:
        ref_date = dates[-1] if dates else None
    previous_date = _previous(dates, ref_date)
    values = _Values(store=_shared_store())
    variables = {
        v.key: v
        for v in Variable.objects.filter(
            Q(key__in=[RESIDENTS, MSS_STATUS, MSS_DYNAMICS, *chain(*BAND_SETS)])
            | Q(indicator__is_core=True)
        )
    }
    # The variables whose values the profile shows; their credits (and those
    # of their inputs) are collected by lineage at the end.
    cited: list[Variable] = []

    def cite(variable: Variable | None) -> None:
        if variable is not None and variable not in cited:
            cited.append(variable)

    residents_var = variables.get(RESIDENTS)
    residents, residents_status = UnitValue(None, "missing")
    if residents_var is not None:
        residents, residents_status = values.value(
            residents_var, "bezirksregion", ref_date, region.code
        )
        cite(residents_var)
    area_km2 = region.area_m2 / 1e6
    planungsraeume = [
        UnitRef(code=code, name=name)
        for code, name in LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.PLANUNGSRAUM,
            code__startswith=region.code,
        )
        .order_by("code")
        .values_list("code", "name")
    ]
    facts: Facts = {
        "residents": None if residents is None else round(residents),
        "residents_status": residents_status,
        "area_km2": round(area_km2, 4),
        "density": None if residents is None else round(residents / area_km2, 1),
        "planungsraeume": planungsraeume,
    }

    themes = _themes(
        region=region,
        bezirk=bezirk,
        ref_date=ref_date,
        values=values,
        cite=cite,
    )
    indicator_by_key = {i["key"]: i for theme in themes for i in theme["indicators"]}
    maps: list[IndicatorMap] = []
    map_indicators = {
        i.variable.key: i
        for i in Indicator.objects.filter(
            variable__key__in=MAP_INDICATORS
        ).select_related("variable", "denominator")
    }
    for key in MAP_INDICATORS:
        variable = variables.get(key)
        entry = indicator_by_key.get(key)
        if variable is None or entry is None:
            continue
        map_date = (
            _date_at_or_before(values.dates(variable, "planungsraum"), ref_date)
            if ref_date
            else None
        )
        rows = values.rows(variable, "planungsraum", map_date)
        cells = {plr["code"]: _cell(rows.get(plr["code"])) for plr in planungsraeume}
        indicator = map_indicators.get(key)
        for code, cell in cells.items():
            if (
                cell["status"] == "missing"
                and map_date
                and indicator is not None
                and _below_minimum(indicator, code, map_date, values, "planungsraum")
            ):
                cell["status"] = "below_min"
        maps.append(
            {
                "key": key,
                "name": variable.name,
                "unit": variable.unit,
                "date": map_date.isoformat() if map_date else None,
                "values": cells,
            }
        )

    series: list[Series] = []
    for key in SERIES_VARIABLES:
        variable = variables.get(key)
        if variable is None:
            continue
        series_dates = [
            d
            for d in values.dates(variable, "bezirksregion")
            if ref_date is None or d <= ref_date
        ]
        points: list[SeriesPoint] = []
        for d in series_dates:
            points.append(
                {
                    "date": d.isoformat(),
                    "region": values.value(
                        variable, "bezirksregion", d, region.code
                    ).value,
                    "district": values.value(variable, "bezirk", d, bezirk.code).value,
                    "berlin": values.value(variable, "berlin", d, BERLIN_CODE).value,
                    "estimated": {
                        "region": values.estimated(
                            variable, "bezirksregion", d, region.code
                        ),
                        "district": values.estimated(
                            variable, "bezirk", d, bezirk.code
                        ),
                        "berlin": values.estimated(variable, "berlin", d, BERLIN_CODE),
                    },
                }
            )
        series.append(
            {"key": key, "name": variable.name, "unit": variable.unit, "points": points}
        )

    # The finest band set of the date (EWR or half-yearly tables), never mixed;
    # none on this date leaves the list empty and the page says so.
    age_keys = (
        age_bands_at(ref_date=ref_date, level=LorUnit.Level.BEZIRKSREGION)
        if ref_date
        else None
    ) or []
    age_structure: list[AgeBand] = []
    for key in age_keys:
        variable = variables.get(key)
        cite(variable)
        value, status = (
            values.value(variable, "bezirksregion", ref_date, region.code)
            if variable is not None
            else UnitValue(None, "missing")
        )
        estimated = variable is not None and values.estimated(
            variable, "bezirksregion", ref_date, region.code
        )
        age_structure.append(
            {
                "band": age_band_label(key),
                "key": key,
                "value": value,
                "status": status,
                "estimated": estimated,
            }
        )

    mss, mss_date = _mss(
        planungsraeume=planungsraeume, variables=variables, values=values, cite=cite
    )
    infrastructure, supply_variables = infrastructure_chapter(
        region=region,
        bezirk=bezirk,
        planungsraeume=planungsraeume,
        ref_date=ref_date,
        values=values,
    )
    for variable in supply_variables:
        cite(variable)
    facilities = profile_facility_counts(region=region)
    credits = variable_lineage(variables=cited)
    for layer in facilities:
        credit = SourceCredit(layer.get("source") or "", layer.get("license") or "")
        if credit.source and credit not in credits:
            credits.append(credit)
    return {
        "region": {
            "code": region.code,
            "name": region.name,
            "bezirk_code": bezirk.code,
            "bezirk_name": bezirk.name,
        },
        "ref_date": ref_date.isoformat() if ref_date else None,
        "previous_date": previous_date.isoformat() if previous_date else None,
        "facts": facts,
        "themes": themes,
        "maps": maps,
        "series": series,
        "age_structure": age_structure,
        "mss": mss,
        "mss_date": mss_date,
        "facilities": [
            {"layer": f["layer"], "name": f["name"], "count": f["count"]}
            for f in facilities
        ],
        # Each source with its licence; the LOR units' credit the renderer adds.
        "sources": [str(c) for c in credits],
        "licenses": list(dict.fromkeys(c.license for c in credits if c.license)),
        "infrastructure": infrastructure,
        "funding": funding_chapter(region=region, bezirk=bezirk),
    }


def _cell(row: ValueRow | None) -> MapCell:
    if row is None:
        return {"value": None, "status": "missing"}
    return {
        "value": None if row.value is None else float(row.value),
        "status": _status(row.status),
    }


def _themes(
    *,
    region: LorUnit,
    bezirk: LorUnit,
    ref_date: date | None,
    values: _Values,
    cite: Callable[[Variable | None], None],
) -> list[ThemeSection]:
    theme_order = {t: n for n, t in enumerate(ProfileTheme.values)}
    indicators = sorted(
        Indicator.objects.filter(is_core=True).select_related(
            "variable", "denominator"
        ),
        key=lambda i: (theme_order.get(i.theme, 99), i.sort_order, i.variable.key),
    )
    themes: list[ThemeSection] = []
    for ind in indicators:
        variable = ind.variable
        dates = values.dates(variable, "bezirksregion")
        current = _date_with_value(
            dates,
            ref_date,
            lambda d, v=variable: values.value(v, "bezirksregion", d, region.code),
        )
        # The change is measured from the latest earlier date with a value (an
        # indicator may skip a date; before 2021 the values are converted).
        before = _date_with_value(
            dates,
            _previous(dates, current),
            lambda d, v=variable: values.value(v, "bezirksregion", d, region.code),
        )
        value, status = values.value(variable, "bezirksregion", current, region.code)
        row = values.rows(variable, "bezirksregion", current).get(region.code)
        note = row.note if row is not None else ""
        if (
            status == "missing"
            and current
            and _below_minimum(ind, region.code, current, values)
        ):
            status = "below_min"
        district_rows = {
            code: r.value
            for code, r in values.rows(variable, "bezirksregion", current).items()
            if code.startswith(bezirk.code) and _status(r.status) == "ok"
        }
        ranks = unit_ranks(district_rows)
        previous = values.value(variable, "bezirksregion", before, region.code).value
        estimated = values.estimated(variable, "bezirksregion", current, region.code)
        previous_estimated = values.estimated(
            variable, "bezirksregion", before, region.code
        )
        change = None
        if value is not None and previous is not None:
            if ind.kind == Indicator.Kind.SHARE:
                change = value - previous
            elif previous != 0:
                change = (value / previous - 1) * 100
        direction = DIRECTIONS.get(ind.direction, "neutral")
        if value is not None:
            cite(variable)
        entry: IndicatorRow = {
            "key": variable.key,
            "code": ind.code,
            "name": variable.name,
            "unit": variable.unit,
            "direction": direction,
            "date": current.isoformat() if current else None,
            "value": value,
            "status": status,
            "note": note,
            "district": values.value(variable, "bezirk", current, bezirk.code).value,
            "berlin": values.value(variable, "berlin", current, BERLIN_CODE).value,
            "rank": ranks.get(region.code),
            "rank_of": len(ranks),
            "previous": previous,
            "previous_date": before.isoformat() if before else None,
            "change": change,
            "trend": _trend(direction, change),
            "estimated": estimated,
            # A change is estimated when either of its ends is.
            "change_estimated": change is not None
            and (estimated or previous_estimated),
        }
        # Frozen editions keep their labels: always the German administrative ones.
        with translation.override(settings.LANGUAGE_CODE):
            label = str(ProfileTheme(ind.theme).label)
        if not themes or themes[-1]["theme_key"] != ind.theme:
            themes.append({"theme": label, "theme_key": ind.theme, "indicators": []})
        themes[-1]["indicators"].append(entry)
    return themes


def _below_minimum(
    ind: Indicator,
    code: str,
    ref_date: date,
    values: _Values,
    level: str = "bezirksregion",
) -> bool:
    if not ind.min_denominator or ind.denominator is None:
        return False
    den = values.value(ind.denominator, level, ref_date, code)
    return (
        den.status == "ok" and den.value is not None and den.value < ind.min_denominator
    )


def _mss(
    *,
    planungsraeume: list[UnitRef],
    variables: dict[str, Variable],
    values: _Values,
    cite: Callable[[Variable | None], None],
) -> tuple[list[MssRow], str | None]:
    status_var = variables.get(MSS_STATUS)
    dynamics_var = variables.get(MSS_DYNAMICS)
    if status_var is None:
        return [], None
    dates = values.dates(status_var, "planungsraum")
    if not dates:
        return [], None
    mss_date = dates[-1]
    cite(status_var)
    status_rows = values.rows(status_var, "planungsraum", mss_date)
    dynamics_rows = (
        values.rows(dynamics_var, "planungsraum", mss_date) if dynamics_var else {}
    )
    out: list[MssRow] = []
    for plr in planungsraeume:
        s = status_rows.get(plr["code"])
        d = dynamics_rows.get(plr["code"])
        s_val = None if s is None or s.value is None else int(s.value)
        d_val = None if d is None or d.value is None else int(d.value)
        out.append(
            {
                "code": plr["code"],
                "name": plr["name"],
                "status": MSS_STATUS_LABELS.get(s_val) if s_val else None,
                "dynamics": MSS_DYNAMICS_LABELS.get(d_val) if d_val else None,
                "status_index": None if s_val is None else str(s_val),
                "dynamics_index": None if d_val is None else str(d_val),
                "note": (s.note if s is not None else "") or "",
            }
        )
    return out, mss_date.isoformat()


def profile_facility_counts(*, region: LorUnit) -> list[FacilityLayerCount]:
    """Facilities per layer inside the region (layers without any show 0).

    Every reader of a profile sees these, guests included: public layers only.
    """
    layers = list(facility_layer_public_list())
    counts = dict(
        Facility.objects.filter(
            layer__in=layers,
            unit__scheme=region.scheme,
            unit__code__startswith=region.code_prefix,
        )
        .values("layer_id")
        .annotate(n=Count("id"))
        .values_list("layer_id", "n")
    )
    return [
        {
            "layer": layer.key,
            "name": layer.name,
            "count": counts.get(layer.pk, 0),
            "source": layer.source,
            "license": layer.license,
        }
        for layer in layers
    ]
