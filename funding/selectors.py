"""Reads of the funding register: lists, funding per LOR unit, per year, against need.

How amounts reach LOR units (one rule, used by maps, tables, charts, reports):
a project with a Planungsraum (given, or found from its point) counts fully
there; a project with only a funding area is spread over the area's
Planungsräume in proportion to their residents (E_E), so that every resident of
an area receives the same amount; if none of them has residents, evenly.
Bezirksregion and Bezirk sum their Planungsräume (LOR keys nest). Per resident
divides by the unit's residents (E_E) on the latest reference date of the
Datenpool. Amounts are for staff only (``core.access.funding_amounts_visible``);
callers check that before asking for them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db.models import Prefetch, Q, QuerySet

from core.access import user_bezirk_code, user_is_admin
from datapool.lineage import SourceCredit, attribution
from datapool.models import Observation, Variable
from datapool.mss_index import mss_index_compute
from datapool.selectors import observation_values, variable_latest_date
from lor import hierarchy
from lor.models import LorUnit

from .models import (
    EXAMPLE_NOTE,
    FundingArea,
    FundingImport,
    Programme,
    Project,
    ProjectAmount,
)

RESIDENTS = "E_E"
STATUS_CLASS = "MSS_SI_N"
# The MSS index indicators in the Datenpool (datapool/mss_index.py's inputs).
MSS_INPUT_KEYS = {
    "EW": "MSS_EW",
    "S1": "MSS_S1",
    "S3": "MSS_S3",
    "S4": "MSS_S4",
    "D1": "MSS_D1",
    "D3": "MSS_D3",
    "D4": "MSS_D4",
}
STATUS_LABELS = {1: "1 hoch", 2: "2 mittel", 3: "3 niedrig", 4: "4 sehr niedrig"}
LEVELS = (hierarchy.PLANUNGSRAUM, hierarchy.BEZIRKSREGION, hierarchy.BEZIRK)
MEASURES = ("approved", "paid")


# --- lists -------------------------------------------------------------------------


def programme_list() -> QuerySet[Programme]:
    return Programme.objects.order_by("name")


def funding_area_list(*, district_code: str | None = None) -> QuerySet[FundingArea]:
    qs = FundingArea.objects.select_related("programme", "district").prefetch_related(
        Prefetch("units", queryset=LorUnit.objects.only("id", "code", "name"))
    )
    if district_code:
        qs = qs.filter(district__code=district_code)
    return qs.order_by("district__code", "name")


def project_list(
    *,
    district_code: str | None = None,
    programme: Programme | None = None,
    area: FundingArea | None = None,
    year: int | None = None,
) -> QuerySet[Project]:
    """Projects with programme, area, unit and amounts, filtered."""
    qs = Project.objects.select_related("programme", "area", "unit", "district")
    if district_code:
        qs = qs.filter(district__code=district_code)
    if programme is not None:
        qs = qs.filter(programme=programme)
    if area is not None:
        qs = qs.filter(area=area)
    if year is not None:
        qs = qs.filter(amounts__year=year).distinct()
    return qs.prefetch_related(
        Prefetch("amounts", queryset=ProjectAmount.objects.order_by("year"))
    ).order_by("district__code", "number")


def project_get(*, pk: int) -> Project:
    return Project.objects.select_related("programme", "area", "unit", "district").get(
        pk=pk
    )


def funding_import_list(*, user: Any) -> QuerySet[FundingImport]:
    """The imports a user may see: administrators all, others their district's."""
    qs = FundingImport.objects.select_related("district", "created_by")
    if user_is_admin(user):
        return qs
    code = user_bezirk_code(user)
    return qs.filter(district__code=code) if code else qs.none()


def funding_import_get(*, pk: int, user: Any) -> FundingImport:
    return funding_import_list(user=user).get(pk=pk)


def funding_years() -> list[int]:
    return sorted(set(ProjectAmount.objects.values_list("year", flat=True)))


# --- residents and allocation -------------------------------------------------------


def residents_date() -> date | None:
    variable = Variable.objects.filter(key=RESIDENTS).first()
    return variable_latest_date(variable=variable) if variable else None


