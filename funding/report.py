"""The Fördermittelbericht: projects, amounts, areas and sources of a district, a
programme or an area, as PDF (WeasyPrint) and XLSX.

Linked profile goals: profiles sit above funding in the layers, so the links
from goals and measures to projects live there. A profile app registers a
provider with ``goal_link_provider_register``; the report shows what the
providers return per project (nothing while none is registered).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from datapool.numbers import german
from explorer.exports import _xlsx_bytes
from lor import hierarchy
from lor.attribution import LOR_LICENSE, LOR_SOURCE
from lor.models import LorUnit

from . import charts
from .models import EXAMPLE_NOTE, FundingArea, Programme, Project
from .selectors import FundingTable, funding_by_unit, funding_by_year, project_list

# Callables (projects) -> {project id: ["goal text", …]}, registered by profiles.
GoalLinkProvider = Callable[[list[Project]], dict[int, list[str]]]
_GOAL_LINK_PROVIDERS: list[GoalLinkProvider] = []


def goal_link_provider_register(provider: GoalLinkProvider) -> None:
    """Let a higher app (profiles) name the goals and measures linked to projects."""
    if provider not in _GOAL_LINK_PROVIDERS:
        _GOAL_LINK_PROVIDERS.append(provider)


def _goal_links(projects: list[Project]) -> dict[int, list[str]]:
    links: dict[int, list[str]] = {}
    for provider in _GOAL_LINK_PROVIDERS:
        for pk, goals in provider(projects).items():
            links.setdefault(pk, []).extend(goals)
    return links


class ReportScopeError(ValueError):
    """The report's scope is unknown or incomplete; the message says why."""


@dataclass
class Report:
    title: str
    scope: str
    district_code: str | None
    projects: list[Project]
    years: list[int]
    areas: list[FundingArea]
    table: FundingTable
    by_year: dict[str, dict[int, tuple[float, float]]]
    goal_links: dict[int, list[str]]
    has_examples: bool
    credits: list[str]
    created: Any = field(default_factory=timezone.now)

    @property
    def total_approved(self) -> float:
        return sum(float(a.approved) for p in self.projects for a in p.amounts.all())

    @property
    def total_paid(self) -> float:
        return sum(float(a.paid) for p in self.projects for a in p.amounts.all())


