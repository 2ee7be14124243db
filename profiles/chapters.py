"""Two chapters of the generated analysis: social infrastructure and funding.

**Soziale Infrastruktur** reads the supply analysis as published in the
Datenpool (``VS_<RULE>_*``, see ``infrastructure.supply_publish``), at the
latest date on or before the profile's reference date, for the Bezirksregion,
its Bezirk, Berlin and its Planungsräume: need, supply, Versorgungsgrad and
Fehlbedarf by both methods (innerhalb der Grenzen; Einzugsbereich, 2SFCA). The
numbers are the Datenpool's, so the profile shows what the explorer maps. The
facilities are those of the register in the stock on that date, with their
location for the chapter's map.

**Fördermittel** reads the funding register through ``funding.selectors``:
projects whose Planungsraum lies in the region or whose area touches it, and
euros per resident computed exactly as the steering page does
(``funding_by_unit``: a project of an area is spread over the area's
Planungsräume by residents). Berlin is the sum of all districts' euros over
the sum of their residents. Amounts are kept in the analysis (an adopted
edition freezes them) and removed for viewers who may not see them
(``funding_redact``).
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import translation

from datapool.models import Variable
from funding import selectors as funding_selectors
from funding.models import EXAMPLE_NOTE, Project
from infrastructure.models import Facility, FacilityType, SupplyRule
from infrastructure.selectors import facilities_valid_in_unit, facility_type_list
from infrastructure.supply import CATCHMENT, METHOD_LABELS, WITHIN
from infrastructure.supply_publish import supply_variable_keys
from lor import hierarchy
from lor.models import BERLIN_CODE, LorUnit

from .analysis_types import (
    FacilityEntry,
    FacilityTypeEntry,
    FundingAreaEntry,
    FundingChapter,
    FundingComparisonRow,
    FundingProgrammeEntry,
    FundingProjectEntry,
    InfrastructureChapter,
    SupplyFigures,
    SupplyRow,
    SupplyRuleChapter,
)

METHODS = (WITHIN, CATCHMENT)
FUNDING_DISTRIBUTION_NOTE = (
    "Maßnahmen mit Planungsraum zählen dort; Maßnahmen eines Fördergebiets werden "
    "nach Einwohnern (E_E) auf dessen Planungsräume verteilt. Berlin: Summe aller "
    "Bezirke geteilt durch deren Einwohner."
)


def _float(value) -> float | None:
    return None if value is None else float(value)


# --- Soziale Infrastruktur ------------------------------------------------------------


def _supply_row(
    *, values: Any, variables: dict[str, Variable], keys: dict, level, on, code, name
) -> SupplyRow:
    """One unit's published supply figures (None where the Datenpool has none)."""

    def get(role: str):
        variable = variables.get(keys[role])
        if variable is None:
            return None, "missing"
        found = values.value(variable, level, on, code)
        return found.value, found.status

    need, status = get("need")
    methods: dict[str, SupplyFigures] = {}
    for method in METHODS:
        supply, supply_status = get(f"supply_{method}")
        grade, _s = get(f"grade_{method}")
        deficit, _d = get(f"deficit_{method}")
        methods[method] = {"supply": supply, "grade": grade, "deficit": deficit}
        if status == "missing" and supply_status != "missing":
            status = supply_status
    return {
        "level": level,
        "code": code,
        "name": name,
        "need": need,
        "status": status,
        "methods": methods,
    }


