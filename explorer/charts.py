"""Charts of an analysis selection, rendered on the server with matplotlib.

Every function returns a ``Chart``: the image bytes plus the figures a page may
show next to it (the correlation coefficient, the number of pairs, the age
bands). Every chart carries a title, a source line (the sources and licences of
its variables and their inputs, ``datapool.lineage``) and its reference date.
Suppressed values never enter a chart.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import numpy as np
from django.utils.translation import gettext as _

from datapool.age_structure import (
    AGE_BANDS,
    RESIDENTS,
    age_band_label,
    age_band_width,
)
from datapool.lineage import attribution, estimated_footnote
from datapool.models import Variable
from datapool.numbers import german_label
from datapool.selectors import (
    age_bands_at,
    delivery_kinds_on,
    observation_series,
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
    """The chart cannot be drawn; the message says why, in the UI language."""


@dataclass
class Chart:
    content: bytes
    content_type: str
    filename: str
    figures: dict[str, float | int | None] = field(default_factory=dict)
    source: str = ""  # the source line drawn, where a test or page needs it


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ChartError(_("Unknown chart format “%(fmt)s”.") % {"fmt": fmt[:10]})


def _date_text(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "abgeleitet"


def _source_line(figure, variable: Variable) -> None:
    graphics.source_line(figure, attribution(variables=[variable]).line())


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
    r_text = _("r not computable") if r is None else f"r = {r:.3f}".replace(".", ",")
    figure.suptitle(
        _("%(y)s by %(x)s") % {"y": col_y.label, "x": col_x.label}
        + f" ({r_text}, n = {len(pairs)})",
        fontsize=8,
        x=0.02,
        ha="left",
    )
    graphics.source_line(figure, meta.source_line)
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
        result=result,
        title=_("Ranking: %(label)s") % {"label": col.label},
        fmt=fmt,
        column=col.key,
    )
    return Chart(content, content_type, filename)


def chart_timeseries(
    *, variable: Variable, level: str, units: list[str], fmt: str, viewer: Any = None
) -> Chart:
    """Lines of one variable over all its reference dates for up to five units.

    Values are those ``viewer`` may see (``None``: the protected view). The LOR
    reform is marked where the dates span it, estimated values are dashed and
    hollow (``graphics.series_line``).
    """
    _check_format(fmt)
    figure, figures = timeseries_figure(
        variable=variable, level=level, units=units, viewer=viewer
    )
    return Chart(
        graphics.figure_save(figure, fmt),
        graphics.CONTENT_TYPES[fmt],
        _filename(f"zeitreihe-{variable.key}", fmt),
        figures,
    )


def timeseries_figure(
    *, variable: Variable, level: str, units: list[str], viewer: Any = None
) -> tuple[Any, dict[str, float | int | None]]:
    """The figure of ``chart_timeseries`` and its figures (dates, estimated)."""
    if not units:
        raise ChartError(_("Please give at least one unit (key)."))
    if len(units) > MAX_SERIES_UNITS:
        raise ChartError(
            _("At most %(n)d units are possible.") % {"n": MAX_SERIES_UNITS}
        )
    dates = variable_dates(variable=variable, level=level)
    if not dates:
        raise ChartError(
            _("There are no data for %(key)s on this level.") % {"key": variable.key}
        )
    try:
        series = observation_series(
            variable=variable, level=level, codes=units, viewer=viewer
        )
    except LookupError as exc:
        raise ChartError(
            _("Unknown unit “%(code)s” on this level.") % {"code": exc.args[0][:20]}
        ) from exc
    figure = graphics.figure_px(1600, 1000)
    ax = figure.add_axes((0.1, 0.16, 0.62, 0.7))
    handles = []
    any_estimated = False
    for color, unit_series in zip(graphics.SERIES_COLORS, series, strict=False):
        points = unit_series.points
        any_estimated |= any(p.estimated and p.value is not None for p in points)
        handles.append(
            graphics.series_line(
                ax,
                [p.ref_date for p in points],
                [p.value for p in points],
                [p.estimated for p in points],
                color=color,
                label=f"{unit_series.name} ({unit_series.code})",
            )
        )
    ax.tick_params(labelsize=5)
    ax.yaxis.set_major_formatter(graphics.german_formatter())
    unit = f" [{variable.unit}]" if variable.unit else ""
    ax.set_ylabel(f"{variable.name}{unit}", fontsize=6)
    graphics.series_axes_finish(ax, dates, any_estimated=any_estimated, handles=handles)
    period = f"{_date_text(dates[0])} – {_date_text(dates[-1])}"
    if len(dates) == 1:
        period = _("only one reference date: %(date)s") % {"date": _date_text(dates[0])}
    figure.suptitle(
        _("Time series: %(name)s") % {"name": variable.name} + f" ({period})",
        fontsize=8,
        x=0.02,
        ha="left",
    )
    _source_line(figure, variable)
    return figure, {
        "dates": len(dates),
        "estimated": sum(
            p.estimated and p.value is not None for s in series for p in s.points
        ),
    }


def _age_values(
    level: str, code: str, viewer: Any, ref_date: date, keys: list[str]
) -> tuple[dict[str, float | None], bool]:
    """These variables of one unit on ``ref_date`` (suppressed or missing → None),
    and whether a value shown is estimated (converted from LOR 2006)."""
    out: dict[str, float | None] = dict.fromkeys(keys)
    estimated = False
    for variable in Variable.objects.filter(key__in=keys):
        for row in observation_values(
            variable=variable, level=level, ref_date=ref_date, viewer=viewer
        ):
            if row.code == code and row.value is not None:
                suppressed = row.status == "suppressed"
                out[variable.key] = None if suppressed else float(row.value)
                estimated |= row.status == "estimated"
    return out, estimated


def chart_age_structure(
    *, unit_code: str, fmt: str, viewer: Any = None, ref_date: date | None = None
) -> Chart:
    """Age bands of E_E for a unit on one date, with Berlin's scaled to its total.

    The bands are the finest set the date has (``age_bands_at``: the EWR's 32
    on its dates, the half-yearly tables' 8 on theirs), never a mix; the source
    line credits that set. Without ``ref_date`` the latest date of E_E. A unit
    with a band ``viewer`` may not see is refused: its bands sum to E_E.
    """
    _check_format(fmt)
    unit = LorUnit.objects.filter(
        code=unit_code, scheme=LorUnit.Scheme.LOR_2021
    ).first()
    if unit is None:
        raise ChartError(_("Unknown unit “%(code)s”.") % {"code": unit_code[:20]})
    ref_date = ref_date or _latest_date(unit.level)
    if ref_date is None:
        raise ChartError(_("The age groups of the population statistics are missing."))
    band_keys = age_bands_at(ref_date=ref_date, level=unit.level)
    if band_keys is None:
        raise ChartError(
            _("There are no age groups for the reference date %(date)s.")
            % {"date": _date_text(ref_date)}
        )
    keys = [RESIDENTS, *band_keys]
    values, estimated = _age_values(unit.level, unit.code, viewer, ref_date, keys)
    total = values[RESIDENTS]
    if total is None or any(values[k] is None for k in band_keys):
        raise ChartError(
            _("The age groups of %(name)s are suppressed or not available.")
            % {"name": unit.name}
        )
    berlin, berlin_estimated = _age_values(
        "berlin", BERLIN_CODE, viewer, ref_date, keys
    )
    berlin_total = berlin[RESIDENTS] or 0
    berlin_bands = [berlin[k] or 0.0 for k in band_keys]
    scale = total / berlin_total if berlin_total else 0.0
    bands = [values[k] or 0.0 for k in band_keys]
    # Bands have different widths (1 to 35 years): show persons per year of age
    # so that wide bands do not look like a bulge.
    widths = [age_band_width(k) for k in band_keys]
    per_year = [v / w for v, w in zip(bands, widths, strict=True)]
    berlin_per_year = [v * scale / w for v, w in zip(berlin_bands, widths, strict=True)]
    labels = [age_band_label(k) for k in band_keys]
    figure = graphics.figure_px(1400, 1600)
    ax = figure.add_axes((0.12, 0.1, 0.82, 0.78))
    positions = np.arange(len(band_keys))
    # Estimated bands (a date before the reform, converted) are hatched.
    ax.barh(
        positions,
        per_year,
        height=0.85,
        color="#74a9cf",
        hatch="///" if estimated else None,
        edgecolor="#2b6c94" if estimated else None,
        label=unit.name,
    )
    # Berlin as an outline: one vertical stroke per band at its scaled value.
    ax.plot(
        np.repeat(berlin_per_year, 2),
        np.ravel(np.column_stack((positions - 0.5, positions + 0.5))),
        color="#d94801",
        linewidth=1,
        label=_("Berlin, scaled to the unit's population"),
    )
    ax.set_yticks(positions, labels)
    ax.tick_params(labelsize=5)
    ax.set_ylabel(_("Age in years"), fontsize=6)
    ax.set_xlabel(_("Residents per year of age (mean of the age group)"), fontsize=6)
    ax.legend(fontsize=5, loc="upper right", frameon=False)
    residents = german_label(total).removesuffix(",0")
    figure.suptitle(
        _(
            "Age structure: %(name)s (%(code)s), %(residents)s residents, "
            "reference date %(date)s"
        )
        % {
            "name": unit.name,
            "code": unit.code,
            "residents": residents,
            "date": _date_text(ref_date),
        },
        fontsize=8,
        x=0.02,
        ha="left",
    )
    note = _("Men and women by age are not given separately in the matrix.")
    if band_keys != AGE_BANDS:
        note = _(
            "This reference date has only the coarse age groups of the "
            "half-yearly population tables."
        )
    if estimated or berlin_estimated:
        note += "\n" + textwrap.fill(estimated_footnote(), 170)
    figure.text(0.02, 0.945, note, fontsize=5, va="top")
    source = attribution(variables=band_keys).line()
    kinds = delivery_kinds_on(variable_keys=band_keys, ref_date=ref_date)
    if kinds:
        source += " · " + _("Delivery of %(date)s: %(kinds)s") % {
            "date": _date_text(ref_date),
            "kinds": ", ".join(kinds),
        }
    # The credits and the delivery make a long line: wrapped to the width.
    graphics.source_line(figure, textwrap.fill(source, 170), va="bottom")
    return Chart(
        graphics.figure_save(figure, fmt),
        graphics.CONTENT_TYPES[fmt],
        _filename(f"altersaufbau-{unit.code}", fmt),
        {
            "total": total,
            "bands_sum": float(sum(bands)),
            "bands": len(band_keys),
            "estimated": estimated or berlin_estimated,
        },
        source,
    )


def _latest_date(level: str) -> date | None:
    variable = Variable.objects.filter(key=RESIDENTS).first()
    if variable is None:
        return None
    return variable_latest_date(variable=variable, level=level)
