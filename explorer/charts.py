"""Charts of an analysis selection, rendered on the server with matplotlib.

Every function returns a ``Chart``: the image bytes plus the figures a page may
show next to it (the correlation coefficient, the number of pairs, the age
bands). Every chart carries a title, a source line (the variables' sources and
licences) and its reference date. Suppressed values never enter a chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import numpy as np

from datapool.age_structure import (
    AGE_BANDS,
    RESIDENTS,
    age_band_label,
    age_band_width,
)
from datapool.models import Variable
from datapool.selectors import (
    observation_values,
    variable_dates,
    variable_latest_date,
)
from lor.models import BERLIN_CODE, LorUnit

from . import graphics
from .exports import ExportError, _column_of, _filename, export_chart, export_meta
from .selection import SelectionResult

FORMATS = ("svg", "png")
MAX_SERIES_UNITS = 5


class ChartError(ExportError):
    """The chart cannot be drawn; the message says why, in German."""


@dataclass
class Chart:
    content: bytes
    content_type: str
    filename: str
    figures: dict[str, float | int | None] = field(default_factory=dict)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ChartError(f"Unbekanntes Diagrammformat „{fmt[:10]}“.")


def _date_text(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "abgeleitet"


def _source_line(figure, variable: Variable) -> None:
    sources, licenses = variable.source or "PRISMA Berlin", variable.license or ""
    graphics.source_line(figure, graphics.source_text(sources, licenses))


def _label(column) -> str:
    return f"{column.label} [{column.unit}]" if column.unit else column.label


class ScatterPair(NamedTuple):
    code: str
    x: float
    y: float


def scatter_pairs(result: SelectionResult, x: str, y: str) -> list[ScatterPair]:
    """The units in view where both values exist (never suppressed), in key order."""
    pairs = []
    for unit in result.units:
        a, b = result.cells[x].get(unit.code), result.cells[y].get(unit.code)
        if a is None or b is None or a.value is None or b.value is None:
            continue
        if "suppressed" in (a.status, b.status):
            continue
        pairs.append(ScatterPair(unit.code, float(a.value), float(b.value)))
    return pairs


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r, or None with fewer than 3 pairs or a constant variable."""
    if len(xs) < 3:
        return None
    a, b = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def chart_scatter(*, result: SelectionResult, x: str, y: str, fmt: str) -> Chart:
    """Scatter plot of two columns with Pearson's r and n in the title."""
    _check_format(fmt)
    col_x, col_y = _column_of(result, x), _column_of(result, y)
    pairs = scatter_pairs(result, col_x.key, col_y.key)
    xs, ys = [p.x for p in pairs], [p.y for p in pairs]
    r = pearson(xs, ys)
    meta = export_meta(result=result, title="")
    figure = graphics.figure_px(1600, 1200)
    ax = figure.add_axes((0.12, 0.14, 0.84, 0.72))
    ax.scatter(xs, ys, s=6, color=graphics.BAR_COLOR, alpha=0.7, linewidths=0)
    ax.tick_params(labelsize=5)
    formatter = graphics.german_formatter()
    ax.xaxis.set_major_formatter(formatter)
    ax.yaxis.set_major_formatter(formatter)
    ax.set_xlabel(f"{_label(col_x)}, {_date_text(col_x.date)}", fontsize=6)
    ax.set_ylabel(f"{_label(col_y)}, {_date_text(col_y.date)}", fontsize=6)
    r_text = "r nicht berechenbar" if r is None else f"r = {r:.3f}".replace(".", ",")
    figure.suptitle(
        f"{col_y.label} nach {col_x.label} ({r_text}, n = {len(pairs)})",
        fontsize=8,
        x=0.02,
        ha="left",
    )
    graphics.source_line(
        figure, graphics.source_text(meta.source_text, meta.license_text)
    )
    return Chart(
        graphics.figure_save(figure, fmt),
        graphics.CONTENT_TYPES[fmt],
        _filename(f"streudiagramm-{col_x.key}-{col_y.key}", fmt),
        {"r": r, "n": len(pairs)},
    )