def report_build(
    *,
    district_code: str | None = None,
    programme: Programme | None = None,
    area: FundingArea | None = None,
) -> Report:
    """The report of one district, programme or area (exactly one of them)."""
    given = [x for x in (district_code, programme, area) if x]
    if len(given) != 1:
        raise ReportScopeError(
            _("Choose a district, a programme or a funding area for the report.")
        )
    if district_code:
        district = LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.BEZIRK,
            code=district_code,
        ).first()
        if district is None:
            raise ReportScopeError(_("Unknown district."))
        title = _("Funding report %(name)s") % {"name": district.name}
        scope = "bezirk"
    elif programme is not None:
        title = _("Funding report %(name)s") % {"name": programme.name}
        scope = "programm"
    else:
        title = _("Funding report %(name)s") % {"name": area.name}
        scope = "gebiet"
    projects = list(
        project_list(district_code=district_code, programme=programme, area=area)
    )
    if area is not None:
        areas = [area]
    else:
        area_ids = {p.area_id for p in projects if p.area_id}
        areas = list(
            FundingArea.objects.filter(pk__in=area_ids)
            .select_related("programme", "district")
            .prefetch_related("units")
            .order_by("name")
        )
    level = hierarchy.BEZIRKSREGION if district_code else hierarchy.BEZIRK
    table = funding_by_unit(
        level=level, programme=programme, district_code=district_code
    )
    if area is not None:
        table = funding_by_unit(
            level=hierarchy.PLANUNGSRAUM, district_code=area.district.code
        )
        codes = set(area.units.values_list("code", flat=True))
        table.rows = [r for r in table.rows if r.code in codes]
    years = sorted({a.year for p in projects for a in p.amounts.all()})
    has_examples = any(p.is_example for p in projects) or any(
        a.is_example for a in areas
    )
    credits = sorted(
        {
            f"{x.source} ({x.licence})" if x.licence else x.source
            for x in [*projects, *areas]
            if x.source
        }
    )
    credits += [c for c in table.credits if c not in credits]
    credits.append(f"{LOR_SOURCE} ({LOR_LICENSE})")
    return Report(
        title=title,
        scope=scope,
        district_code=district_code,
        projects=projects,
        years=years,
        areas=areas,
        table=table,
        by_year=funding_by_year(
            programme=programme, district_code=district_code, area=area
        ),
        goal_links=_goal_links(projects),
        has_examples=has_examples,
        credits=credits,
    )


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def report_pdf(*, report: Report) -> bytes:
    """The report as an A4 PDF with map, time series, tables and sources."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    series = charts.chart_timeseries(
        series=report.by_year,
        measure="approved",
        title=_("Approved funding per year and programme"),
        credits=report.credits,
        has_examples=report.has_examples,
        fmt="png",
    )
    map_png = charts.map_png(
        table=report.table,
        measure="approved",
        title=_("Approved EUR per resident, all years"),
    )
    html = render_to_string(
        "funding/report_pdf.html",
        {
            "report": report,
            "rows": _project_rows(report),
            "unit_rows": _unit_rows(report),
            "map_uri": _data_uri(map_png),
            "series_uri": _data_uri(series.content),
            "example_note": EXAMPLE_NOTE,
            "total_approved": _money(report.total_approved),
            "total_paid": _money(report.total_paid),
        },
    )
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return HTML(string=html, url_fetcher=fetcher, base_url=".").write_pdf()


def _money(value: float) -> str:
    return german(value, 2)


def _project_rows(report: Report) -> list[dict]:
    rows = []
    for project in report.projects:
        amounts = {a.year: a for a in project.amounts.all()}
        rows.append(
            {
                "project": project,
                "place": project.area.name
                if project.area
                else (project.unit.name if project.unit else "–"),
                "amounts": [
                    (
                        year,
                        _money(float(amounts[year].approved))
                        if year in amounts
                        else "–",
                        _money(float(amounts[year].paid)) if year in amounts else "–",
                    )
                    for year in report.years
                ],
                "approved": _money(sum(float(a.approved) for a in amounts.values())),
                "paid": _money(sum(float(a.paid) for a in amounts.values())),
                "goals": report.goal_links.get(project.pk, []),
            }
        )
    return rows


def _unit_rows(report: Report) -> list[dict]:
    return [
        {
            "code": r.code,
            "name": r.name,
            "residents": german(r.residents, 0) if r.residents else "–",
            "approved": _money(r.approved),
            "paid": _money(r.paid),
            "per_resident": _money(r.approved_per_resident)
            if r.approved_per_resident is not None
            else "–",
        }
        for r in report.table.rows
        if r.approved or r.paid
    ]


def report_xlsx(*, report: Report) -> bytes:
    """The report as XLSX: projects with amounts per year, units, areas, sources."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Maßnahmen"
    head = [report.title]
    if report.has_examples:
        head.append(EXAMPLE_NOTE)
    sheet.append(head)
    sheet["A1"].font = Font(bold=True)
    if report.has_examples:
        sheet["B1"].font = Font(bold=True, color="B3122E")
    sheet.append([])
    header = [
        "Projektnummer",
        "Maßnahme",
        "Programm",
        "Fördergebiet",
        "Planungsraum",
        "Träger",
        "Handlungsfeld",
        "Beginn",
        "Ende",
        "Status",
        "Beispieldaten",
        "Jahr",
        "Bewilligt (EUR)",
        "Ausgezahlt (EUR)",
        "Verknüpfte Ziele",
        "Quelle",
        "Lizenz",
    ]
    sheet.append(header)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for project in report.projects:
        base = [
            project.number,
            project.title,
            project.programme.name,
            project.area.name if project.area else "",
            project.unit.code if project.unit else "",
            project.sponsor,
            project.field_of_action,
            project.start,
            project.end,
            str(project.get_status_display()),
            "ja" if project.is_example else "nein",
        ]
        goals = "; ".join(report.goal_links.get(project.pk, []))
        for amount in project.amounts.all():
            row = [
                *base,
                amount.year,
                float(amount.approved),
                float(amount.paid),
                goals,
                project.source,
                project.licence,
            ]
            sheet.append(row)
    for row in sheet.iter_rows(min_row=4):
        for cell in row[12:14]:
            cell.number_format = "#,##0.00"
        for cell in row[7:9]:
            cell.number_format = "DD.MM.YYYY"
    units = book.create_sheet("Je Einheit")
    level = charts.LEVEL_LABELS[report.table.level]
    units.append(
        [
            f"{level} (Schlüssel)",
            "Name",
            "Einwohner (E_E)",
            "Bewilligt (EUR)",
            "Ausgezahlt (EUR)",
            "Bewilligt je Einwohner (EUR)",
        ]
    )
    for r in report.table.rows:
        units.append(
            [
                r.code,
                r.name,
                r.residents,
                round(r.approved, 2),
                round(r.paid, 2),
                round(r.approved_per_resident, 4)
                if r.approved_per_resident is not None
                else None,
            ]
        )
    areas = book.create_sheet("Fördergebiete")
    areas.append(
        [
            "Schlüssel",
            "Name",
            "Programm",
            "Bezirk",
            "Planungsräume",
            "Gültig ab",
            "Gültig bis",
            "Beispieldaten",
            "Quelle",
            "Lizenz",
        ]
    )  # fmt: skip
    for area in report.areas:
        areas.append(
            [
                area.key,
                area.name,
                area.programme.name,
                area.district.name,
                ", ".join(sorted(u.code for u in area.units.all())),
                area.valid_from,
                area.valid_to,
                "ja" if area.is_example else "nein",
                area.source,
                area.licence,
            ]
        )
    meta = book.create_sheet("Quellen")
    meta.append(["Titel", report.title])
    meta.append(
        ["Erstellt", timezone.localtime(report.created).strftime("%d.%m.%Y %H:%M")]
    )
    if report.has_examples:
        meta.append(["Hinweis", EXAMPLE_NOTE])
    meta.append(
        [
            "Verteilung",
            "Maßnahmen mit Planungsraum zählen dort; Maßnahmen eines Fördergebiets "
            "werden nach Einwohnern (E_E) auf dessen Planungsräume verteilt.",
        ]
    )
    for credit in report.credits:
        meta.append(["Quelle", credit])
    # Every text cell neutralised (a Träger named "=…" is no formula).
    return _xlsx_bytes(book)


def report_filename(*, report: Report, fmt: str) -> str:
    stem = {
        "bezirk": f"foerdermittelbericht-bezirk-{report.district_code}",
        "programm": "foerdermittelbericht-programm",
        "gebiet": "foerdermittelbericht-gebiet",
    }[report.scope]
    return f"{stem}.{fmt}"
