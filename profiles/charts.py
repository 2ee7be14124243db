"""Static maps and charts of a Bezirksregion profile, drawn with matplotlib as PNG.

Everything here works on the plain profile analysis (``profiles.analysis_types``)
plus the LOR geometry. The Planungsraum polygons are read from PostGIS once per
process and simplified for print (a few metres are invisible at 1:25,000), so a
batch of 143 PDFs reads them once per worker. Suppressed values never get a
colour of the value scale: they are hatched grey and named as such.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import shapely
from django.db import connection
from django.utils.translation import gettext as _
from matplotlib.patches import Patch

from datapool.age_structure import age_band_start, age_band_width
from datapool.numbers import german
from datapool.timeline import ESTIMATED_LABEL
from explorer import graphics
from explorer.maps.geometry import lor_simplify
from lor.models import LorUnit

from .analysis_types import AgeBand, IndicatorMap, InfrastructureChapter, Series

# Metres: well below what a 17 cm wide map of one Bezirksregion can show.
PRINT_TOLERANCE_M = 6.0
LINE_COLORS = {"region": "#225ea8", "district": "#e6550d", "berlin": "#636363"}


@dataclass(frozen=True)
class _Geometry:
    version: tuple
    plr: dict[str, shapely.Geometry]


_geometry: _Geometry | None = None
_lock = threading.Lock()


def _version() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), coalesce(max(id), 0), coalesce(sum(area_m2), 0) "
            f"FROM {LorUnit._meta.db_table} WHERE scheme = %s AND level = %s",
            [LorUnit.Scheme.LOR_2021, LorUnit.Level.PLANUNGSRAUM],
        )
        return tuple(cursor.fetchone())


def plr_geometries() -> dict[str, shapely.Geometry]:
    """Every Planungsraum's print-simplified polygon (EPSG:25833), by key, cached."""
    global _geometry
    version = _version()
    if _geometry is not None and _geometry.version == version:
        return _geometry.plr
    with _lock:
        if _geometry is not None and _geometry.version == version:
            return _geometry.plr
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT code, ST_AsBinary(geom) FROM {LorUnit._meta.db_table} "
                "WHERE scheme = %s AND level = %s ORDER BY code",
                [LorUnit.Scheme.LOR_2021, LorUnit.Level.PLANUNGSRAUM],
            )
            rows = cursor.fetchall()
        geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
        simplified = lor_simplify(geoms, PRINT_TOLERANCE_M)
        plr = {code: geom for (code, _wkb), geom in zip(rows, simplified, strict=True)}
        _geometry = _Geometry(version, plr)
        return plr


def _classes(values: list[float]) -> list[float]:
    """Upper bounds of up to four equal-interval classes over the region's values."""
    distinct = sorted(set(values))
    if len(distinct) <= 4:
        return distinct
    low, high = distinct[0], distinct[-1]
    return [float(b) for b in np.linspace(low, high, 5)[1:]]


