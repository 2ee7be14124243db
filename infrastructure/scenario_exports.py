"""Exports of a planning scenario: XLSX and PDF with before, after and change
per unit, the scenario's changes, sources and licences.

Every file says "Szenario – nicht veröffentlicht" at its top (the PDF on every
page): a scenario's numbers are a planner's "what if", not published values.
Spreadsheet text cells go through the explorer's ``neutralise`` (a name
starting with ``=`` stays text).
"""

from __future__ import annotations

import base64
import io
from datetime import date
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from explorer import graphics
from explorer.exports import neutralise
from lor.selectors import lor_unit_geometries

from .models import Scenario
from .scenarios import MARKER, scenario_changes, scenario_compute

Export = tuple[bytes, str, str]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filename(scenario: Scenario, ext: str) -> str:
    return f"szenario-{slugify(scenario.title)[:50] or scenario.pk}.{ext}"


def _change_rows(scenario: Scenario) -> list[list[Any]]:
    rows = []
    for change in scenario_changes(scenario=scenario):
        place = ""
        if change.geom is not None:
            place = f"{change.geom.x:.0f} / {change.geom.y:.0f} (EPSG:25833)"
        rows.append(
            [
                change.get_kind_display(),
                change.name or str(change.facility or _("(no longer in the register)")),
                float(change.capacity) if change.capacity is not None else None,
                change.closing_date,
                place,
            ]
        )
    return rows


def _meta(scenario: Scenario, result: dict) -> list[tuple[str, Any]]:
    return [
        (_("Note"), MARKER),
        (_("Title"), scenario.title),
        (_("Description"), scenario.description),
        (_("Supply rule"), result["rule"]),
        (_("Method"), result["method_label"]),
        (_("Level"), result["level_label"]),
        (_("Reference date"), date.fromisoformat(result["ref_date"])),
        (_("Sources"), "; ".join(result["sources"])),
        (_("Created"), timezone.localtime().strftime("%d.%m.%Y %H:%M")),
    ]


def _class_label(result: dict, cls: int | None) -> str:
    if cls is None:
        return ""
    lower, upper = result["classes"][cls]["lower"], result["classes"][cls]["upper"]
    return f"{cls + 1}: {lower:.1f} – {upper:.1f} %".replace(".", ",")