def residents_by_unit(*, level: str) -> dict[str, float]:
    """Residents (E_E) per unit of a level on the latest date; units without: absent."""
    variable = Variable.objects.filter(key=RESIDENTS).first()
    on = residents_date()
    if variable is None or on is None:
        return {}
    rows = observation_values(variable=variable, level=level, ref_date=on)
    return {r.code: r.value for r in rows if r.value is not None and r.status == "ok"}


def project_weights(
    *, projects: list[Project], plr_residents: dict[str, float]
) -> dict[int, dict[str, float]]:
    """Per project the share (summing to 1) each Planungsraum receives."""
    area_ids = {p.area_id for p in projects if p.area_id and not p.unit_id}
    area_units: dict[int, list[str]] = defaultdict(list)
    for area_id, code in FundingArea.units.through.objects.filter(
        fundingarea_id__in=area_ids
    ).values_list("fundingarea_id", "lorunit__code"):
        area_units[area_id].append(code)
    weights: dict[int, dict[str, float]] = {}
    for project in projects:
        if project.unit_id:
            weights[project.pk] = {project.unit.code: 1.0}
            continue
        codes = sorted(area_units.get(project.area_id, []))
        if not codes:
            weights[project.pk] = {}
            continue
        people = {c: plr_residents.get(c, 0.0) for c in codes}
        total = sum(people.values())
        if total > 0:
            weights[project.pk] = {c: v / total for c, v in people.items() if v > 0}
        else:
            weights[project.pk] = {c: 1.0 / len(codes) for c in codes}
    return weights


@dataclass
class UnitFunding:
    code: str
    name: str
    residents: float | None
    approved: float = 0.0
    paid: float = 0.0
    projects: set[int] = field(default_factory=set)

    @property
    def approved_per_resident(self) -> float | None:
        return self.approved / self.residents if self.residents else None

    @property
    def paid_per_resident(self) -> float | None:
        return self.paid / self.residents if self.residents else None

    def per_resident(self, measure: str) -> float | None:
        return getattr(self, f"{measure}_per_resident")

    @property
    def project_count(self) -> int:
        return len(self.projects)


@dataclass
class FundingTable:
    """Funding per unit of a level, with what the numbers rest on."""

    level: str
    year: int | None
    rows: list[UnitFunding]
    residents_date: date | None
    has_examples: bool
    credits: list[str]

    @property
    def total_approved(self) -> float:
        return sum(r.approved for r in self.rows)

    @property
    def total_paid(self) -> float:
        return sum(r.paid for r in self.rows)


def _scoped_amounts(
    *,
    year: int | None,
    programme: Programme | None,
    district_code: str | None,
    area: FundingArea | None = None,
) -> tuple[list[Project], list[tuple[int, int, Decimal, Decimal]]]:
    projects = list(
        Project.objects.select_related("unit").filter(
            *([Q(programme=programme)] if programme else []),
            *([Q(district__code=district_code)] if district_code else []),
            *([Q(area=area)] if area else []),
        )
    )
    amounts = ProjectAmount.objects.filter(project__in=[p.pk for p in projects])
    if year is not None:
        amounts = amounts.filter(year=year)
    return projects, list(amounts.values_list("project_id", "year", "approved", "paid"))


def funding_credits(*, projects: list[Project]) -> tuple[bool, list[str]]:
    """Whether example data is among the projects, and the credits to name."""
    has_examples = any(p.is_example for p in projects)
    own = sorted(
        {
            f"{p.source} ({p.licence})" if p.licence else p.source
            for p in projects
            if p.source
        }
    )
    residents = attribution(variables=[RESIDENTS]).items
    return has_examples, [*own, *residents]


