import pytest

from prisma.analysis.selection import (
    Condition,
    DerivedColumn,
    Selection,
    SelectionError,
    selection_evaluate,
)

pytestmark = pytest.mark.django_db


def test_columns_side_by_side_with_derived_share_and_filter(ewr_imported):
    selection = Selection(
        level="planungsraum",
        columns=["E_E", "E_EW"],
        derived=[DerivedColumn("ANTEIL_W", "Anteil Frauen", "E_EW / E_E * 100")],
        conditions=[Condition("E_E", ">", 10_000), Condition("ANTEIL_W", "<", 49)],
    )
    result = selection_evaluate(selection=selection)
    assert len(result.units) == 542
    rows = {r["code"]: r for r in result.rows()}
    assert rows["01100101"]["E_E"] == 3580
    assert rows["01100101"]["ANTEIL_W"] == pytest.approx(1711 / 3580 * 100)
    assert rows["03400831"]["ANTEIL_W__status"] == "suppressed"
    assert rows["03400831"]["ANTEIL_W"] is None
    for code in result.matches:
        assert rows[code]["E_E"] > 10_000 and rows[code]["ANTEIL_W"] < 49
    assert "03400831" not in result.matches  # a suppressed value never matches
    assert 0 < len(result.matches) < 542


def test_selection_round_trips_as_dict(ewr_imported):
    selection = Selection(
        level="bezirk",
        columns=["E_E"],
        conditions=[Condition("E_E", ">=", 300_000)],
        within="0",
    )
    again = Selection.from_dict(selection.as_dict())
    assert again == selection
    result = selection_evaluate(selection=again)
    assert [c for c, _n in result.units] == [f"{n:02d}" for n in range(1, 10)]


@pytest.mark.parametrize(
    "selection",
    [
        Selection(level="bezirk", columns=[]),
        Selection(level="bezirk", columns=["NOPE"]),
        Selection(
            level="bezirk", columns=["E_E"], derived=[DerivedColumn("X", "x", "E_E **")]
        ),
        Selection(
            level="bezirk",
            columns=["E_E"],
            derived=[DerivedColumn("X", "x", "E_EW / E_E")],
        ),
        Selection(
            level="bezirk", columns=["E_E"], conditions=[Condition("E_X", ">", 1)]
        ),
    ],
)
def test_bad_selections_are_explained(ewr_imported, selection):
    with pytest.raises(SelectionError):
        selection_evaluate(selection=selection)
