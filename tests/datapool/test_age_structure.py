"""The EWR age bands: contiguous, complete, labelled in years."""

from __future__ import annotations

from datapool.age_structure import (
    AGE_BANDS,
    HALF_YEAR_BANDS,
    age_band_label,
    age_band_start,
    age_band_width,
)


def test_age_bands_are_contiguous_from_0_and_end_open():
    bounds = [tuple(int(p) for p in key[3:].split("_")) for key in AGE_BANDS]
    assert bounds[0][0] == 0
    for (_low, high), (next_low, _next_high) in zip(bounds, bounds[1:], strict=False):
        assert high == next_low
    assert age_band_label(AGE_BANDS[-1]) == "95+"


def test_age_band_widths_are_years_with_the_open_band_ending_at_100():
    assert age_band_width("E_E00_01") == 1
    assert age_band_width("E_E03_05") == 2
    assert age_band_width("E_E95_110") == 5
    assert sum(age_band_width(k) for k in AGE_BANDS) == 100


def test_half_year_bands_are_contiguous_years_from_0_to_65_plus():
    labels = [age_band_label(k) for k in HALF_YEAR_BANDS]
    assert labels == ["0–5", "6–14", "15–17", "18–26", "27–44", "45–54", "55–64", "65+"]
    starts = [age_band_start(k) for k in HALF_YEAR_BANDS]
    widths = [age_band_width(k) for k in HALF_YEAR_BANDS]
    assert starts[0] == 0
    for start, width, following in zip(starts, widths, starts[1:], strict=False):
        assert start + width == following
    assert sum(widths) == 100  # the open band as if it ended at 100