def choropleth_png(
    *,
    map_data: IndicatorMap,
    region_code: str,
    source_line: str,
    labels: dict[str, str] | None = None,
    size: tuple[float, float] = (6.7, 3.9),
) -> bytes:
    """The region's Planungsräume coloured by one indicator, with legend and scale."""
    geoms = plr_geometries()
    codes = sorted(c for c in geoms if c.startswith(region_code))
    figure = graphics.figure_in(*size)
    ax = figure.add_axes((0.01, 0.07, 0.6, 0.9))
    ax.set_axis_off()
    if not codes:
        ax.text(0.5, 0.5, "–", ha="center", transform=ax.transAxes)
        return graphics.figure_png_opaque(figure)
    region = shapely.union_all([geoms[c] for c in codes])
    minx, miny, maxx, maxy = region.bounds
    pad = max(maxx - minx, maxy - miny) * 0.06
    view = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    neighbours = [g for c, g in geoms.items() if c not in codes and g.intersects(view)]
    graphics.draw_units(
        ax,
        neighbours,
        facecolors=graphics.NEIGHBOUR_COLOR,
        edgecolors="white",
        linewidths=0.6,
    )
    values = map_data.get("values") or {}
    ok = {}
    for code in codes:
        cell = values.get(code) or {}
        if cell.get("status", "ok") == "ok" and cell.get("value") is not None:
            ok[code] = float(cell["value"])
    bounds = _classes(list(ok.values())) if ok else []
    colors = graphics.YLGNBU[max(len(bounds), 1)] if bounds else []
    faces, hatches, handles = [], [], []
    counts = [0] * len(bounds)
    n_suppressed = n_missing = 0
    for code in codes:
        status = (values.get(code) or {}).get("status", "missing")
        if code in ok:
            index = min(
                int(np.searchsorted(bounds, ok[code], side="left")), len(bounds) - 1
            )
            counts[index] += 1
            faces.append(colors[index])
            hatches.append("")
        elif status in ("suppressed", "below_min"):
            n_suppressed += 1
            faces.append(graphics.SUPPRESSED_COLOR)
            hatches.append("////")
        else:
            n_missing += 1
            faces.append(graphics.PRINT_MISSING_COLOR)
            hatches.append("")
    for code, face, hatch in zip(codes, faces, hatches, strict=True):
        graphics.draw_units(
            ax,
            [geoms[code]],
            facecolors=face,
            edgecolors="white" if not hatch else "#777777",
            linewidths=0.8,
            hatch=hatch or None,
        )
    graphics.draw_units(
        ax, [region], facecolors="none", edgecolors="#222222", linewidths=1.4
    )
    for code in codes:
        point = geoms[code].representative_point()
        text = (labels or {}).get(code, code[-2:])
        ax.text(
            point.x,
            point.y,
            text,
            fontsize=5.5,
            ha="center",
            va="center",
            color="#111111",
            bbox={
                "boxstyle": "round,pad=0.15",
                "fc": "white",
                "ec": "none",
                "alpha": 0.7,
            },
        )
    ax.set_xlim(view.bounds[0], view.bounds[2])
    ax.set_ylim(view.bounds[1], view.bounds[3])
    ax.set_aspect("equal")
    graphics.scale_bar(ax, region.bounds, style=graphics.PRINT_MAP)
    graphics.north_arrow(ax, style=graphics.PRINT_MAP)
    lower = min(ok.values()) if ok else 0.0
    decimals = 0 if all(float(v).is_integer() for v in ok.values()) else 1
    for i, upper in enumerate(bounds):
        if len(set(ok.values())) <= 4:
            label = german(upper, decimals)
        else:
            label = f"{german(lower, decimals)} – {german(upper, decimals)}"
        handles.append(graphics.legend_patch(colors[i], f"{label} ({counts[i]})"))
        lower = upper
    if n_suppressed:
        handles.append(
            graphics.legend_patch(
                graphics.SUPPRESSED_COLOR,
                f"{_('suppressed or below minimum count')} ({n_suppressed})",
                edgecolor="#777777",
                hatch="////",
            )
        )
    if n_missing:
        handles.append(
            graphics.legend_patch(
                graphics.PRINT_MISSING_COLOR, f"{_('no data')} ({n_missing})"
            )
        )
    unit = f" [{map_data['unit']}]" if map_data.get("unit") else ""
    graphics.figure_legend(
        figure,
        handles,
        anchor=(0.63, 0.95),
        title=graphics.wrap(f"{map_data.get('name', '')}{unit}", 34),
        fontsize=7,
        alignment="left",
    )
    figure.text(
        0.63,
        0.14,
        graphics.wrap(_("Labels: number of the Planungsraum"), 40),
        fontsize=6,
    )
    if source_line:
        graphics.source_line(
            figure,
            graphics.wrap(source_line, 150),
            x=0.01,
            y=0.015,
            fontsize=5.5,
            color="#444",
        )
    return graphics.figure_png_opaque(figure)


class AgeBar(NamedTuple):
    """One age band as drawn: from ``start`` (years) over ``width`` years."""

    start: int
    width: int
    per_year: float | None  # persons per year of age; None when not shown
    estimated: bool = False  # converted from LOR 2006: drawn hatched


def _band_span(band: AgeBand) -> tuple[int, int]:
    """(first year of age, width in years) of a band, from its key or label."""
    label = band.get("band", "")
    if band.get("key"):
        key = band["key"]
        return age_band_start(key), age_band_width(key)
    # A stored band without its variable key: from its label ("0", "3–4",
    # "95+", as ``age_band_label`` writes it).
    if label.endswith("+"):
        low = int(label[:-1])
        return low, age_band_width(f"E_E{low:02d}_110")
    low, _sep, last = label.partition("–")
    return int(low), int(last or low) - int(low) + 1


def age_bars(bands: list[AgeBand]) -> list[AgeBar]:
    """The bands as bars of persons per year of age, so widths stay comparable.

    The EWR bands are 1, 2, 3 or 5 years wide (``datapool.age_structure``):
    drawn as counts, a 5-year band would look five times as large as its
    neighbours.
    """
    bars = []
    for band in bands:
        start, width = _band_span(band)
        shown = band.get("status", "ok") == "ok" and band.get("value") is not None
        bars.append(
            AgeBar(
                start,
                width,
                float(band["value"]) / width if shown else None,
                bool(band.get("estimated")),
            )
        )
    return bars


