"""Corrections of the profile (issue 14, item 7): dates, age chart, Kurzprofil."""

from __future__ import annotations

import pytest

from datapool.age_structure import AGE_BANDS, age_band_label, age_band_width
from profiles import charts


def _bands(values: dict[str, float | None]) -> list:
    return [
        {
            "band": age_band_label(key),
            "key": key,
            "value": values.get(key, 100.0),
            "status": "ok" if values.get(key, 100.0) is not None else "suppressed",
        }
        for key in AGE_BANDS
    ]


def test_age_bars_are_persons_per_year_of_age():
    # Same count in every band: a 5-year band must be a fifth of a 1-year band.
    bands = _bands({"E_E08_10": None})
    bars = charts.age_bars(bands)

    by_key = dict(zip(AGE_BANDS, bars, strict=True))
    assert by_key["E_E00_01"].per_year == 100.0
    assert by_key["E_E03_05"].per_year == 50.0
    assert by_key["E_E30_35"].per_year == 20.0
    assert by_key["E_E08_10"].per_year is None
    # Contiguous from age 0: each bar starts where the previous ends.
    assert [b.start for b in bars[:5]] == [0, 1, 2, 3, 5]
    assert bars[-1].start == 95


def test_age_chart_draws_bars_as_wide_as_their_band():
    bands = _bands({"E_E08_10": None})
    figure = charts.age_structure_figure(bands=bands)
    [ax] = figure.axes
    patches = ax.patches
    shown = [b for b in bands if b["value"] is not None]

    assert len(patches) == len(shown)
    for patch, band in zip(patches, shown, strict=True):
        width = age_band_width(band["key"])
        assert patch.get_width() == pytest.approx(width)
        assert patch.get_height() == pytest.approx(band["value"] / width)
    assert ax.get_ylabel() in ("Persons per year of age", "Personen je Altersjahr")