def funding_by_unit(
    *,
    level: str = hierarchy.PLANUNGSRAUM,
    year: int | None = None,
    programme: Programme | None = None,
    district_code: str | None = None,
) -> FundingTable:
    """Approved and paid euros, residents and euros per resident per unit of a level.

    Every unit of the level (within the district, if given) is listed, also
    those without funding (0). ``year`` None sums all years.
    """
    if level not in LEVELS:
        raise ValueError(level)
    plr_residents = residents_by_unit(level=hierarchy.PLANUNGSRAUM)
    unit_residents = (
        plr_residents
        if level == hierarchy.PLANUNGSRAUM
        else residents_by_unit(level=level)
    )
    units = LorUnit.objects.filter(scheme=LorUnit.Scheme.LOR_2021, level=level)
    if district_code:
        units = units.filter(code__startswith=district_code)
    rows = {
        code: UnitFunding(code=code, name=name, residents=unit_residents.get(code))
        for code, name in units.order_by("code").values_list("code", "name")
    }
    projects, amounts = _scoped_amounts(
        year=year, programme=programme, district_code=district_code
    )
    weights = project_weights(projects=projects, plr_residents=plr_residents)
    for project_id, _year, approved, paid in amounts:
        for plr, share in weights.get(project_id, {}).items():
            row = rows.get(hierarchy.key_prefix(plr, level))
            if row is None:
                continue
            row.approved += float(approved) * share
            row.paid += float(paid) * share
            row.projects.add(project_id)
    has_examples, credits = funding_credits(projects=projects)
    return FundingTable(
        level=level,
        year=year,
        rows=list(rows.values()),
        residents_date=residents_date(),
        has_examples=has_examples,
        credits=credits,
    )


def funding_by_year(
    *,
    programme: Programme | None = None,
    district_code: str | None = None,
    area: FundingArea | None = None,
) -> dict[str, dict[int, tuple[float, float]]]:
    """Per programme name: per year (approved, paid), summed over the projects."""
    series: dict[str, dict[int, list[float]]] = defaultdict(
        lambda: defaultdict(lambda: [0.0, 0.0])
    )
    qs = ProjectAmount.objects.all()
    if programme is not None:
        qs = qs.filter(project__programme=programme)
    if district_code:
        qs = qs.filter(project__district__code=district_code)
    if area is not None:
        qs = qs.filter(project__area=area)
    for name, year, approved, paid in qs.values_list(
        "project__programme__name", "year", "approved", "paid"
    ):
        series[name][year][0] += float(approved)
        series[name][year][1] += float(paid)
    return {
        name: {y: (v[0], v[1]) for y, v in sorted(years.items())}
        for name, years in sorted(series.items())
    }


# --- funding against need -----------------------------------------------------------


def _plr_values(key: str) -> tuple[dict[str, float], date | None]:
    variable = Variable.objects.filter(key=key).first()
    if variable is None:
        return {}, None
    on = variable_latest_date(variable=variable, level=hierarchy.PLANUNGSRAUM)
    if on is None:
        return {}, None
    rows = observation_values(
        variable=variable, level=hierarchy.PLANUNGSRAUM, ref_date=on
    )
    return {
        r.code: r.value for r in rows if r.value is not None and r.status == "ok"
    }, on


@dataclass
class ClassFunding:
    status_class: int | None
    label: str
    units: int
    residents: float
    amount: float

    @property
    def per_resident(self) -> float | None:
        return self.amount / self.residents if self.residents else None


def funding_by_status_class(
    *,
    year: int | None = None,
    programme: Programme | None = None,
    district_code: str | None = None,
    measure: str = "approved",
) -> tuple[list[ClassFunding], date | None]:
    """Funding per resident by MSS 2021 status class (1 hoch … 4 sehr niedrig).

    Sums of amounts and residents over the Planungsräume of a class, divided
    (not a mean of per-resident values); Planungsräume without a class form a
    row of their own.
    """
    table = funding_by_unit(
        level=hierarchy.PLANUNGSRAUM,
        year=year,
        programme=programme,
        district_code=district_code,
    )
    classes, on = _plr_values(STATUS_CLASS)
    groups: dict[int | None, ClassFunding] = {}
    for row in table.rows:
        value = classes.get(row.code)
        key = int(value) if value is not None else None
        group = groups.get(key)
        if group is None:
            label = STATUS_LABELS.get(key, "ohne Klasse") if key else "ohne Klasse"
            group = groups[key] = ClassFunding(key, label, 0, 0.0, 0.0)
        group.units += 1
        group.residents += row.residents or 0.0
        group.amount += getattr(row, measure)
    ordered = sorted(
        groups.values(), key=lambda g: (g.status_class is None, g.status_class or 0)
    )
    return ordered, on