def scenario_export_xlsx(*, scenario: Scenario, method: str, level: str) -> Export:
    """Workbook: sheet "Vergleich" (before, after, change per unit), sheet
    "Änderungen" (the scenario's changes)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    result = scenario_compute(scenario=scenario, method=method, level=level)
    unit = result["capacity_unit"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Comparison")
    for key, value in _meta(scenario, result):
        sheet.append([key, value])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    sheet.cell(row=1, column=2).font = Font(bold=True, color="B3122E")
    sheet.append([])
    sheet.append(
        [
            _("Key"),
            _("Name"),
            _("Need") + f" ({unit})",
            _("Supply before") + f" ({unit})",
            _("Versorgungsgrad before") + " (%)",
            _("Class before"),
            _("Deficit before") + f" ({unit})",
            _("Supply after") + f" ({unit})",
            _("Versorgungsgrad after") + " (%)",
            _("Class after"),
            _("Deficit after") + f" ({unit})",
            _("Change of the Versorgungsgrad (percentage points)"),
            _("Class changes"),
            _("Status"),
        ]
    )
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    for row in result["units"]:
        b, a = row["before"], row["after"]
        sheet.append(
            [
                row["code"],
                row["name"],
                row["need"],
                b["supply"],
                b["grade"],
                _class_label(result, b["class"]),
                b["deficit"],
                a["supply"],
                a["grade"],
                _class_label(result, a["class"]),
                a["deficit"],
                row["change"],
                _("yes") if row["class_changed"] else "",
                _status_text(row),
            ]
        )
        sheet.cell(row=sheet.max_row, column=1).number_format = "@"
    sheet.freeze_panes = sheet.cell(row=header + 1, column=3)
    sheet.column_dimensions["B"].width = 32
    changes = workbook.create_sheet(_("Changes"))
    changes.append([MARKER])
    changes.append(
        [
            _("Kind of change"),
            _("Facility"),
            _("Capacity"),
            _("Closing date"),
            _("Location"),
        ]
    )
    for row in _change_rows(scenario):
        changes.append(row)
    return _xlsx_bytes(workbook), XLSX, _filename(scenario, "xlsx")


def _status_text(row: dict) -> str:
    if row["status"] == "suppressed":
        return _("suppressed")
    if row["status"] == "missing":
        return _("no data")
    if row["status"] == "estimated":
        return _("estimated")
    return _("incomplete") if row["incomplete"] else ""


def _xlsx_bytes(workbook: Any) -> bytes:
    for sheet in workbook.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.value = neutralise(cell.value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _change_map_png(result: dict) -> bytes:
    """The change map: Versorgungsgrad after − before per unit (RdBu, symmetric
    around 0: red worse, blue better), with scale bar, north arrow, sources."""
    from shapely import wkb

    geoms = lor_unit_geometries(level=result["level"])
    figure = graphics.figure_in(7.0, 5.2)
    ax = figure.add_axes((0.02, 0.1, 0.66, 0.82))
    ax.set_axis_off()
    colors = result["change_colors"]
    span = result["change_span"] or 1.0
    step = span / 3
    faces, shapes = [], []
    for row in result["units"]:
        geom = geoms.get(row["code"])
        if geom is None:
            continue
        change = row["change"]
        if change is None:
            face = graphics.MISSING_COLOR
        elif abs(change) < 1e-9:
            face = colors[3]
        else:
            n = min(3, int(abs(change) // step) + 1)
            face = colors[3 + n] if change > 0 else colors[3 - n]
        faces.append(face)
        shapes.append(wkb.loads(bytes(geom.wkb)))
    graphics.draw_units(
        ax, shapes, facecolors=faces, edgecolors="white", linewidths=0.25
    )
    ax.autoscale_view()
    ax.set_aspect("equal")
    bounds = ax.dataLim.bounds
    graphics.scale_bar(
        ax,
        (bounds[0], bounds[1], bounds[0] + bounds[2], bounds[1] + bounds[3]),
        style=graphics.PRINT_MAP,
    )
    graphics.north_arrow(ax, style=graphics.PRINT_MAP)

    def label(lo: float, hi: float) -> str:
        return f"{lo:+.1f} … {hi:+.1f}".replace(".", ",")

    handles = [
        graphics.legend_patch(colors[6], label(2 * step, span)),
        graphics.legend_patch(colors[5], label(step, 2 * step)),
        graphics.legend_patch(colors[4], label(0, step)),
        graphics.legend_patch(colors[3], _("unchanged")),
        graphics.legend_patch(colors[2], label(-step, 0)),
        graphics.legend_patch(colors[1], label(-2 * step, -step)),
        graphics.legend_patch(colors[0], label(-span, -2 * step)),
        graphics.legend_patch(graphics.MISSING_COLOR, _("no data")),
    ]
    graphics.figure_legend(
        figure,
        handles,
        anchor=(0.69, 0.9),
        title=graphics.wrap(_("Change of the Versorgungsgrad (percentage points)"), 30),
        fontsize=6,
    )
    figure.suptitle(f"{MARKER}: {result['title']}", fontsize=9, x=0.02, ha="left")
    graphics.source_line(
        figure, "; ".join(result["sources"]), y=0.02, wrap=True, fontsize=5
    )
    return graphics.figure_save(figure, "png")


def scenario_export_pdf(*, scenario: Scenario, method: str, level: str) -> Export:
    """A4 report: the marker on every page, the changes, the units whose
    Versorgungsgrad changes (before, after, change, class), sources."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    result = scenario_compute(scenario=scenario, method=method, level=level)
    changed_units = [r for r in result["units"] if r["change"]]
    html = render_to_string(
        "infrastructure/scenario_pdf.html",
        {
            "scenario": scenario,
            "result": result,
            "marker": MARKER,
            "meta": _meta(scenario, result),
            "changes": _change_rows(scenario),
            "units": [
                {
                    **r,
                    "class_before": _class_label(result, r["before"]["class"]),
                    "class_after": _class_label(result, r["after"]["class"]),
                }
                for r in changed_units
            ],
            "unchanged": len(result["units"]) - len(changed_units),
            "change_map": "data:image/png;base64,"
            + base64.b64encode(_change_map_png(result)).decode("ascii"),
        },
    )
    # Everything is in the HTML: no file or network access while rendering.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    pdf = HTML(string=html, url_fetcher=fetcher, base_url=".").write_pdf()
    return pdf, "application/pdf", _filename(scenario, "pdf")
