"""Reads of Bezirksregionenprofile: the generated analysis part and the documents.

Every number of the analysis comes from ``datapool.selectors.observation_values``,
the selector behind ``/api/values/``: shares are the stored indicator values
(summed numerator over summed denominator per unit), never averages of
Planungsraum shares. Suppressed values stay ``None`` with status ``suppressed``.
The analysis is a plain JSON-serialisable dict, so an adopted edition can freeze
it as it was.
"""

from __future__ import annotations

import threading
from datetime import date

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import translation

from datapool.models import Facility, Indicator, Observation, Variable
from datapool.selectors import datapool_version, observation_values, variable_dates
from datapool.themes import ProfileTheme
from lor.hierarchy import BEZIRK, BEZIRKSREGION, key_prefix, level_of_key
from lor.models import BERLIN_CODE, LorUnit

from .models import Goal, Profile, ProfileEdition

RESIDENTS = "E_E"
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
MSS_STATUS_LABELS = {1: "hoch", 2: "mittel", 3: "niedrig", 4: "sehr niedrig"}
MSS_DYNAMICS_LABELS = {1: "positiv", 3: "stabil", 5: "negativ"}
DIRECTIONS = {
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

    def value(self, variable, level, ref_date, code) -> tuple[float | None, str]:
        row = self.rows(variable, level, ref_date).get(code)
        if row is None:
            return None, "missing"
        return (None if row.value is None else float(row.value)), _status(row.status)


def _status(status: str) -> str:
    return "ok" if status in ("ok", "estimated") else status


def _date_at_or_before(dates: list[date], ref_date: date) -> date | None:
    earlier = [d for d in dates if d <= ref_date]
    return earlier[-1] if earlier else None


def _previous(dates: list[date], current: date | None) -> date | None:
    if current is None:
        return None
    earlier = [d for d in dates if d < current]
    return earlier[-1] if earlier else None


def _ranks(values: dict[str, float | None]) -> dict[str, int]:
    """1 = highest value; ties share a rank; units without a value get none."""
    ordered = sorted(((v, c) for c, v in values.items() if v is not None), reverse=True)
    ranks: dict[str, int] = {}
    previous, rank = None, 0
    for position, (value, code) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[code] = rank
    return ranks


def _trend(direction: str, change: float | None) -> str | None:
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


def profile_region_get(*, code: str) -> LorUnit:
    """The Bezirksregion (LOR 2021) with this 6-digit key, or ``DoesNotExist``."""
    if level_of_key(code) != BEZIRKSREGION:
        raise LorUnit.DoesNotExist(code[:20])
    return LorUnit.objects.select_related("parent__parent").get(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRKSREGION, code=code
    )


def profile_analysis_build(*, region: LorUnit, ref_date: date | None = None) -> dict:
    """The generated analysis part of a Bezirksregion (latest EWR date when None).

    Returns a JSON-serialisable dict (dates as ISO strings)::

        {"region": {"code", "name", "bezirk_code", "bezirk_name"},
         "ref_date": "2024-12-31" | None, "previous_date": "2023-12-31" | None,
         "facts": {"residents": int|None, "residents_status": "ok"|"suppressed"|
                   "missing", "area_km2": float, "density": float|None  (per km²),
                   "planungsraeume": [{"code", "name"}]},
         "themes": [{"theme": <theme label>, "theme_key": <ProfileTheme value>,
                     "indicators": [{
             "key", "name", "unit", "code" (Handbuch code),
             "direction": "higher_better"|"lower_better"|"neutral",
             "date": ISO date of the value used (latest ≤ ref_date) | None,
             "value": float|None,
             "status": "ok"|"suppressed"|"missing"|"below_min",
             "note": str (why there is no value, German, may be ""),
             "district": float|None, "berlin": float|None,
             "rank": int|None  (1 = highest value among the district's
                                Bezirksregionen with a value; ties share a rank),
             "rank_of": int    (number of the district's Bezirksregionen ranked),
             "previous": float|None  (value at the indicator's previous date),
             "previous_date": ISO date | None,
             "change": float|None  (percentage points for shares, per cent for
                                    quantities, as /api/values/?compare=),
             "trend": "better"|"worse"|"same"|None (None for neutral indicators
                                                    or without a change)}]}],
         "maps": [{"key", "name", "unit", "date",
                   "values": {"<plr code>": {"value": float|None,
                              "status": "ok"|"suppressed"|"missing"|"below_min"}}}],
         "series": [{"key", "name", "unit",
                     "points": [{"date", "region", "district", "berlin"}]}],
         "age_structure": [{"band": "3–4", "key": "E_E03_05", "value": float|None,
                            "status": str}],   (persons per band, youngest first)
         "mss": [{"code", "name", "status": "hoch"|"mittel"|"niedrig"|
                  "sehr niedrig"|None, "dynamics": "positiv"|"stabil"|"negativ"|None,
                  "status_index": "1".."4"|None, "dynamics_index": "1"|"3"|"5"|None,
                  "note": str}],   (published MSS classes per Planungsraum)
         "mss_date": ISO date | None,
         "facilities": [{"layer", "name", "count"}],
         "sources": [str], "licenses": [str]}

    Status ``below_min`` means the unit's denominator is below the indicator's
    minimum denominator (no value is shown); ``suppressed`` that an input is
    suppressed (statistical secrecy); ``missing`` that there is no data.
    """
    from explorer.charts import AGE_BANDS, age_band_label

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
            Q(key__in=[RESIDENTS, MSS_STATUS, MSS_DYNAMICS, *AGE_BANDS])
            | Q(indicator__is_core=True)
        )
    }
    sources: list[str] = []
    licenses: list[str] = []

    def cite(variable: Variable | None) -> None:
        if variable is None:
            return
        if variable.source and variable.source not in sources:
            sources.append(variable.source)
        if variable.license and variable.license not in licenses:
            licenses.append(variable.license)

    residents_var = variables.get(RESIDENTS)
    residents, residents_status = (None, "missing")
    if residents_var is not None:
        residents, residents_status = values.value(
            residents_var, "bezirksregion", ref_date, region.code
        )
        cite(residents_var)
    area_km2 = region.area_m2 / 1e6
    planungsraeume = list(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.PLANUNGSRAUM,
            code__startswith=region.code,
        )
        .order_by("code")
        .values("code", "name")
    )
    facts = {
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
    maps = []
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

    series = []
    for key in SERIES_VARIABLES:
        variable = variables.get(key)
        if variable is None:
            continue
        series_dates = [
            d
            for d in values.dates(variable, "bezirksregion")
            if ref_date is None or d <= ref_date
        ]
        points = []
        for d in series_dates:
            points.append(
                {
                    "date": d.isoformat(),
                    "region": values.value(variable, "bezirksregion", d, region.code)[
                        0
                    ],
                    "district": values.value(variable, "bezirk", d, bezirk.code)[0],
                    "berlin": values.value(variable, "berlin", d, BERLIN_CODE)[0],
                }
            )
        series.append(
            {"key": key, "name": variable.name, "unit": variable.unit, "points": points}
        )

    age_structure = []
    for key in AGE_BANDS:
        variable = variables.get(key)
        value, status = (
            values.value(variable, "bezirksregion", ref_date, region.code)
            if variable is not None
            else (None, "missing")
        )
        age_structure.append(
            {"band": age_band_label(key), "key": key, "value": value, "status": status}
        )

    mss, mss_date = _mss(
        planungsraeume=planungsraeume, variables=variables, values=values, cite=cite
    )
    facilities = profile_facility_counts(region=region)
    for layer in facilities:
        if layer.get("source") and layer["source"] not in sources:
            sources.append(layer["source"])
        if layer.get("license") and layer["license"] not in licenses:
            licenses.append(layer["license"])
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
        "sources": sources,
        "licenses": licenses,
    }