def status_index_by_plr() -> tuple[dict[str, float], date | None]:
    """The MSS status index (SI_Z, re-standardised) per valid Planungsraum.

    Computed from the index indicators in the Datenpool by the MSS method
    (``datapool.mss_index``); Planungsräume marked invalid get none.
    """
    rows = list(
        Observation.objects.filter(
            variable__key__in=MSS_INPUT_KEYS.values(),
            unit__level=LorUnit.Level.PLANUNGSRAUM,
            unit__scheme=LorUnit.Scheme.LOR_2021,
        ).values_list("variable__key", "unit__code", "ref_date", "value", "note")
    )
    if not rows:
        return {}, None
    frame = pd.DataFrame(rows, columns=["key", "PLR_ID", "ref_date", "value", "note"])
    on = frame["ref_date"].max()
    part = frame[frame["ref_date"] == on]
    wide = part.pivot_table(
        index="PLR_ID", columns="key", values="value", aggfunc="first"
    ).rename(columns={v: k for k, v in MSS_INPUT_KEYS.items()})
    if set(MSS_INPUT_KEYS) - set(wide.columns):
        return {}, None
    invalid = set(part.loc[part["note"].str.startswith("ungültig"), "PLR_ID"])
    wide = wide.reset_index()
    wide["VALID"] = ~wide["PLR_ID"].isin(invalid)
    computed = mss_index_compute(wide[["PLR_ID", *MSS_INPUT_KEYS, "VALID"]])
    result = {
        code: float(z)
        for code, z in zip(computed["PLR_ID"], computed["SI_Z"], strict=True)
        if not pd.isna(z)
    }
    return result, on


def funding_vs_status_index(
    *,
    year: int | None = None,
    programme: Programme | None = None,
    district_code: str | None = None,
    measure: str = "approved",
) -> list[tuple[str, str, float, float]]:
    """(code, name, status index, euros per resident) per Planungsraum with both."""
    table = funding_by_unit(
        level=hierarchy.PLANUNGSRAUM,
        year=year,
        programme=programme,
        district_code=district_code,
    )
    index, _on = status_index_by_plr()
    points = []
    for row in table.rows:
        per = row.per_resident(measure)
        if row.code in index and per is not None:
            points.append((row.code, row.name, index[row.code], per))
    return points


def need_credits() -> list[str]:
    return [
        str(c)
        for c in [
            *attribution(variables=[STATUS_CLASS, *MSS_INPUT_KEYS.values()]).credits
        ]
    ] or [str(SourceCredit("MSS 2021"))]


EXAMPLE_MARK = EXAMPLE_NOTE


# --- a LOR unit's view (Bezirksregionenprofil) ----------------------------------------


def project_list_in_unit(*, code_prefix: str) -> QuerySet[Project]:
    """Projects in a LOR unit: their Planungsraum lies in it or their area touches it.

    LOR keys nest, so a unit's Planungsräume are those whose key starts with
    ``code_prefix``.
    """
    ids = Project.objects.filter(
        Q(unit__code__startswith=code_prefix)
        | Q(area__units__code__startswith=code_prefix)
    ).values("pk")
    return (
        Project.objects.filter(pk__in=ids)
        .select_related("programme", "area", "unit", "district")
        .prefetch_related(
            Prefetch("amounts", queryset=ProjectAmount.objects.order_by("year"))
        )
        .order_by("programme__name", "number")
    )


def funding_area_list_in_unit(*, code_prefix: str) -> QuerySet[FundingArea]:
    """Funding areas with at least one Planungsraum in the LOR unit."""
    ids = FundingArea.objects.filter(units__code__startswith=code_prefix).values("pk")
    return (
        FundingArea.objects.filter(pk__in=ids)
        .select_related("programme", "district")
        .prefetch_related(
            Prefetch("units", queryset=LorUnit.objects.only("id", "code", "name"))
        )
        .order_by("programme__name", "name")
    )
