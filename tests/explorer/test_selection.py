import pytest

from explorer.selection import (
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


def test_table_api_gives_ranks_parent_and_berlin_values(ewr_imported, user):
    import json

    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    selection = {"level": "bezirksregion", "columns": ["E_E"]}
    data = client.get(
        "/api/analysis/table/", {"selection": json.dumps(selection)}
    ).json()
    assert data["columns"][0]["berlin"] == 3_897_145
    assert data["parent_level"] == "prognoseraum"
    rows = {r["code"]: r for r in data["rows"]}
    assert len(rows) == 143
    region = rows["011001"]
    assert region["E_E__parent"] is not None and region["E_E__parent"] >= region["E_E"]
    top = max(rows.values(), key=lambda r: r["E_E"] or 0)
    assert top["E_E__rank_berlin"] == 1
    mitte = [r for r in rows.values() if r["code"].startswith("01")]
    assert sorted(r["E_E__rank_bezirk"] for r in mitte) == list(
        range(1, len(mitte) + 1)
    )
    bad = client.get("/api/analysis/table/", {"selection": "{not json"})
    assert bad.status_code == 400
    assert client.get("/api/analysis/table/").status_code == 400


@pytest.mark.parametrize(
    "raw",
    [
        '{"level": "bezirksregion", "columns": ["E_E"], "within": "01",'
        ' "conditions": [{"column": "E_E", "op": ">", "value": 5}]}',
        {
            "level": "bezirksregion",
            "columns": ["E_E"],
            "within": "01",
            "conditions": [{"column": "E_E", "op": ">", "value": 5}],
        },
        Selection(
            level="bezirksregion",
            columns=["E_E"],
            within="01",
            conditions=[Condition("E_E", ">", 5.0)],
        ),
    ],
)
def test_parse_reads_json_text_dict_or_selection(raw):
    assert Selection.parse(raw) == Selection(
        level="bezirksregion",
        columns=["E_E"],
        within="01",
        conditions=[Condition("E_E", ">", 5.0)],
    )


def test_parse_accepts_a_custom_area_set_as_level():
    assert Selection.parse({"level": "custom:12", "columns": []}).level == "custom:12"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "Parameter „selection“ fehlt."),
        ("", "Parameter „selection“ fehlt."),
        ("{kein json", "Die Auswahl ist ungültig."),
        ("[1, 2]", "Die Auswahl muss ein Objekt sein."),
        ({"columns": ["E_E"]}, "In der Auswahl fehlt 'level'."),
        ({"level": "ortsteil"}, "Unbekannte Ebene „ortsteil“."),
        ({"level": "custom:"}, "Unbekannte Ebene „custom:“."),
        ({"level": "custom:1234567890"}, "Unbekannte Ebene „custom:1234567890“."),
        ({"level": "bezirk\n"}, "Unbekannte Ebene „bezirk\n“."),
        ({"level": 3}, "Unbekannte Ebene „3“."),
        (
            {"level": "bezirk", "conditions": [{"column": "E_E", "op": ">"}]},
            "In der Auswahl fehlt 'value'.",
        ),
        (
            {
                "level": "bezirk",
                "conditions": [{"column": "E", "op": ">", "value": 1j}],
            },
            "Die Auswahl ist ungültig.",
        ),
        (
            {
                "level": "bezirk",
                "conditions": [{"column": "E", "op": ">", "value": True}],
            },
            "Die Auswahl ist ungültig.",
        ),
        ({"level": "bezirk", "date": "31.12.2023"}, "Die Auswahl ist ungültig."),
    ],
)
def test_parse_refuses_anything_else_with_a_german_message(raw, message):
    with pytest.raises(SelectionError) as exc:
        Selection.parse(raw)
    assert str(exc.value) == message