def chart_ranking(*, result: SelectionResult, column: str, fmt: str) -> Chart:
    """Bar chart ranking the units by one column (the export's ranking chart)."""
    _check_format(fmt)
    col = _column_of(result, column)
    content, content_type, filename = export_chart(
        result=result, title=f"Rangfolge: {col.label}", fmt=fmt, column=col.key
    )
    return Chart(content, content_type, filename)


def chart_timeseries(
    *, variable: Variable, level: str, units: list[str], fmt: str, viewer: Any = None
) -> Chart:
    """Lines of one variable over all its reference dates for up to five units.

    Values are those ``viewer`` may see (``None``: the protected view).
    """
    _check_format(fmt)
    if not units:
        raise ChartError("Bitte mindestens einen Raum (Schlüssel) angeben.")
    if len(units) > MAX_SERIES_UNITS:
        raise ChartError(f"Höchstens {MAX_SERIES_UNITS} Räume sind möglich.")
    dates = variable_dates(variable=variable, level=level)
    if not dates:
        raise ChartError(f"Für {variable.key} gibt es auf dieser Ebene keine Daten.")
    series: dict[str, list[float | None]] = {code: [] for code in units}
    names: dict[str, str] = {}
    for ref_date in dates:
        rows = {
            r.code: r
            for r in observation_values(
                variable=variable, level=level, ref_date=ref_date, viewer=viewer
            )
        }
        for code in units:
            row = rows.get(code)
            if row is None:
                raise ChartError(f"Unbekannter Raum „{code[:20]}“ auf dieser Ebene.")
            names[code] = row.name
            ok = row.value is not None and row.status != "suppressed"
            series[code].append(float(row.value) if ok else None)
    figure = graphics.figure_px(1600, 1000)
    ax = figure.add_axes((0.1, 0.16, 0.62, 0.7))
    for color, (code, values) in zip(
        graphics.SERIES_COLORS, series.items(), strict=False
    ):
        points = [(d, v) for d, v in zip(dates, values, strict=True) if v is not None]
        ax.plot(
            [d for d, _v in points],
            [v for _d, v in points],
            marker="o",
            markersize=3,
            linewidth=1,
            color=color,
            label=f"{names[code]} ({code})",
        )
    ax.tick_params(labelsize=5)
    ax.yaxis.set_major_formatter(graphics.german_formatter())
    unit = f" [{variable.unit}]" if variable.unit else ""
    ax.set_ylabel(f"{variable.name}{unit}", fontsize=6)
    ax.legend(fontsize=5, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    period = f"{_date_text(dates[0])} – {_date_text(dates[-1])}"
    if len(dates) == 1:
        period = f"nur ein Stichtag: {_date_text(dates[0])}"
    figure.suptitle(
        f"Zeitreihe: {variable.name} ({period})", fontsize=8, x=0.02, ha="left"
    )
    _source_line(figure, variable)
    return Chart(
        graphics.figure_save(figure, fmt),
        graphics.CONTENT_TYPES[fmt],
        _filename(f"zeitreihe-{variable.key}", fmt),
        {"dates": len(dates)},
    )


def _age_values(level: str, code: str, viewer: Any) -> dict[str, float | None]:
    """E_E and its age bands of one unit at their latest dates; suppressed → None."""
    keys = [RESIDENTS, *AGE_BANDS]
    variables = {v.key: v for v in Variable.objects.filter(key__in=keys)}
    out: dict[str, float | None] = dict.fromkeys(keys)
    for key, variable in variables.items():
        ref_date = variable_latest_date(variable=variable, level=level)
        if ref_date is None:
            continue
        for row in observation_values(
            variable=variable, level=level, ref_date=ref_date, viewer=viewer
        ):
            if row.code == code and row.value is not None:
                out[key] = None if row.status == "suppressed" else float(row.value)
    return out


def chart_age_structure(*, unit_code: str, fmt: str, viewer: Any = None) -> Chart:
    """Age bands of E_E for a unit, with Berlin's structure scaled to its total.

    A unit with a band ``viewer`` may not see is refused: its bands sum to E_E.
    """
    _check_format(fmt)
    unit = LorUnit.objects.filter(
        code=unit_code, scheme=LorUnit.Scheme.LOR_2021
    ).first()
    if unit is None:
        raise ChartError(f"Unbekannter Raum „{unit_code[:20]}“.")
    if not Variable.objects.filter(key="E_E00_01").exists():
        raise ChartError("Die Altersgruppen der Einwohnerstatistik fehlen.")
    values = _age_values(unit.level, unit.code, viewer)
    total = values[RESIDENTS]
    if total is None or any(values[k] is None for k in AGE_BANDS):
        raise ChartError(
            f"Für {unit.name} sind die Altersgruppen gesperrt oder nicht vorhanden."
        )
    berlin = _age_values("berlin", BERLIN_CODE, viewer)
    berlin_total = berlin[RESIDENTS] or 0
    berlin_bands = [berlin[k] or 0.0 for k in AGE_BANDS]
    scale = total / berlin_total if berlin_total else 0.0
    bands = [values[k] or 0.0 for k in AGE_BANDS]
    # Bands have different widths (1 to 15 years): show persons per year of age
    # so that wide bands do not look like a bulge.
    widths = [age_band_width(k) for k in AGE_BANDS]
    per_year = [v / w for v, w in zip(bands, widths, strict=True)]
    berlin_per_year = [v * scale / w for v, w in zip(berlin_bands, widths, strict=True)]
    labels = [age_band_label(k) for k in AGE_BANDS]
    figure = graphics.figure_px(1400, 1600)
    ax = figure.add_axes((0.12, 0.1, 0.82, 0.78))
    positions = np.arange(len(AGE_BANDS))
    ax.barh(positions, per_year, height=0.85, color="#74a9cf", label=unit.name)
    # Berlin as an outline: one vertical stroke per band at its scaled value.
    ax.plot(
        np.repeat(berlin_per_year, 2),
        np.ravel(np.column_stack((positions - 0.5, positions + 0.5))),
        color="#d94801",
        linewidth=1,
        label="Berlin, auf die Einwohnerzahl des Raums skaliert",
    )
    ax.set_yticks(positions, labels)
    ax.tick_params(labelsize=5)
    ax.set_ylabel("Alter in Jahren", fontsize=6)
    ax.set_xlabel("Einwohner je Altersjahr (Mittel der Altersgruppe)", fontsize=6)
    ax.legend(fontsize=5, loc="upper right", frameon=False)
    ref_date = _latest_date()
    residents = graphics.german_label(total).removesuffix(",0")
    figure.suptitle(
        f"Altersaufbau: {unit.name} ({unit.code}), {residents}"
        f" Einwohner, Stichtag {_date_text(ref_date)}",
        fontsize=8,
        x=0.02,
        ha="left",
    )
    figure.text(
        0.02,
        0.93,
        "Männer und Frauen getrennt nach Alter sind in der Matrix nicht enthalten.",
        fontsize=5,
    )
    _source_line(figure, Variable.objects.get(key=RESIDENTS))
    return Chart(
        graphics.figure_save(figure, fmt),
        graphics.CONTENT_TYPES[fmt],
        _filename(f"altersaufbau-{unit.code}", fmt),
        {"total": total, "bands_sum": float(sum(bands))},
    )


def _latest_date() -> date | None:
    variable = Variable.objects.filter(key=RESIDENTS).first()
    if variable is None:
        return None
    dates = variable_dates(variable=variable)
    return dates[-1] if dates else None
