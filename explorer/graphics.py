"""Drawing primitives of every PRISMA figure, drawn with matplotlib.

One owner for how a figure looks, used by the web exports and the print (PDF)
exports of ``explorer.exports``, the analysis charts of ``explorer.charts`` and
the profile charts of ``profiles.charts``. The rules every figure follows:

- Numbers are German: ``1.234,5`` on ticks, in legends and in labels.
- Colours are ColorBrewer ramps (colorbrewer2.org) that ColorBrewer marks
  colour-blind safe.
- A suppressed unit never gets a colour of the value scale: it is hatched grey
  and named as such in the legend; a unit without data is drawn light grey.
- Maps are drawn in EPSG:25833, whose unit is the metre, so a scale bar needs no
  projection.
- Every figure names its source (and licence) on the figure itself.
- A time series across the LOR reform marks it: a grey band from 31.12.2020 to
  1.1.2021 with a line and the label "LOR-Reform 2021" (the dates are
  ``lor.hierarchy``'s). Estimated values (converted from LOR 2006 by the
  crosswalk) are hollow markers, and every line segment touching one is dashed;
  the legend names them "geschätzt (umgerechnet aus LOR 2006)".

Figures are built with ``matplotlib.figure.Figure`` directly, never through
``pyplot``: no global state, so threads and batch workers do not interfere.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from datapool.numbers import german_tick
from datapool.timeline import ESTIMATED_LABEL, REFORM_LABEL
from lor import hierarchy

# --- figures --------------------------------------------------------------------

# Web exports and analysis charts: sharp on screen and in office documents.
EXPORT_DPI = 200
# Print: enough for 9 pt text on paper, cheap to encode and embed in a PDF.
PRINT_DPI = 110
CONTENT_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}


def figure_px(width_px: int, height_px: int, *, dpi: int = EXPORT_DPI):
    """An empty figure of this size in pixels at ``dpi``."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)


def figure_in(width_in: float, height_in: float, *, dpi: int = PRINT_DPI):
    """An empty white figure of this size in inches at ``dpi`` (print)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=dpi, facecolor="white")


def figure_save(
    figure, fmt: str, *, dpi: int = EXPORT_DPI, metadata: dict | None = None
) -> bytes:
    """The figure as PNG, SVG or PDF bytes (``metadata``: the format's own keys)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def figure_png_opaque(figure) -> bytes:
    """Opaque RGB PNG: no alpha channel for the PDF to carry as a soft mask, and
    light compression, which is several times faster than the default."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba())
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", compress_level=2)
    return buffer.getvalue()


def wrap(text: str, width: int) -> str:
    """The text broken into lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width)) or text


# --- colours --------------------------------------------------------------------

SUPPRESSED_COLOR = "#bdbdbd"
# "No data" of the export map and of the print maps; both are lighter than the
# lightest class colour (print is a shade lighter for paper).
MISSING_COLOR = "#f0f0f0"
# The dashed outline of units whose value is estimated (converted from LOR 2006).
ESTIMATED_EDGE = "#1f2933"
PRINT_MISSING_COLOR = "#f4f4f4"
# Units around the mapped area (print maps), for orientation only.
NEIGHBOUR_COLOR = "#ececec"
# One series or one set of bars.
BAR_COLOR = "#3182bd"
# Up to five series side by side, distinguishable for colour-blind readers.
SERIES_COLORS = ("#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363")
# ColorBrewer YlGnBu by class count, for print maps of up to four classes.
YLGNBU = {
    1: ["#41b6c4"],
    2: ["#a1dab4", "#225ea8"],
    3: ["#edf8b1", "#7fcdbb", "#2c7fb8"],
    4: ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
}


def colormap(palette: str):
    """matplotlib's colormap of this name; ``KeyError`` for an unknown one."""
    import matplotlib

    return matplotlib.colormaps[palette]


def ramp_colors(cmap, n: int) -> list[tuple[float, float, float, float]]:
    """``n`` colours evenly spread over a colormap, from its start to its end."""
    return [cmap(i / max(n - 1, 1)) for i in range(n)]


# --- German numbers (written by datapool.numbers) -------------------------------


