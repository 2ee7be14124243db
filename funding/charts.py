"""Server-side charts of funding: time series per programme, scatter against need,
and a map of funding per resident (for the report), drawn the way every PRISMA
figure is (``explorer.graphics``): title, German numbers, source line, and the
example-data mark where example data enters.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from datapool.numbers import german_label
from explorer import graphics
from explorer.charts import pearson
from lor import hierarchy
from lor.attribution import LOR_LICENSE, LOR_SOURCE_SHORT
from lor.models import LorUnit

from .models import EXAMPLE_NOTE
from .selectors import FundingTable

FORMATS = ("svg", "png")


@dataclass
class Chart:
    content: bytes
    content_type: str
    filename: str
    figures: dict


def _foot(figure, credits: list[str], has_examples: bool) -> None:
    text = _("Sources") + ": " + "; ".join(credits) + " · PRISMA Berlin"
    graphics.source_line(figure, graphics.wrap(text, 200))
    if has_examples:
        figure.text(
            0.98, 0.96, EXAMPLE_NOTE, fontsize=7, ha="right", color="#b3122e",
            weight="bold",
        )  # fmt: skip


def chart_timeseries(
    *,
    series: dict[str, dict[int, tuple[float, float]]],
    measure: str,
    title: str,
    credits: list[str],
    has_examples: bool,
    fmt: str,
) -> Chart:
    """Euros per year, one line per programme (approved or paid)."""
    index = 0 if measure == "approved" else 1
    figure = graphics.figure_px(1600, 900)
    ax = figure.add_axes((0.1, 0.16, 0.6, 0.7))
    years = sorted({y for values in series.values() for y in values})
    for number, (name, values) in enumerate(series.items()):
        color = graphics.SERIES_COLORS[number % len(graphics.SERIES_COLORS)]
        ax.plot(
            years,
            [values.get(y, (0.0, 0.0))[index] for y in years],
            marker="o",
            markersize=3,
            linewidth=1,
            color=color,
            label=graphics.wrap(name, 40),
        )
    ax.set_xticks(years)
    ax.set_xticklabels([str(y) for y in years])
    ax.yaxis.set_major_formatter(graphics.german_formatter())
    ax.tick_params(labelsize=5)
    ax.set_ylabel(
        _("approved (EUR)") if measure == "approved" else _("paid (EUR)"), fontsize=6
    )
    if series:
        ax.legend(fontsize=5, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    else:
        ax.text(0.5, 0.5, _("No funding in this selection."), ha="center", fontsize=7)
    figure.suptitle(title, fontsize=8, x=0.02, ha="left")
    _foot(figure, credits, has_examples)
    return Chart(
        graphics.figure_save(figure, fmt),
        graphics.CONTENT_TYPES[fmt],
        f"foerdermittel-zeitreihe.{fmt}",
        {"years": len(years)},
    )


def chart_scatter(
    *,
    points: list[tuple[str, str, float, float]],
    measure: str,
    title: str,
    credits: list[str],
    has_examples: bool,
    fmt: str,
) -> Chart:
    """Euros per resident (y) against the MSS status index (x), Pearson's r."""
    xs = [p[2] for p in points]
    ys = [p[3] for p in points]
    r = pearson(xs, ys)
    figure = graphics.figure_px(1600, 1200)
    ax = figure.add_axes((0.12, 0.14, 0.84, 0.72))
    ax.scatter(xs, ys, s=6, color=graphics.BAR_COLOR, alpha=0.7, linewidths=0)
    ax.axvline(1.0, color="#999999", linewidth=0.5, linestyle="--")
    ax.tick_params(labelsize=5)
    ax.xaxis.set_major_formatter(graphics.german_formatter())
    ax.yaxis.set_major_formatter(graphics.german_formatter())
    ax.set_xlabel(
        _("MSS 2021 status index (z-value; higher = more need; > 1 low status)"),
        fontsize=6,
    )
    ax.set_ylabel(
        _("approved EUR per resident")
        if measure == "approved"
        else _("paid EUR per resident"),
        fontsize=6,
    )
    r_text = _("r not computable") if r is None else f"r = {r:.3f}".replace(".", ",")
    figure.suptitle(
        f"{title} ({r_text}, n = {len(points)})", fontsize=8, x=0.02, ha="left"
    )
    _foot(figure, credits, has_examples)
    return Chart(
        graphics.figure_save(figure, fmt),
        graphics.CONTENT_TYPES[fmt],
        f"foerdermittel-bedarf.{fmt}",
        {"r": r, "n": len(points)},
    )


def map_png(*, table: FundingTable, measure: str, title: str) -> bytes:
    """A print map of euros per resident per unit (five classes by quantiles)."""
    import numpy as np

    codes = [r.code for r in table.rows]
    units = {
        u.code: u.geom
        for u in LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=table.level, code__in=codes
        ).only("code", "geom")
    }
    from shapely import wkb

    values = {r.code: r.per_resident(measure) for r in table.rows}
    funded = sorted(v for v in values.values() if v)
    colors = graphics.YLGNBU[4]
    bounds = list(np.quantile(funded, [0.25, 0.5, 0.75])) if len(funded) >= 4 else []

    def colour(value):
        if not value:
            return graphics.PRINT_MISSING_COLOR
        return colors[sum(1 for b in bounds if value > b)]

    figure = graphics.figure_in(7.0, 5.2)
    ax = figure.add_axes((0.02, 0.08, 0.7, 0.84))
    ax.set_axis_off()
    geoms = [wkb.loads(bytes(units[c].wkb)) for c in codes if c in units]
    graphics.draw_units(
        ax,
        geoms,
        facecolors=[colour(values[c]) for c in codes if c in units],
        edgecolors="#666666",
        linewidths=0.2,
    )
    if geoms:
        xs = [g.bounds for g in geoms]
        ax.set_xlim(min(b[0] for b in xs), max(b[2] for b in xs))
        ax.set_ylim(min(b[1] for b in xs), max(b[3] for b in xs))
        ax.set_aspect("equal")
    labels = [_("no funding")]
    edges = [0.0, *bounds]
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else max(funded or [0])
        labels.append(f"{german_label(low)} – {german_label(high)} €")
    handles = [
        graphics.legend_patch(color, label)
        for color, label in zip(
            [graphics.PRINT_MISSING_COLOR, *colors[: len(edges)]], labels, strict=False
        )
    ]
    graphics.figure_legend(
        figure, handles, anchor=(0.73, 0.9), title=_("EUR per resident"), fontsize=6
    )
    figure.suptitle(title, fontsize=8, x=0.02, ha="left")
    credits = [*table.credits, f"{LOR_SOURCE_SHORT} ({LOR_LICENSE})"]
    _foot(figure, credits, table.has_examples)
    return graphics.figure_png_opaque(figure)


LEVEL_LABELS = {
    hierarchy.PLANUNGSRAUM: "Planungsraum",
    hierarchy.BEZIRKSREGION: "Bezirksregion",
    hierarchy.BEZIRK: "Bezirk",
}
