"""Time in every view: series across the LOR reform, estimated values, schemes.

Observations are made with the factories at half-yearly dates from 31.12.2017;
before the reform they are ``estimated`` (converted from LOR 2006), as the
loaders store them.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from datapool.models import Observation, Variable
from datapool.selectors import observation_series
from datapool.services.observations import coverage_refresh
from explorer import graphics
from explorer.charts import timeseries_figure
from lor import hierarchy
from lor.models import LorUnit
from tests.factories import LorUnitFactory, ObservationFactory, VariableFactory
from tests.factories.lor import real_unit

pytestmark = pytest.mark.django_db

PLR = "01100101"  # Stülerstraße (LOR 2021)
DATES = [
    date(year, month, 30 if month == 6 else 31)
    for year in range(2017, 2025)
    for month in (6, 12)
    if date(year, month, 28) >= date(2017, 12, 1)
]


def _series_variable(*, key: str = "TS_TEST", value_type: str = "count") -> Variable:
    """A count with a value at every half-year; estimated before the reform."""
    variable = VariableFactory(
        key=key,
        value_type=value_type,
        unit="Personen",
        source="Testquelle (Beispieldaten)",
        license="CC BY 4.0",
    )
    unit = real_unit(PLR)
    for n, ref_date in enumerate(DATES):
        ObservationFactory(
            variable=variable,
            unit=unit,
            ref_date=ref_date,
            value=1000.0 + 10 * n,
            status=(
                Observation.Status.ESTIMATED
                if hierarchy.before_reform(ref_date)
                else Observation.Status.OK
            ),
        )
    coverage_refresh(variable_ids=[variable.id])
    return variable


def test_dates_walk_from_2017_to_the_newest(lor_units):
    variable = _series_variable()
    series = observation_series(variable=variable, level="planungsraum", codes=[PLR])
    points = series[0].points
    assert [p.ref_date for p in points] == DATES
    assert points[0].ref_date == date(2017, 12, 31)
    assert [p.estimated for p in points] == [d.year < 2021 for d in DATES]


def test_series_chart_marks_the_reform_and_draws_estimated_dashed(lor_units):
    variable = _series_variable()
    figure, figures = timeseries_figure(
        variable=variable, level="planungsraum", units=[PLR]
    )
    ax = figure.axes[0]
    gids = [a.get_gid() for a in ax.get_children()]
    assert graphics.REFORM_GID in gids
    reform_line = next(a for a in ax.lines if a.get_gid() == graphics.REFORM_GID)
    assert reform_line.get_xdata()[0] == hierarchy.LOR_REFORM_DATE
    dashed = [a for a in ax.lines if a.get_gid() == graphics.ESTIMATED_SEGMENT_GID]
    assert dashed and all(line.get_linestyle() == "--" for line in dashed)
    # The dashed run covers the estimated years and the step across the reform.
    assert min(dashed[0].get_xdata()) == date(2017, 12, 31)
    assert max(dashed[0].get_xdata()) == date(2021, 6, 30)
    solid = [
        a
        for a in ax.lines
        if a.get_linestyle() == "-" and a.get_gid() is None and len(a.get_xdata()) > 1
    ]
    assert solid and min(solid[0].get_xdata()) == date(2021, 6, 30)
    hollow = next(a for a in ax.lines if a.get_gid() == graphics.ESTIMATED_MARKER_GID)
    assert hollow.get_markerfacecolor() == "white"
    assert len(hollow.get_xdata()) == sum(d.year < 2021 for d in DATES)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "geschätzt (umgerechnet aus LOR 2006)" in legend
    reform_label = next(
        t for t in ax.texts if t.get_gid() == f"{graphics.REFORM_GID}-label"
    )
    assert "LOR-Reform 2021" in reform_label.get_text()
    assert figures["estimated"] == sum(d.year < 2021 for d in DATES)


def test_series_after_the_reform_has_no_marker_and_no_estimated_entry(lor_units):
    variable = VariableFactory(key="TS_NEW")
    for ref_date in (date(2023, 12, 31), date(2024, 12, 31)):
        ObservationFactory(variable=variable, unit=real_unit(PLR), ref_date=ref_date)
    coverage_refresh(variable_ids=[variable.id])
    figure, _figures = timeseries_figure(
        variable=variable, level="planungsraum", units=[PLR]
    )
    ax = figure.axes[0]
    assert graphics.REFORM_GID not in [a.get_gid() for a in ax.get_children()]
    assert not [a for a in ax.lines if a.get_gid() == graphics.ESTIMATED_SEGMENT_GID]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "geschätzt (umgerechnet aus LOR 2006)" not in legend


def test_series_api_returns_estimated_flags(lor_units, client_logged_in):
    variable = _series_variable()
    response = client_logged_in.get(
        reverse("datapool-api:value-series"),
        {"variable": variable.key, "level": "planungsraum", "units": PLR},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["dates"][0] == "2017-12-31"
    assert data["reform"] == {
        "last_old": "2020-12-31",
        "first_new": "2021-01-01",
        "label": "LOR-Reform 2021",
        "estimated_label": "geschätzt (umgerechnet aus LOR 2006)",
    }
    points = data["series"][0]["points"]
    assert data["series"][0]["name"] == "Stülerstraße"
    flags = {p["date"]: p["estimated"] for p in points}
    assert flags["2020-12-31"] is True and flags["2021-06-30"] is False
    assert points[0]["status"] == "estimated"
    assert data["sources"].startswith("Quellen:")


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        ({"units": PLR, "scheme": "lor1990"}, "scheme", "LOR-Schema"),
        ({"units": ","}, "units", "mindestens"),
        ({"units": "1,2,3,4,5,6"}, "units", "Höchstens"),
        ({"units": "99999999"}, "units", "Unbekannte"),
    ],
)
def test_series_api_refuses_bad_parameters_in_german(
    lor_units, client_logged_in, params, field, text
):
    variable = _series_variable()
    response = client_logged_in.get(
        reverse("datapool-api:value-series"),
        {"variable": variable.key, "level": "planungsraum", **params},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 400
    assert text in " ".join(response.json()[field])


def test_change_across_the_reform_is_estimated(lor_units, client_logged_in):
    variable = _series_variable()
    response = client_logged_in.get(
        reverse("maps:values"),
        {
            "variable": variable.key,
            "level": "planungsraum",
            "date": "2024-12-31",
            "compare": "2019-12-31",
        },
    )
    assert response.status_code == 200
    data = response.json()
    row = next(r for r in data["results"] if r["code"] == PLR)
    assert row["status"] == "estimated" and row["estimated"] is True
    first, last = (
        1000.0 + 10 * DATES.index(date(2019, 12, 31)),
        1000.0 + 10 * (len(DATES) - 1),
    )
    assert row["value"] == pytest.approx((last / first - 1) * 100)
    assert row["class"] is not None  # estimated changes are classified
    assert data["legend"]["estimated"]["count"] == 1
    assert (
        data["legend"]["estimated"]["label"] == "geschätzt (umgerechnet aus LOR 2006)"
    )
    # Both ends after the reform: an exact change.
    later = client_logged_in.get(
        reverse("datapool-api:values"),
        {
            "variable": variable.key,
            "level": "planungsraum",
            "date": "2024-12-31",
            "compare": "2022-12-31",
        },
    ).json()
    row = next(r for r in later["results"] if r["code"] == PLR)
    assert row["status"] == "ok" and row["estimated"] is False


def _old_units() -> list[LorUnit]:
    old = LorUnit.Scheme.LOR_2006
    bezirk = LorUnitFactory(scheme=old, level="bezirk", code="01", name="Mitte (alt)")
    return [
        bezirk,
        LorUnitFactory(
            scheme=old,
            level="planungsraum",
            code="01011101",
            name="Stülerstraße (LOR 2006)",
            parent=bezirk,
        ),
    ]


def test_values_api_takes_scheme_lor2006_for_old_units(lor_units, client_logged_in):
    _bezirk, old_plr = _old_units()
    variable = VariableFactory(key="TS_OLD")
    ObservationFactory(
        variable=variable, unit=old_plr, ref_date=date(2019, 12, 31), value=321.0
    )
    ObservationFactory(
        variable=variable, unit=real_unit(PLR), ref_date=date(2024, 12, 31)
    )
    coverage_refresh(variable_ids=[variable.id])
    url = reverse("datapool-api:values")
    old = client_logged_in.get(
        url, {"variable": variable.key, "level": "planungsraum", "scheme": "lor2006"}
    ).json()
    assert old["scheme"] == "lor2006"
    assert old["dates"] == ["2019-12-31"]
    assert [(r["code"], r["name"], r["value"]) for r in old["results"]] == [
        ("01011101", "Stülerstraße (LOR 2006)", 321.0)
    ]
    new = client_logged_in.get(
        url, {"variable": variable.key, "level": "planungsraum"}
    ).json()
    assert new["scheme"] == "lor2021" and len(new["results"]) == 542
    # The map values point to the old scheme's geometry.
    mapped = client_logged_in.get(
        reverse("maps:values"),
        {"variable": variable.key, "level": "planungsraum", "scheme": "lor2006"},
    ).json()
    assert mapped["geometry"].endswith("?scheme=lor2006")
    geometry = client_logged_in.get(mapped["geometry"])
    assert geometry.status_code == 200
    codes = [f["properties"]["code"] for f in geometry.json()["features"]]
    assert codes == ["01011101"]


@pytest.mark.parametrize(
    "url",
    [
        reverse("datapool-api:values"),
        reverse("maps:values"),
        reverse("lor-api:unit-list"),
        reverse("maps:geometry", kwargs={"level": "bezirk"}),
    ],
)
def test_a_bad_scheme_is_a_german_400(lor_units, client_logged_in, url):
    response = client_logged_in.get(
        url,
        {"variable": "E_E", "level": "bezirk", "scheme": "lor1992"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 400
    assert "Unbekanntes LOR-Schema" in str(response.json()["scheme"])


def test_lor_units_api_serves_old_units_with_scheme_lor2006(
    lor_units, client_logged_in
):
    _old_units()
    response = client_logged_in.get(
        reverse("lor-api:unit-list"), {"level": "planungsraum", "scheme": "lor2006"}
    )
    assert [f["properties"]["code"] for f in response.json()["features"]] == [
        "01011101"
    ]
    detail = client_logged_in.get(
        reverse("lor-api:unit-detail", kwargs={"code": "01011101"}),
        {"scheme": "lor2006"},
    )
    assert detail.json()["properties"]["name"] == "Stülerstraße (LOR 2006)"
    # Without the scheme the key is no LOR 2021 unit.
    assert (
        client_logged_in.get(
            reverse("lor-api:unit-detail", kwargs={"code": "01011101"})
        ).status_code
        == 404
    )


def test_selection_table_flags_estimated_values(lor_units, client_logged_in):
    import json

    variable = _series_variable()
    selection = {"level": "planungsraum", "columns": [variable.key]}
    rows = {
        r["code"]: r
        for r in client_logged_in.get(
            reverse("api-selection-table"),
            {"selection": json.dumps({**selection, "date": "2019-12-31"})},
        ).json()["rows"]
    }
    assert rows[PLR][f"{variable.key}__status"] == "estimated"
    latest = {
        r["code"]: r
        for r in client_logged_in.get(
            reverse("api-selection-table"), {"selection": json.dumps(selection)}
        ).json()["rows"]
    }
    assert latest[PLR][f"{variable.key}__status"] == "ok"


def test_change_export_across_the_reform_is_estimated_and_credits_the_crosswalk(
    lor_units, client_logged_in
):
    import csv
    import json

    variable = _series_variable()
    selection = {"level": "planungsraum", "columns": [variable.key]}
    response = client_logged_in.get(
        reverse("analysis:selection-export"),
        {
            "format": "csv-plain",
            "selection": json.dumps({**selection, "date": "2024-12-31"}),
            "compare": "2019-12-31",
        },
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    meta = [line for line in text.splitlines() if line.startswith("#")]
    assert "Veränderung 31.12.2024 gegenüber 31.12.2019" in meta[0]
    source = next(m for m in meta if m.startswith("# Quelle:"))
    assert "Testquelle (Beispieldaten)" in source
    assert "Umschlüsselung LOR 2006 → LOR 2021" in source
    rows = list(csv.reader(line for line in text.splitlines() if line[:1] != "#"))
    row = next(r for r in rows if r[0] == PLR)
    first = 1000.0 + 10 * DATES.index(date(2019, 12, 31))
    last = 1000.0 + 10 * (len(DATES) - 1)
    assert float(row[2]) == pytest.approx((last / first - 1) * 100)
    assert row[3] == "geschätzt (umgerechnet aus LOR 2006)"
