import pytest

from lor import hierarchy
from lor.hierarchy import (
    BERLIN,
    BEZIRK,
    BEZIRKSREGION,
    LEVELS,
    LOR_2021,
    PLANUNGSRAUM,
    PROGNOSERAUM,
)
from lor.models import LorUnit

PLR = "01100101"  # Planungsraum Stülerstraße, Mitte


def test_levels_run_from_berlin_to_planungsraum():
    assert LEVELS == (
        "berlin",
        "bezirk",
        "prognoseraum",
        "bezirksregion",
        "planungsraum",
    )


def test_model_level_choices_are_the_hierarchy_levels_plus_custom():
    assert [*LEVELS, "custom"] == LorUnit.Level.values


def test_model_scheme_value_is_the_scheme_name():
    assert LorUnit.Scheme.LOR_2021.value == "LOR 2021" == LOR_2021.name
    assert hierarchy.SCHEMES["LOR 2021"] is LOR_2021


@pytest.mark.parametrize(
    ("level", "parent", "child"),
    [
        (BERLIN, None, BEZIRK),
        (BEZIRK, BERLIN, PROGNOSERAUM),
        (PROGNOSERAUM, BEZIRK, BEZIRKSREGION),
        (BEZIRKSREGION, PROGNOSERAUM, PLANUNGSRAUM),
        (PLANUNGSRAUM, BEZIRKSREGION, None),
    ],
)
def test_parent_and_child_level(level, parent, child):
    assert hierarchy.parent_level(level) == parent
    assert hierarchy.child_level(level) == child


def test_levels_outside_the_hierarchy_are_refused():
    for function in (hierarchy.parent_level, hierarchy.child_level):
        with pytest.raises(ValueError, match="no level"):
            function("custom")


def test_levels_above_nearest_first():
    assert hierarchy.levels_above(PLANUNGSRAUM) == [
        BEZIRKSREGION,
        PROGNOSERAUM,
        BEZIRK,
        BERLIN,
    ]
    assert hierarchy.levels_above(BERLIN) == []


def test_finest_level_of_a_set_ignores_what_is_no_lor_level():
    assert hierarchy.finest_level([BERLIN, BEZIRKSREGION, BEZIRK]) == BEZIRKSREGION
    assert hierarchy.finest_level({PLANUNGSRAUM, BERLIN}) == PLANUNGSRAUM
    assert hierarchy.finest_level(["custom", BEZIRK]) == BEZIRK
    assert hierarchy.finest_level(["custom"]) is None
    assert hierarchy.finest_level([]) is None


def test_key_lengths_of_lor_2021():
    assert [hierarchy.key_length(level) for level in LEVELS[1:]] == [2, 4, 6, 8]
    assert hierarchy.KEY_LENGTH is LOR_2021.key_lengths
    with pytest.raises(ValueError, match="no prefix"):
        hierarchy.key_length(BERLIN)


@pytest.mark.parametrize(
    ("key", "level"),
    [
        ("11000000", BERLIN),
        ("01", BEZIRK),
        ("0110", PROGNOSERAUM),
        ("011001", BEZIRKSREGION),
        (PLR, PLANUNGSRAUM),
        ("011", None),
        ("0110010a", None),
        ("", None),
    ],
)
def test_level_of_key_reads_the_length(key, level):
    assert hierarchy.level_of_key(key) == level


@pytest.mark.parametrize(
    ("level", "prefix", "ancestor"),
    [
        (BERLIN, "", "11000000"),
        (BEZIRK, "01", "01"),
        (PROGNOSERAUM, "0110", "0110"),
        (BEZIRKSREGION, "011001", "011001"),
        (PLANUNGSRAUM, PLR, PLR),
    ],
)
def test_prefix_and_ancestor_key_at_each_level(level, prefix, ancestor):
    assert hierarchy.key_prefix(PLR, level) == prefix
    assert PLR.startswith(prefix)
    assert hierarchy.ancestor_key(PLR, level) == ancestor


def test_key_prefix_of_a_short_key_is_the_key():
    assert hierarchy.key_prefix("", BEZIRK) == ""
    assert hierarchy.key_prefix("01", BEZIRKSREGION) == "01"


@pytest.mark.parametrize(
    ("key", "parent"),
    [
        (PLR, "011001"),
        ("011001", "0110"),
        ("0110", "01"),
        ("01", "11000000"),
        ("11000000", None),
    ],
)
def test_parent_key_walks_up_to_berlin(key, parent):
    assert hierarchy.parent_key(key) == parent


def test_parent_key_refuses_what_is_no_key():
    with pytest.raises(ValueError, match="no key of LOR 2021"):
        hierarchy.parent_key("123")


def test_descendant_prefix_is_empty_for_berlin_only():
    assert hierarchy.descendant_prefix("11000000", BERLIN) == ""
    assert hierarchy.descendant_prefix("01", BEZIRK) == "01"


def test_another_scheme_brings_its_own_facts():
    scheme = hierarchy.LorScheme(
        name="test", berlin_key="00", key_lengths={BEZIRK: 1, PLANUNGSRAUM: 3}
    )
    assert hierarchy.level_of_key("00", scheme=scheme) == BERLIN
    assert hierarchy.level_of_key("123", scheme=scheme) == PLANUNGSRAUM
    assert hierarchy.ancestor_key("123", BEZIRK, scheme=scheme) == "1"
    assert hierarchy.ancestor_key("123", BERLIN, scheme=scheme) == "00"