def age_structure_png(*, bands: list[AgeBand], size=(6.7, 3.0)) -> bytes | None:
    """Residents per year of age, a bar per band; None when all are suppressed."""
    figure = age_structure_figure(bands=bands, size=size)
    return None if figure is None else graphics.figure_png_opaque(figure)


def age_structure_figure(*, bands: list[AgeBand], size=(6.7, 3.0)):
    """The figure of ``age_structure_png`` (bars as wide as their bands)."""
    bars = age_bars(bands)
    if all(bar.per_year is None for bar in bars):
        return None
    figure = graphics.figure_in(*size)
    ax = figure.add_axes((0.09, 0.15, 0.89, 0.8))
    drawn = [bar for bar in bars if bar.per_year is not None]
    ax.bar(
        [bar.start for bar in drawn],
        [bar.per_year for bar in drawn],
        width=[bar.width for bar in drawn],
        align="edge",
        color="#41b6c4",
        edgecolor=["#1d6b75" if bar.estimated else "white" for bar in drawn],
        hatch=["///" if bar.estimated else "" for bar in drawn],
        linewidth=0.4,
    )
    if any(bar.estimated for bar in drawn):
        hatched = Patch(
            facecolor="#41b6c4",
            edgecolor="#1d6b75",
            hatch="///",
            label=str(ESTIMATED_LABEL),
        )
        ax.legend(handles=[hatched], fontsize=6, frameon=False)
    for bar in bars:
        if bar.per_year is None:
            ax.text(
                bar.start + bar.width / 2,
                0,
                "g",
                ha="center",
                va="bottom",
                fontsize=6,
                color="#777777",
            )
    end = bars[-1].start + bars[-1].width
    ax.set_xlim(0, end)
    ticks = list(range(0, end + 1, 10))
    ax.set_xticks(
        ticks, [f"{t}+" if t == bars[-1].start else str(t) for t in ticks], fontsize=6
    )
    ax.tick_params(axis="y", labelsize=6)
    ax.yaxis.set_major_formatter(graphics.german_formatter())
    ax.set_xlabel(_("Age (years)"), fontsize=7)
    ax.set_ylabel(_("Persons per year of age"), fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return figure


def series_png(*, series: Series, size=(6.7, 2.4)) -> bytes | None:
    """Region, district and Berlin over the reference dates; None without points."""
    figure = series_figure(series=series, size=size)
    return None if figure is None else graphics.figure_png_opaque(figure)


def series_figure(*, series: Series, size=(6.7, 2.4)):
    """The figure of ``series_png`` (None without two points to draw).

    The LOR reform is marked where the dates span it; estimated values
    (converted from LOR 2006) are hollow and their segments dashed.
    """
    points = series.get("points") or []
    if len(points) < 2:
        return None
    from datetime import date

    figure = graphics.figure_in(*size)
    ax = figure.add_axes((0.09, 0.12, 0.6, 0.76))
    labels = {
        "region": _("Bezirksregion"),
        "district": _("District"),
        "berlin": _("Berlin"),
    }
    # Counts of a region, its district and Berlin differ by two orders of
    # magnitude: they are compared as an index (first date = 100); shares as is.
    as_index = series.get("unit") != "%"
    all_dates: set = set()
    handles = []
    any_estimated = False
    for key, label in labels.items():
        dates = [date.fromisoformat(p["date"]) for p in points]
        values = [None if p.get(key) is None else float(p[key]) for p in points]
        estimated = [bool((p.get("estimated") or {}).get(key)) for p in points]
        if as_index:
            base = next((v for v in values if v is not None), None)
            values = (
                [None if v is None else v / base * 100 for v in values]
                if base
                else [None] * len(values)
            )
        if all(v is None for v in values):
            continue
        all_dates.update(d for d, v in zip(dates, values, strict=True) if v is not None)
        any_estimated |= any(
            e and v is not None for e, v in zip(estimated, values, strict=True)
        )
        handles.append(
            graphics.series_line(
                ax,
                dates,
                values,
                estimated,
                color=LINE_COLORS[key],
                label=label,
                linewidth=1.2,
            )
        )
    if not handles:
        return None
    import matplotlib.dates as mdates

    ax.tick_params(labelsize=6)
    ax.yaxis.set_major_formatter(graphics.german_formatter())
    ticks = sorted(all_dates)
    if len(ticks) <= 8:
        ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m/%Y"))
    ax.spines[["top", "right"]].set_visible(False)
    unit = f" [{series['unit']}]" if series.get("unit") else ""
    title = f"{series.get('name', '')}{unit}"
    if as_index:
        title = f"{series.get('name', '')}: {_('index, first reference date = 100')}"
    ax.set_title(graphics.wrap(title, 70), fontsize=8, loc="left")
    graphics.series_axes_finish(
        ax, ticks, any_estimated=any_estimated, handles=handles, fontsize=6
    )
    return figure


# Facility symbols: shape and colour differ, so the map reads in greyscale and
# for colour-blind readers (Okabe–Ito colours).
FACILITY_SYMBOLS = (
    ("o", "#E69F00"),
    ("s", "#0072B2"),
    ("^", "#009E73"),
    ("D", "#CC79A7"),
    ("v", "#D55E00"),
    ("P", "#56B4E9"),
    ("X", "#F0E442"),
    ("*", "#000000"),
)


def facility_symbol(index: int) -> tuple[str, str]:
    return FACILITY_SYMBOLS[index % len(FACILITY_SYMBOLS)]


def facility_map_png(
    *,
    chapter: InfrastructureChapter,
    region_code: str,
    source_line: str,
    size: tuple[float, float] = (6.7, 3.9),
) -> bytes:
    """The region's Planungsräume with the register's facilities as symbols.

    Every type of the chapter is listed in the legend with its count; facilities
    whose location is unknown (only their Planungsraum) are counted there as such.
    """
    geoms = plr_geometries()
    codes = sorted(c for c in geoms if c.startswith(region_code))
    figure = graphics.figure_in(*size)
    ax = figure.add_axes((0.01, 0.07, 0.6, 0.9))
    ax.set_axis_off()
    if not codes:
        ax.text(0.5, 0.5, "–", ha="center", transform=ax.transAxes)
        return graphics.figure_png_opaque(figure)
    region = shapely.union_all([geoms[c] for c in codes])
    minx, miny, maxx, maxy = region.bounds
    pad = max(maxx - minx, maxy - miny) * 0.06
    view = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    neighbours = [g for c, g in geoms.items() if c not in codes and g.intersects(view)]
    graphics.draw_units(
        ax,
        neighbours,
        facecolors=graphics.NEIGHBOUR_COLOR,
        edgecolors="white",
        linewidths=0.6,
    )
    graphics.draw_units(
        ax,
        [geoms[c] for c in codes],
        facecolors="#f7f7f7",
        edgecolors="#999999",
        linewidths=0.6,
    )
    graphics.draw_units(
        ax, [region], facecolors="none", edgecolors="#222222", linewidths=1.4
    )
    handles = []
    facilities = chapter.get("facilities") or []
    for index, facility_type in enumerate(chapter.get("facility_types") or []):
        if not facility_type.get("count"):
            continue
        marker, color = facility_symbol(index)
        of_type = [f for f in facilities if f.get("type") == facility_type["key"]]
        placed = [f for f in of_type if f.get("x") is not None]
        if placed:
            ax.scatter(
                [f["x"] for f in placed],
                [f["y"] for f in placed],
                marker=marker,
                s=18,
                c=color,
                edgecolors="#222222",
                linewidths=0.5,
                zorder=3,
            )
        label = f"{facility_type['name']} ({len(placed)})"
        unplaced = len(of_type) - len(placed)
        if unplaced:
            label += " + " + _("%(n)s without location") % {"n": unplaced}
        handles.append(graphics.legend_marker(color, marker, label))
    ax.set_xlim(view.bounds[0], view.bounds[2])
    ax.set_ylim(view.bounds[1], view.bounds[3])
    ax.set_aspect("equal")
    graphics.scale_bar(ax, region.bounds, style=graphics.PRINT_MAP)
    graphics.north_arrow(ax, style=graphics.PRINT_MAP)
    if not handles:
        handles.append(
            graphics.legend_patch(graphics.PRINT_MISSING_COLOR, _("no facilities"))
        )
    graphics.figure_legend(
        figure,
        handles,
        anchor=(0.63, 0.95),
        title=graphics.wrap(_("Facilities of the register"), 34),
        fontsize=7,
        alignment="left",
    )
    figure.text(
        0.63,
        0.14,
        graphics.wrap(
            _(
                "Facilities without location (tables with Planungsraum only) "
                "are counted, not drawn."
            ),
            40,
        ),
        fontsize=6,
    )
    if source_line:
        graphics.source_line(
            figure,
            graphics.wrap(source_line, 150),
            x=0.01,
            y=0.015,
            fontsize=5.5,
            color="#444",
        )
    return graphics.figure_png_opaque(figure)