def german_formatter():
    """A matplotlib tick formatter writing ``german_tick``."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: german_tick(value))


# --- source line ----------------------------------------------------------------


def source_line(
    figure, text: str, *, x: float = 0.02, y: float = 0.01, fontsize: float = 5, **kw
) -> None:
    """The source line at the foot of the figure (figure coordinates)."""
    figure.text(x, y, text, fontsize=fontsize, **kw)


# --- map furniture --------------------------------------------------------------


@dataclass(frozen=True)
class MapFurniture:
    """Sizes of scale bar and north arrow for one kind of map."""

    # The bar is a round length (1, 2 or 5 × 10^n m) of at most 1/bar_parts of
    # the width of the bounds it is drawn under.
    bar_parts: int
    # Gap between the bounds and the bar, as a share of their height.
    bar_offset: float
    bar_linewidth: float
    fontsize: float
    # North arrow: tip and tail in axes coordinates.
    arrow_x: float
    arrow_tip: float
    arrow_tail: float
    arrow_width: float
    arrow_headwidth: float


EXPORT_MAP = MapFurniture(
    bar_parts=5,
    bar_offset=0.04,
    bar_linewidth=2,
    fontsize=6,
    arrow_x=0.95,
    arrow_tip=0.97,
    arrow_tail=0.85,
    arrow_width=2,
    arrow_headwidth=7,
)
PRINT_MAP = MapFurniture(
    bar_parts=4,
    bar_offset=0.05,
    bar_linewidth=2.5,
    fontsize=7,
    arrow_x=0.97,
    arrow_tip=0.99,
    arrow_tail=0.86,
    arrow_width=1.5,
    arrow_headwidth=6,
)


def scale_bar(ax, bounds: Sequence[float], *, style: MapFurniture) -> None:
    """A labelled scale bar under the lower left corner of ``bounds`` (metres)."""
    minx, miny, maxx, maxy = bounds
    raw = (maxx - minx) / style.bar_parts
    magnitude = 10 ** int(np.floor(np.log10(raw)))
    length = max(m * magnitude for m in (1, 2, 5) if m * magnitude <= raw)
    x0, y0 = minx, miny - (maxy - miny) * style.bar_offset
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=style.bar_linewidth)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(
        x0 + length / 2, y0, label, ha="center", va="bottom", fontsize=style.fontsize
    )


def north_arrow(ax, *, style: MapFurniture) -> None:
    """An arrow labelled N at the top right of the axes (maps point north)."""
    ax.annotate(
        "N",
        xy=(style.arrow_x, style.arrow_tip),
        xytext=(style.arrow_x, style.arrow_tail),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=8,
        arrowprops={
            "facecolor": "black",
            "width": style.arrow_width,
            "headwidth": style.arrow_headwidth,
        },
    )


# --- legend ---------------------------------------------------------------------


def legend_patch(
    color: Any,
    label: str,
    *,
    edgecolor: str = "grey",
    hatch: str | None = None,
    linestyle: str = "solid",
):
    """A legend entry: a filled box (hatched for suppressed units, outlined
    dashed for estimated ones) and its label."""
    from matplotlib.patches import Patch

    if hatch is None:
        return Patch(
            facecolor=color, edgecolor=edgecolor, label=label, linestyle=linestyle
        )
    return Patch(facecolor=color, edgecolor=edgecolor, hatch=hatch, label=label)


def legend_marker(color: Any, marker: str, label: str, *, size: float = 6):
    """A legend entry for point symbols (facilities): the marker and its label."""
    from matplotlib.lines import Line2D

    return Line2D(
        [],
        [],
        linestyle="none",
        marker=marker,
        markersize=size,
        markerfacecolor=color,
        markeredgecolor="#222222",
        markeredgewidth=0.5,
        label=label,
    )


def figure_legend(
    figure,
    handles: list,
    *,
    anchor: tuple[float, float],
    title: str,
    fontsize: float,
    **kw,
) -> None:
    """The legend beside a map: its upper left corner at ``anchor``, no frame."""
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=anchor,
        title=title,
        title_fontsize=fontsize,
        fontsize=fontsize,
        frameon=False,
        **kw,
    )


# --- choropleth of LOR units ----------------------------------------------------


def unit_path(geom):
    """A matplotlib Path of a (multi)polygon with holes (even-odd)."""
    from matplotlib.path import Path

    vertices, codes = [], []
    for polygon in getattr(geom, "geoms", [geom]):
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)
            vertices.append(coords)
            ring_codes = np.full(len(coords), Path.LINETO, dtype=np.uint8)
            ring_codes[0] = Path.MOVETO
            ring_codes[-1] = Path.CLOSEPOLY
            codes.append(ring_codes)
    return Path(np.concatenate(vertices), np.concatenate(codes))


def draw_units(
    ax,
    geoms: Sequence,
    *,
    facecolors: Any,
    edgecolors: Any,
    linewidths: float,
    hatch: str | None = None,
    linestyles: Any = "solid",
) -> None:
    """Unit polygons (EPSG:25833) as one collection; ``hatch`` marks suppression,
    dashed ``linestyles`` estimated values."""
    from matplotlib.collections import PathCollection

    ax.add_collection(
        PathCollection(
            [unit_path(g) for g in geoms],
            facecolors=facecolors,
            edgecolors=edgecolors,
            linewidths=linewidths,
            hatch=hatch,
            linestyles=linestyles,
        )
    )


# --- time series across the LOR reform ------------------------------------------

# The labels (REFORM_LABEL, ESTIMATED_LABEL) are datapool.timeline's: the
# series API and the pages' scripts say the same.
REFORM_COLOR = "#737373"
# The ids the artists carry (SVG ``id``; tests find them by ``get_gid``).
REFORM_GID = "lor-reform"
ESTIMATED_SEGMENT_GID = "estimated-segment"
ESTIMATED_MARKER_GID = "estimated-marker"
ESTIMATED_LINESTYLE = (0, (3, 2))


def reform_in_range(dates: Sequence) -> bool:
    """True if the dates lie on both sides of the LOR reform."""
    return bool(dates) and (
        min(dates) <= hierarchy.LOR_2006_LAST_DATE
        and max(dates) >= hierarchy.LOR_REFORM_DATE
    )


def reform_marker(ax, *, fontsize: float = 5) -> None:
    """The LOR reform as a labelled band from 31.12.2020 to 1.1.2021.

    Call it after the series are drawn: the x axis then holds dates.
    """
    start, end = hierarchy.LOR_2006_LAST_DATE, hierarchy.LOR_REFORM_DATE
    band = ax.axvspan(start, end, color=REFORM_COLOR, alpha=0.25, linewidth=0)
    band.set_gid(f"{REFORM_GID}-band")
    line = ax.axvline(end, color=REFORM_COLOR, linewidth=0.8, linestyle=":")
    line.set_gid(REFORM_GID)
    line.set_label("_nolegend_")
    text = ax.text(
        end,
        0.98,
        f" {REFORM_LABEL}",
        transform=ax.get_xaxis_transform(),
        ha="left",
        va="top",
        fontsize=fontsize,
        color="#525252",
    )
    text.set_gid(f"{REFORM_GID}-label")


def series_line(
    ax,
    dates: Sequence,
    values: Sequence[float | None],
    estimated: Sequence[bool],
    *,
    color: Any,
    label: str,
    linewidth: float = 1,
    markersize: float = 3,
):
    """One series: solid where exact, dashed and hollow where estimated.

    ``None`` values break the line. Returns the handle for the legend (a solid
    line with a filled marker in the series' colour).
    """
    from matplotlib.lines import Line2D

    points = [
        (d, float(v), bool(e))
        for d, v, e in zip(dates, values, estimated, strict=True)
        if v is not None
    ]
    # Consecutive points are joined unless a None lies between them.
    present = [v is not None for v in values]
    index = [i for i, p in enumerate(present) if p]
    joined = [b - a == 1 for a, b in zip(index, index[1:], strict=False)]
    runs: list[tuple[bool, list]] = []
    for (d0, v0, e0), (d1, v1, e1), join in zip(
        points, points[1:], joined, strict=False
    ):
        if not join:
            continue
        dashed = e0 or e1
        if runs and runs[-1][0] == dashed and runs[-1][1][-1] == (d0, v0):
            runs[-1][1].append((d1, v1))
        else:
            runs.append((dashed, [(d0, v0), (d1, v1)]))
    for dashed, run in runs:
        (line,) = ax.plot(
            [d for d, _v in run],
            [v for _d, v in run],
            color=color,
            linewidth=linewidth,
            linestyle=ESTIMATED_LINESTYLE if dashed else "-",
            label="_nolegend_",
        )
        if dashed:
            line.set_gid(ESTIMATED_SEGMENT_GID)
    exact = [(d, v) for d, v, e in points if not e]
    guessed = [(d, v) for d, v, e in points if e]
    if exact:
        ax.plot(
            [d for d, _v in exact],
            [v for _d, v in exact],
            linestyle="none",
            marker="o",
            markersize=markersize,
            color=color,
            label="_nolegend_",
        )
    if guessed:
        (markers,) = ax.plot(
            [d for d, _v in guessed],
            [v for _d, v in guessed],
            linestyle="none",
            marker="o",
            markersize=markersize,
            markerfacecolor="white",
            markeredgecolor=color,
            label="_nolegend_",
        )
        markers.set_gid(ESTIMATED_MARKER_GID)
    return Line2D(
        [],
        [],
        color=color,
        linewidth=linewidth,
        marker="o",
        markersize=markersize,
        label=label,
    )


def estimated_handle(*, linewidth: float = 1, markersize: float = 3):
    """The legend entry for estimated values: dashed grey, hollow marker."""
    from matplotlib.lines import Line2D

    return Line2D(
        [],
        [],
        color="#525252",
        linewidth=linewidth,
        linestyle=ESTIMATED_LINESTYLE,
        marker="o",
        markersize=markersize,
        markerfacecolor="white",
        label=str(ESTIMATED_LABEL),
    )


def series_axes_finish(
    ax,
    dates: Sequence,
    *,
    any_estimated: bool,
    handles: list,
    fontsize: float = 5,
    legend_kw: dict | None = None,
) -> None:
    """Reform marker (when the dates span it) and the legend with the estimated
    entry (when a value is estimated): the same on every time-series chart."""
    if reform_in_range(dates):
        reform_marker(ax, fontsize=fontsize)
    if any_estimated:
        handles = [*handles, estimated_handle()]
    ax.legend(
        handles=handles,
        fontsize=fontsize,
        frameon=False,
        **(legend_kw or {"loc": "upper left", "bbox_to_anchor": (1.02, 1)}),
    )