def infrastructure_chapter(
    *,
    region: LorUnit,
    bezirk: LorUnit,
    planungsraeume: list,
    ref_date: date | None,
    values: Any,
) -> tuple[InfrastructureChapter, list[Variable]]:
    """The chapter and the Datenpool variables it shows (for the sources)."""
    rules = list(
        SupplyRule.objects.filter(active=True)
        .select_related("facility_type")
        .order_by("facility_type__name", "key")
    )
    keys_by_rule = {rule.key: supply_variable_keys(rule=rule) for rule in rules}
    variables = {
        v.key: v
        for v in Variable.objects.filter(
            key__in=[k for keys in keys_by_rule.values() for k in keys.values()]
        )
    }
    cited: list[Variable] = []
    chapter_dates: list[date] = []
    rule_entries: list[SupplyRuleChapter] = []
    for rule in rules:
        keys = keys_by_rule[rule.key]
        need_var = variables.get(keys["need"])
        dates = values.dates(need_var, "bezirksregion") if need_var else []
        on = [d for d in dates if ref_date is None or d <= ref_date]
        on_date = on[-1] if on else None
        if on_date is not None:
            chapter_dates.append(on_date)
            cited.extend(variables[k] for k in keys.values() if k in variables)
        common = {"values": values, "variables": variables, "keys": keys, "on": on_date}
        comparison = [
            _supply_row(
                **common, level="bezirksregion", code=region.code, name=region.name
            ),
            _supply_row(**common, level="bezirk", code=bezirk.code, name=bezirk.name),
            _supply_row(**common, level="berlin", code=BERLIN_CODE, name="Berlin"),
        ]
        plr_rows = [
            _supply_row(
                **common, level="planungsraum", code=plr["code"], name=plr["name"]
            )
            for plr in planungsraeume
        ]
        facility_type = rule.facility_type
        rule_entries.append(
            {
                "key": rule.key,
                "name": rule.name,
                "facility_type": facility_type.key,
                "facility_type_name": facility_type.name,
                "unit": facility_type.capacity_unit,
                "demand_label": rule.demand_label,
                "demand_formula": rule.demand_formula,
                "richtwert": float(rule.richtwert),
                "richtwert_unit": rule.richtwert_unit,
                "richtwert_source": rule.richtwert_source,
                "richtwert_is_assumption": rule.richtwert_is_assumption,
                "catchment_m": rule.catchment_m,
                "catchment_source": rule.catchment_source,
                "min_capacity": _float(rule.min_capacity),
                "date": on_date.isoformat() if on_date else None,
                "variables": dict(keys),
                "comparison": comparison,
                "planungsraeume": plr_rows,
            }
        )
    stock_date = max(chapter_dates) if chapter_dates else ref_date
    facilities, types = _facilities(
        region=region, bezirk=bezirk, on=stock_date or date.today()
    )
    sources = list(
        dict.fromkeys(
            [
                *(
                    f"Richtwert {r['name']}: {r['richtwert_source']}"
                    for r in rule_entries
                    if r["richtwert_source"] and r["date"]
                ),
                *(
                    f"{t['name']}: {t['source']}"
                    + (f" ({t['license']})" if t["license"] else "")
                    for t in types
                    if t["source"] and t["count"]
                ),
            ]
        )
    )
    with translation.override(settings.LANGUAGE_CODE):
        methods = [{"key": m, "label": str(METHOD_LABELS[m])} for m in METHODS]
    return (
        {
            "date": stock_date.isoformat() if stock_date else None,
            "methods": methods,
            "rules": rule_entries,
            "facility_types": types,
            "facilities": facilities,
            "sources": sources,
        },
        cited,
    )


def _facilities(
    *, region: LorUnit, bezirk: LorUnit, on: date
) -> tuple[list[FacilityEntry], list[FacilityTypeEntry]]:
    """The register's facilities in the region on ``on``, by type, with location."""
    facility_types = list(facility_type_list(bezirk_code=bezirk.code))
    by_type: dict[int, list[Facility]] = {t.pk: [] for t in facility_types}
    for facility in facilities_valid_in_unit(
        code_prefix=region.code, on=on, facility_types=facility_types
    ):
        by_type[facility.facility_type_id].append(facility)
    entries: list[FacilityEntry] = []
    types: list[FacilityTypeEntry] = []
    for facility_type in facility_types:
        rows = by_type[facility_type.pk]
        entries.extend(_facility_entry(f, facility_type) for f in rows)
        types.append(
            {
                "key": facility_type.key,
                "name": facility_type.name,
                "unit": facility_type.capacity_unit,
                "count": len(rows),
                "source": facility_type.source,
                "license": facility_type.license,
            }
        )
    return entries, types


def _facility_entry(facility: Facility, facility_type: FacilityType) -> FacilityEntry:
    x = y = None
    if facility.geom is not None and not facility.geom.empty:
        point = (
            facility.geom
            if facility.geom.geom_type == "Point"
            else facility.geom.point_on_surface
        )
        x, y = round(point.x, 1), round(point.y, 1)
    with translation.override(settings.LANGUAGE_CODE):
        status_label = str(facility.get_status_display())
    return {
        "type": facility_type.key,
        "type_name": facility_type.name,
        "name": facility.name or facility.source_key or "–",
        "capacity": _float(facility.capacity),
        "unit": facility_type.capacity_unit,
        "operator": facility.operator,
        "status": facility.status,
        "status_label": status_label,
        "planungsraum": facility.unit.code if facility.unit else "",
        "x": x,
        "y": y,
    }


# --- Fördermittel ---------------------------------------------------------------


def _comparison_row(level: str, row) -> FundingComparisonRow:
    return {
        "level": level,
        "code": row.code,
        "name": row.name,
        "residents": row.residents,
        "approved": row.approved,
        "paid": row.paid,
        "approved_per_resident": row.approved_per_resident,
        "paid_per_resident": row.paid_per_resident,
    }


