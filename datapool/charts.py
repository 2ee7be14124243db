"""Small static charts of the Datenpool, rendered with matplotlib.

Built like every PRISMA figure (see ``explorer.graphics``): a
``matplotlib.figure.Figure`` without ``pyplot``, numbers from ``datapool.numbers``.
"""

from __future__ import annotations

import io
from datetime import date

from .numbers import german_short


def berlin_series_svg(
    *, series: list[tuple[date, float | None, str]], unit: str
) -> bytes:
    """A line of Berlin's values over time; gaps where a value is not shown."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(5.2, 2.2), dpi=100)
    ax = fig.subplots()
    points = [(d, v) for d, v, _s in series if v is not None]
    if points:
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", color="#0b5c8e", linewidth=1.8)
        for x, y in points[-1:]:
            ax.annotate(
                german_short(y),
                (x, y),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=8,
            )
    else:
        ax.text(
            0.5,
            0.5,
            "keine Werte für Berlin",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="#5b6775",
        )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: german_short(value)))
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()
