"""Classification of unit values into map classes, and their colours.

Only values with status ``ok`` or ``estimated`` are classified; suppressed and
missing units never get a class (and so never a colour): the map draws them in
their own styles, which the legend names.

Palettes are ColorBrewer ramps (Cynthia Brewer, colorbrewer2.org) that ColorBrewer
marks colour-blind safe. The colours are sampled from matplotlib's ColorBrewer
colormaps (built from the 9-class sequential and 11-class diverging hex lists) at
k evenly spaced points. Sequential ramps start at 0.15 rather than 0 so the
lightest class stays distinguishable from the light grey of "no data"; diverging
ramps use the whole range, so their midpoint stays the neutral colour.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from matplotlib import colormaps
from matplotlib.colors import to_hex

METHODS = ("quantiles", "equal_interval", "natural_breaks", "std_mean", "manual")
METHOD_LABELS = {
    "quantiles": gettext_lazy("Quantiles"),
    "equal_interval": gettext_lazy("Equal intervals"),
    "natural_breaks": gettext_lazy("Natural breaks (Fisher-Jenks)"),
    "std_mean": gettext_lazy("Standard deviation around the mean"),
    "manual": gettext_lazy("Manual class breaks"),
}
SEQUENTIAL = ("YlOrRd", "YlGnBu", "Blues", "Greens", "PuRd", "Oranges", "Purples")
DIVERGING = ("RdBu", "PuOr", "BrBG", "PRGn")
PALETTES = SEQUENTIAL + DIVERGING
DEFAULT_PALETTE = "YlOrRd"
# A change map shows gains and losses: a diverging palette, white near zero.
DEFAULT_CHANGE_PALETTE = "RdBu"
K_MIN, K_MAX = 3, 9
CLASSIFIED_STATUSES = frozenset({"ok", "estimated"})
# How the map draws units without a class; the labels are translated by the caller.
SUPPRESSED_STYLE = {
    "fill": "#bdbdbd",
    "pattern": "hatch",
    "pattern_color": "#636363",
    "stroke": "#969696",
}
MISSING_STYLE = {"fill": "#ececec", "pattern": None, "stroke": "#bdbdbd"}


class ClassificationError(ValueError):
    """The values cannot be classified as asked; the message says why, in German."""


@dataclass
class Classification:
    method: str
    k: int  # the number of classes actually formed (may be below the requested k)
    bounds: list[tuple[float, float]]  # (lower, upper) per class, upper inclusive
    counts: list[int]  # units per class
    classes: list[int | None]  # class index per input unit, None when unclassified
    suppressed: int
    missing: int
    notes: list[str] = field(default_factory=list)

    @property
    def breaks(self) -> list[float]:
        """The upper bound of every class, as mapclassify reports its bins."""
        return [upper for _lower, upper in self.bounds]


def _std_mean_multiples(k: int) -> list[float]:
    """k-1 multiples of the standard deviation, symmetric around the mean."""
    half = (k - 1) // 2
    inner = [0.0] if (k - 1) % 2 else []
    return (
        [float(-m) for m in range(half, 0, -1)]
        + inner
        + [float(m) for m in range(1, half + 1)]
    )


def _classifier(method: str, y: np.ndarray, k: int, manual_breaks: list[float]):
    # Imported here, not at module level: mapclassify pulls in numba, which costs
    # every process (gunicorn and Celery workers, each manage.py command) about 4 s
    # at start-up although most of them never classify a map.
    import mapclassify

    with warnings.catch_warnings():
        # mapclassify warns when ties leave fewer classes; we report that ourselves.
        warnings.simplefilter("ignore")
        if method == "quantiles":
            return mapclassify.Quantiles(y, k=k)
        if method == "equal_interval":
            return mapclassify.EqualInterval(y, k=k)
        if method == "natural_breaks":
            return mapclassify.FisherJenks(y, k=k)
        if method == "std_mean":
            return mapclassify.StdMean(y, multiples=_std_mean_multiples(k))
        return mapclassify.UserDefined(y, bins=manual_breaks)


def classify(
    values: list[float | None],
    statuses: list[str],
    method: str,
    k: int,
    manual_breaks: list[float] | None = None,
) -> Classification:
    """Classes per unit by the method; units without a usable value get None."""
    if method not in METHODS:
        raise ClassificationError(
            _("Unknown classification method “%(method)s”. Allowed: %(allowed)s.")
            % {"method": method, "allowed": ", ".join(METHODS)}
        )
    if len(values) != len(statuses):
        raise ClassificationError(_("Values and statuses do not match."))
    if method == "manual":
        manual_breaks = [float(b) for b in manual_breaks or []]
        if not manual_breaks:
            raise ClassificationError(
                _("Please give at least one break for manual class breaks.")
            )
        if any(b >= c for b, c in zip(manual_breaks, manual_breaks[1:], strict=False)):
            raise ClassificationError(_("The class breaks must be ascending."))
        if len(manual_breaks) > K_MAX:
            raise ClassificationError(
                _("At most %(n)d class breaks are possible.") % {"n": K_MAX}
            )
    elif not K_MIN <= k <= K_MAX:
        raise ClassificationError(
            _("The number of classes must lie between %(min)d and %(max)d.")
            % {"min": K_MIN, "max": K_MAX}
        )

    usable = [
        i
        for i, (v, s) in enumerate(zip(values, statuses, strict=True))
        if s in CLASSIFIED_STATUSES and v is not None
    ]
    suppressed = sum(1 for s in statuses if s == "suppressed")
    missing = len(values) - len(usable) - suppressed
    classes: list[int | None] = [None] * len(values)
    notes: list[str] = []
    if not usable:
        notes.append(_("No values to classify."))
        return Classification(method, 0, [], [], classes, suppressed, missing, notes)

    y = np.asarray([float(values[i]) for i in usable])  # type: ignore[arg-type]
    distinct = len(np.unique(y))
    if method != "manual" and distinct < k:
        notes.append(
            _(
                "Only %(distinct)d distinct values: the number of classes was "
                "reduced from %(k)d to %(distinct)d."
            )
            % {"distinct": distinct, "k": k}
        )
        k = distinct
    if method != "manual" and k == 1:
        bins = np.asarray([y.max()])
        yb = np.zeros(len(y), dtype=int)
    else:
        classifier = _classifier(method, y, k, manual_breaks or [])
        bins, yb = np.asarray(classifier.bins), np.asarray(classifier.yb)
        if method != "manual" and len(bins) < k:
            notes.append(
                _("Equal values give only %(n)d instead of %(k)d classes.")
                % {"n": len(bins), "k": k}
            )
    bounds = []
    # Below the first break (possible for std_mean and manual) the class is empty.
    lower = min(float(y.min()), float(bins[0]))
    for upper in bins:
        bounds.append((lower, float(upper)))
        lower = float(upper)
    counts = [0] * len(bins)
    for i, cls in zip(usable, yb, strict=True):
        classes[i] = int(cls)
        counts[int(cls)] += 1
    return Classification(
        method, len(bins), bounds, counts, classes, suppressed, missing, notes
    )


def palette_colors(palette: str, k: int) -> list[str]:
    """k hex colours of a ColorBrewer ramp, light to dark (or low to high)."""
    if palette not in PALETTES:
        raise ClassificationError(
            f"Unbekannte Farbpalette „{palette}“. Erlaubt: {', '.join(PALETTES)}."
        )
    if k <= 0:
        return []
    cmap = colormaps[palette]
    start = 0.0 if palette in DIVERGING else 0.15
    if k == 1:
        positions = [0.5 if palette in DIVERGING else 1.0]
    else:
        positions = list(np.linspace(start, 1.0, k))
    return [to_hex(cmap(p)) for p in positions]