def funding_chapter(*, region: LorUnit, bezirk: LorUnit) -> FundingChapter:
    """Programmes, areas and projects of the region; euros per resident vs district
    and Berlin (all years), as the steering page computes them."""
    projects = list(funding_selectors.project_list_in_unit(code_prefix=region.code))
    areas = list(funding_selectors.funding_area_list_in_unit(code_prefix=region.code))
    regions = funding_selectors.funding_by_unit(level=hierarchy.BEZIRKSREGION)
    districts = funding_selectors.funding_by_unit(level=hierarchy.BEZIRK)
    region_row = next((r for r in regions.rows if r.code == region.code), None)
    district_row = next((r for r in districts.rows if r.code == bezirk.code), None)
    comparison: list[FundingComparisonRow] = []
    if region_row is not None:
        comparison.append(_comparison_row("bezirksregion", region_row))
    if district_row is not None:
        comparison.append(_comparison_row("bezirk", district_row))
    berlin_residents = sum(r.residents or 0.0 for r in districts.rows)
    comparison.append(
        {
            "level": "berlin",
            "code": BERLIN_CODE,
            "name": "Berlin",
            "residents": berlin_residents or None,
            "approved": districts.total_approved,
            "paid": districts.total_paid,
            "approved_per_resident": districts.total_approved / berlin_residents
            if berlin_residents
            else None,
            "paid_per_resident": districts.total_paid / berlin_residents
            if berlin_residents
            else None,
        }
    )
    # The region's share of each project by the steering's own distribution
    # (``project_weights``: an area project's Planungsräume by residents).
    spread = any(p.area_id and not p.unit_id for p in projects)
    weights = funding_selectors.project_weights(
        projects=projects,
        # Residents matter only for projects spread over an area.
        plr_residents=funding_selectors.residents_by_unit(level=hierarchy.PLANUNGSRAUM)
        if spread
        else {},
    )
    shares = {
        p.pk: sum(
            w
            for code, w in weights.get(p.pk, {}).items()
            if code.startswith(region.code)
        )
        for p in projects
    }
    programmes: dict[int, FundingProgrammeEntry] = {}
    for programme in [p.programme for p in projects] + [a.programme for a in areas]:
        if programme.pk in programmes:
            continue
        own = [p for p in projects if p.programme_id == programme.pk]
        programmes[programme.pk] = {
            "key": programme.key,
            "name": programme.name,
            "funder": programme.funder,
            "period": programme.period,
            "is_example": programme.is_example,
            "projects": len(own),
            "approved": sum(
                float(a.approved) * shares[p.pk] for p in own for a in p.amounts.all()
            ),
            "paid": sum(
                float(a.paid) * shares[p.pk] for p in own for a in p.amounts.all()
            ),
        }
    with translation.override(settings.LANGUAGE_CODE):
        project_entries = [_project_entry(p, shares[p.pk]) for p in projects]
    has_examples = (
        any(p.is_example for p in projects)
        or any(a.is_example for a in areas)
        or regions.has_examples
    )
    _examples, credits = funding_selectors.funding_credits(projects=projects)
    area_credits = [
        f"{a.source} ({a.licence})" if a.licence else a.source
        for a in areas
        if a.source
    ]
    return {
        "amounts_visible": True,
        "residents_date": regions.residents_date.isoformat()
        if regions.residents_date
        else None,
        "years": sorted({a.year for p in projects for a in p.amounts.all()}),
        "comparison": comparison,
        "programmes": sorted(programmes.values(), key=lambda e: e["name"]),
        "areas": [_area_entry(a, region) for a in areas],
        "projects": project_entries,
        "has_examples": has_examples,
        "example_note": EXAMPLE_NOTE,
        "distribution_note": FUNDING_DISTRIBUTION_NOTE,
        "sources": list(dict.fromkeys([*area_credits, *credits])),
    }


def _project_entry(project: Project, share: float) -> FundingProjectEntry:
    amounts = list(project.amounts.all())
    years = sorted(a.year for a in amounts)
    return {
        "id": project.pk,
        "number": project.number,
        "title": project.title,
        "programme": project.programme.name,
        "area": project.area.name if project.area else "",
        "planungsraum": project.unit.code if project.unit else "",
        "sponsor": project.sponsor,
        "field_of_action": project.field_of_action,
        "start": project.start.isoformat() if project.start else None,
        "end": project.end.isoformat() if project.end else None,
        "status": project.status,
        "status_label": str(project.get_status_display()),
        "is_example": project.is_example,
        # Whole project, all years; an area project is shared with other regions.
        "whole_area": bool(project.area_id and not project.unit_id),
        "years": f"{years[0]}–{years[-1]}"
        if len(years) > 1
        else (str(years[0]) if years else ""),
        "approved": sum(float(a.approved) for a in amounts),
        "paid": sum(float(a.paid) for a in amounts),
        "region_share": share,
    }


def _area_entry(area, region: LorUnit) -> FundingAreaEntry:
    return {
        "key": area.key,
        "name": area.name,
        "programme": area.programme.name,
        "valid_from": area.valid_from.isoformat() if area.valid_from else None,
        "valid_to": area.valid_to.isoformat() if area.valid_to else None,
        "is_example": area.is_example,
        "planungsraeume": sorted(
            u.code for u in area.units.all() if u.code.startswith(region.code)
        ),
    }


def funding_redact(analysis: dict) -> dict:
    """The analysis without any funding amount (for viewers who may not see them).

    A copy: a frozen snapshot is never changed. Programmes, areas and projects
    stay; comparison rows, per-programme and per-project euros go.
    """
    chapter = analysis.get("funding")
    if not chapter:
        return analysis
    out = copy.copy(analysis)
    chapter = copy.deepcopy(chapter)
    chapter["amounts_visible"] = False
    chapter["comparison"] = []
    for entry in chapter.get("programmes") or []:
        entry["approved"] = entry["paid"] = None
    for entry in chapter.get("projects") or []:
        entry["approved"] = entry["paid"] = None
    out["funding"] = chapter
    return out