def _cell(row) -> dict:
    if row is None:
        return {"value": None, "status": "missing"}
    return {
        "value": None if row.value is None else float(row.value),
        "status": _status(row.status),
    }


def _themes(*, region, bezirk, ref_date, values: _Values, cite) -> list[dict]:
    theme_order = {t: n for n, t in enumerate(ProfileTheme.values)}
    indicators = sorted(
        Indicator.objects.filter(is_core=True).select_related(
            "variable", "denominator"
        ),
        key=lambda i: (theme_order.get(i.theme, 99), i.sort_order, i.variable.key),
    )
    themes: list[dict] = []
    for ind in indicators:
        variable = ind.variable
        dates = values.dates(variable, "bezirksregion")
        current = _date_at_or_before(dates, ref_date) if ref_date else None
        before = _previous(dates, current)
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
        ranks = _ranks(district_rows)
        previous, _prev_status = values.value(
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
        entry = {
            "key": variable.key,
            "code": ind.code,
            "name": variable.name,
            "unit": variable.unit,
            "direction": direction,
            "date": current.isoformat() if current else None,
            "value": value,
            "status": status,
            "note": note,
            "district": values.value(variable, "bezirk", current, bezirk.code)[0],
            "berlin": values.value(variable, "berlin", current, BERLIN_CODE)[0],
            "rank": ranks.get(region.code),
            "rank_of": len(ranks),
            "previous": previous,
            "previous_date": before.isoformat() if before else None,
            "change": change,
            "trend": _trend(direction, change),
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
    den, den_status = values.value(ind.denominator, level, ref_date, code)
    return den_status == "ok" and den is not None and den < ind.min_denominator


def _mss(*, planungsraeume, variables, values: _Values, cite):
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
    out = []
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


def profile_facility_counts(*, region: LorUnit) -> list[dict]:
    """Facilities per layer inside the region (layers without any show 0)."""
    from datapool.models import FacilityLayer

    counts = dict(
        Facility.objects.filter(
            unit__scheme=region.scheme, unit__code__startswith=region.code_prefix
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
        for layer in FacilityLayer.objects.order_by("name")
    ]


# --- editions and documents -----------------------------------------------------


def profile_edition_get(*, pk: int) -> ProfileEdition:
    """One edition with its profile and region loaded, or ``DoesNotExist``."""
    return ProfileEdition.objects.select_related(
        "profile__region__parent", "based_on", "created_by"
    ).get(pk=pk)


def profile_edition_list(
    *, bezirk_code: str = "", status: str = ""
) -> QuerySet[ProfileEdition]:
    """Editions, newest first per region, filtered by district and status."""
    qs = ProfileEdition.objects.select_related("profile__region").annotate(
        goal_count=Count("goals", distinct=True)
    )
    if bezirk_code:
        qs = qs.filter(
            profile__region__code__startswith=key_prefix(bezirk_code, BEZIRK)
        )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("profile__region__code", "-number")


def profile_latest_adopted(*, region: LorUnit) -> ProfileEdition | None:
    """The most recently adopted edition of the region's profile, if any."""
    return (
        ProfileEdition.objects.filter(
            profile__region=region, status=ProfileEdition.Status.ADOPTED
        )
        .select_related("profile__region")
        .order_by("-number")
        .first()
    )


def profile_editions_of_region(*, region: LorUnit) -> list[ProfileEdition]:
    return list(
        ProfileEdition.objects.filter(profile__region=region)
        .select_related("profile__region")
        .order_by("-number")
    )


def profile_get(*, region: LorUnit) -> Profile | None:
    return Profile.objects.filter(region=region).first()


def edition_goals(*, edition: ProfileEdition) -> list[Goal]:
    """The edition's goals with their measures, in order."""
    from .models import Measure

    return list(
        edition.goals.order_by("sort_order", "pk").prefetch_related(
            Prefetch("measures", queryset=Measure.objects.order_by("sort_order", "pk"))
        )
    )


def edition_analysis(*, edition: ProfileEdition) -> dict:
    """The frozen analysis of an adopted edition, else the one generated now."""
    if edition.is_frozen and edition.analysis_snapshot is not None:
        return edition.analysis_snapshot
    return profile_analysis_build(region=edition.region, ref_date=edition.ref_date)


def _goal_dict(goal: Goal) -> dict:
    return {
        "id": goal.pk,
        "origin": goal.origin_id,
        "theme": goal.theme,
        "theme_label": str(goal.get_theme_display()),
        "text": goal.text,
        "department": goal.department,
        "priority": goal.priority,
        "priority_label": str(goal.get_priority_display()),
        "status": goal.status,
        "status_label": str(goal.get_status_display()),
        "indicators": list(goal.indicators or []),
        "measures": [
            {
                "id": m.pk,
                "text": m.text,
                "department": m.department,
                "status": m.status,
                "status_label": str(m.get_status_display()),
                "due": m.due.isoformat() if m.due else None,
            }
            for m in goal.measures.all()
        ],
    }


def profile_document(*, edition: ProfileEdition) -> dict:
    """An edition as a JSON-serialisable document: edition facts, analysis, texts.

    ::

        {"edition": {"id", "number", "status", "status_label", "ref_date",
                     "adopted_on", "decision_reference", "title", "region_code",
                     "based_on": id|None},
         "analysis": <frozen snapshot if adopted, else profile_analysis_build(...)>,
         "goals": [{"theme", "theme_label", "text", "department", "priority",
                    "priority_label", "status", "status_label",
                    "indicators": [keys], "id", "origin": id|None,
                    "measures": [{"text", "department", "status", "status_label",
                                  "due": ISO date|None, "id"}]}],
         "assessments": [{"department", "text", "id"}]}
    """
    analysis = edition_analysis(edition=edition)
    return {
        "edition": {
            "id": edition.pk,
            "number": edition.number,
            "status": edition.status,
            "status_label": str(edition.get_status_display()),
            "ref_date": analysis.get("ref_date"),
            "adopted_on": edition.adopted_on.isoformat()
            if edition.adopted_on
            else None,
            "decision_reference": edition.decision_reference,
            "title": edition.title or f"Bezirksregionenprofil {edition.region.name}",
            "region_code": edition.region.code,
            "based_on": edition.based_on_id,
        },
        "analysis": analysis,
        "goals": [_goal_dict(g) for g in edition_goals(edition=edition)],
        "assessments": [
            {"id": a.pk, "department": a.department, "text": a.text}
            for a in edition.assessments.order_by("sort_order", "pk")
        ],
    }


def profile_document_for_region(
    *, region: LorUnit, ref_date: date | None = None
) -> dict:
    """The latest adopted edition's document, else the generated analysis and no goals.

    Without an adopted edition: ``{"edition": None, "analysis":
    profile_analysis_build(region=region, ref_date=ref_date), "goals": [],
    "assessments": []}`` — what batch PDFs use.
    """
    edition = profile_latest_adopted(region=region)
    if edition is not None:
        return profile_document(edition=edition)
    return {
        "edition": None,
        "analysis": profile_analysis_build(region=region, ref_date=ref_date),
        "goals": [],
        "assessments": [],
    }


# --- comparison of two editions -------------------------------------------------


def profile_edition_compare(*, old: ProfileEdition, new: ProfileEdition) -> dict:
    """Old vs new value per indicator, and goals added, removed or changed.

    Goals are matched by ``origin`` (a Fortschreibung copies each goal and points
    back to it). Returns ``{"old": doc, "new": doc, "indicators": [{"theme",
    "key", "name", "unit", "old", "old_status", "new", "new_status", "difference"}],
    "facts": {...}, "goals": {"added": [...], "removed": [...], "changed":
    [{"old", "new", "fields": [names]}], "unchanged": [...]}}``.
    """
    old_doc = profile_document(edition=old)
    new_doc = profile_document(edition=new)
    old_ind = {
        i["key"]: i
        for t in old_doc["analysis"].get("themes", [])
        for i in t["indicators"]
    }
    rows = []
    seen = set()
    for theme in new_doc["analysis"].get("themes", []):
        for ind in theme["indicators"]:
            before = old_ind.get(ind["key"], {})
            seen.add(ind["key"])
            rows.append(_compare_row(theme["theme"], ind, before))
    for key, before in old_ind.items():
        if key not in seen:
            rows.append(_compare_row("", {"key": key, **_blank(before)}, before))
    old_goals = {g["id"]: g for g in old_doc["goals"]}
    matched = set()
    added, changed, unchanged = [], [], []
    for goal in new_doc["goals"]:
        previous = old_goals.get(goal["origin"]) if goal["origin"] else None
        if previous is None:
            added.append(goal)
            continue
        matched.add(previous["id"])
        fields = _goal_differences(previous, goal)
        if fields:
            changed.append({"old": previous, "new": goal, "fields": fields})
        else:
            unchanged.append(goal)
    removed = [g for gid, g in old_goals.items() if gid not in matched]
    old_facts = old_doc["analysis"].get("facts", {})
    new_facts = new_doc["analysis"].get("facts", {})
    return {
        "old": old_doc,
        "new": new_doc,
        "facts": {
            "residents_old": old_facts.get("residents"),
            "residents_new": new_facts.get("residents"),
        },
        "indicators": rows,
        "goals": {
            "added": added,
            "removed": removed,
            "changed": changed,
            "unchanged": unchanged,
        },
    }


def _blank(before: dict) -> dict:
    return {
        "name": before.get("name", ""),
        "unit": before.get("unit", ""),
        "value": None,
        "status": "missing",
    }


def _compare_row(theme: str, new: dict, old: dict) -> dict:
    difference = None
    if new.get("value") is not None and old.get("value") is not None:
        difference = new["value"] - old["value"]
    return {
        "theme": theme,
        "key": new["key"],
        "name": new.get("name") or old.get("name", ""),
        "unit": new.get("unit") or old.get("unit", ""),
        "old": old.get("value"),
        "old_status": old.get("status", "missing"),
        "old_date": old.get("date"),
        "new": new.get("value"),
        "new_status": new.get("status", "missing"),
        "new_date": new.get("date"),
        "difference": difference,
    }


GOAL_FIELDS = ("theme", "text", "department", "priority", "status", "indicators")
MEASURE_FIELDS = ("text", "department", "status", "due")


def _goal_differences(old: dict, new: dict) -> list[str]:
    fields = [f for f in GOAL_FIELDS if old.get(f) != new.get(f)]
    strip = [tuple(m.get(f) for f in MEASURE_FIELDS) for m in old.get("measures", [])]
    if strip != [tuple(m.get(f) for f in MEASURE_FIELDS) for m in new["measures"]]:
        fields.append("measures")
    return fields


def profile_observation_exists(*, region: LorUnit) -> bool:
    """Whether the Datenpool has any value for the region (for empty states)."""
    return Observation.objects.filter(unit=region).exists()
