"""The TypedDicts of profiles.analysis_types describe exactly what is built."""

from __future__ import annotations

import pytest

from profiles import analysis_types as t
from profiles.analysis import profile_analysis_build
from profiles.selectors import profile_document_for_region, profile_region_get
from tests.profiles.conftest import REGION

pytestmark = pytest.mark.django_db


def _keys(typed) -> set[str]:
    return set(typed.__required_keys__) | set(typed.__optional_keys__)


def test_analysis_has_exactly_the_keys_of_its_typed_dicts(indicators_2024):
    document = profile_document_for_region(region=profile_region_get(code=REGION))
    analysis = document["analysis"]
    assert set(document) == _keys(t.ProfileDocument)
    assert set(analysis) == _keys(t.ProfileAnalysis)
    assert set(analysis["region"]) == _keys(t.RegionRef)
    assert set(analysis["facts"]) == _keys(t.Facts)
    assert set(analysis["facts"]["planungsraeume"][0]) == _keys(t.UnitRef)
    theme = analysis["themes"][0]
    assert set(theme) == _keys(t.ThemeSection)
    assert set(theme["indicators"][0]) == _keys(t.IndicatorRow)
    first_map = analysis["maps"][0]
    assert set(first_map) == _keys(t.IndicatorMap)
    assert set(next(iter(first_map["values"].values()))) == _keys(t.MapCell)
    assert set(analysis["series"][0]) == _keys(t.Series)
    assert set(analysis["series"][0]["points"][0]) == _keys(t.SeriesPoint)
    assert set(analysis["age_structure"][0]) == _keys(t.AgeBand)
    # Without imported facilities and MSS these lists are empty here.
    assert all(set(f) == _keys(t.FacilityCount) for f in analysis["facilities"])
    assert all(set(m) == _keys(t.MssRow) for m in analysis["mss"])
    assert analysis == profile_analysis_build(region=profile_region_get(code=REGION))
