"""The age structure chart on EWR and half-yearly dates: the finest band set a
date has, never a mix, and a German message where a date has none.

Real deliveries: the EWR matrix of 31.12.2024 (32 bands), the half-yearly
table T2 of 30.06.2024 (8 bands) and table T1 of 30.06.2023 (no age bands).
Hand computations read the half-yearly file with the csv module.
"""

from __future__ import annotations

import csv
from datetime import date

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from datapool.age_structure import AGE_BANDS, HALF_YEAR_BANDS, RESIDENTS
from datapool.management.commands.datapool_population import ZEITREIHE_DIR
from datapool.models import ImportRun, Observation
from datapool.parsers.detect import detect_kind
from datapool.selectors import age_bands_at
from datapool.services.harmonisation import variable_components_load
from datapool.services.imports import import_run_create, import_run_execute
from explorer import charts
from profiles import charts as profile_charts
from profiles.analysis import profile_analysis_build
from profiles.selectors import profile_region_get
from tests.conftest import ewr_import

pytestmark = pytest.mark.django_db

EWR_DATE = date(2024, 12, 31)
HALF_YEAR_DATE = date(2024, 6, 30)
NO_BANDS_DATE = date(2023, 6, 30)
T2 = ZEITREIHE_DIR / "berlin-lor-population-2024-01-t2-planning-areas.csv"
T1 = ZEITREIHE_DIR / "berlin-lor-population-2023-01-t1-planning-areas.csv"
UNIT = "01100101"
REGION = "011001"
HALF_YEAR_COLUMNS = [
    "inhabitants_age_below_6",
    "inhabitants_age_6_15",
    "inhabitants_age_15_18",
    "inhabitants_age_18_27",
    "inhabitants_age_27_45",
    "inhabitants_age_45_55",
    "inhabitants_age_55_65",
    "inhabitants_age_above_65",
]


def _import(path) -> None:
    run = import_run_create(
        kind=detect_kind(path, path.name),
        path=path,
        original_name=path.name,
        options={},
    )
    run = import_run_execute(import_run=run)
    assert run.status == ImportRun.Status.SUCCEEDED, run.error


@pytest.fixture
def deliveries(lor_units):
    variable_components_load()
    ewr_import()
    _import(T2)
    _import(T1)


def _t2_row(code: str) -> dict[str, str]:
    with T2.open(encoding="utf-8", newline="") as fh:
        return next(r for r in csv.DictReader(fh) if r["id"] == code)


def test_each_date_gets_its_finest_complete_band_set(deliveries):
    # EWR dates also have the coarse sets as harmonised sums: the fine one wins.
    assert age_bands_at(ref_date=EWR_DATE, level="planungsraum") == AGE_BANDS
    assert age_bands_at(ref_date=HALF_YEAR_DATE, level="bezirk") == HALF_YEAR_BANDS
    assert age_bands_at(ref_date=NO_BANDS_DATE, level="planungsraum") is None


def test_ewr_date_draws_the_32_fine_bands_with_the_ewr_source(deliveries):
    translation.activate("en")
    chart = charts.chart_age_structure(unit_code=UNIT, fmt="svg", ref_date=EWR_DATE)
    assert chart.figures["bands"] == 32
    assert chart.figures["bands_sum"] == chart.figures["total"] == 3580
    assert "Delivery of 31.12.2024: AfS Einwohnerregister matrix" in chart.source
    assert "Half-yearly" not in chart.source


def test_half_year_date_draws_the_tables_bands_and_names_their_source(deliveries):
    translation.activate("en")
    row = _t2_row(UNIT)
    expected = [float(row[c]) for c in HALF_YEAR_COLUMNS]
    chart = charts.chart_age_structure(
        unit_code=UNIT, fmt="png", ref_date=HALF_YEAR_DATE
    )
    assert chart.figures["bands"] == 8
    assert chart.figures["total"] == float(row["inhabitants"])
    assert chart.figures["bands_sum"] == pytest.approx(sum(expected))
    # The catalogue credit covers both formats; the date's delivery is named.
    assert "Statistischer Bericht A I 16" in chart.source
    assert chart.source.endswith(
        "Delivery of 30.06.2024: Half-yearly population table (LOR)"
    )


def test_date_without_bands_is_refused_in_german(deliveries, client_logged_in):
    with translation.override("de"), pytest.raises(charts.ChartError) as caught:
        charts.chart_age_structure(unit_code=UNIT, fmt="svg", ref_date=NO_BANDS_DATE)
    assert (
        str(caught.value) == "Für den Stichtag 30.06.2023 gibt es keine Altersgruppen."
    )
    response = client_logged_in.get(
        "/analysis/charts/agestructure.svg",
        {"unit": UNIT, "date": "2023-06-30"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert text.startswith("Diagramm nicht möglich:") and "30.06.2023" in text
    dated = client_logged_in.get(
        "/analysis/charts/agestructure.png", {"unit": UNIT, "date": "2024-06-30"}
    )
    assert dated.status_code == 200 and dated["Content-Type"] == "image/png"


def test_profile_shows_the_half_year_bands_and_says_when_there_are_none(
    deliveries,
):
    region = profile_region_get(code=REGION)
    half = profile_analysis_build(region=region, ref_date=HALF_YEAR_DATE)
    bands = half["age_structure"]
    assert [b["band"] for b in bands] == [
        "0–5",
        "6–14",
        "15–17",
        "18–26",
        "27–44",
        "45–54",
        "55–64",
        "65+",
    ]
    assert sum(b["value"] for b in bands) == half["facts"]["residents"]
    fine = profile_analysis_build(region=region, ref_date=EWR_DATE)
    assert len(fine["age_structure"]) == 32
    none = profile_analysis_build(region=region, ref_date=NO_BANDS_DATE)
    assert none["age_structure"] == []


def test_profile_page_says_in_german_when_a_date_has_no_bands(deliveries):
    region = profile_region_get(code=REGION)
    analysis = profile_analysis_build(region=region, ref_date=NO_BANDS_DATE)
    with translation.override("de"):
        html = render_to_string(
            "profiles/_analysis.html", {"analysis": analysis, "live": True}
        )
    assert "Zu diesem Stichtag liegen keine Altersgruppen vor." in html
    assert 'data-testid="age-chart-link"' not in html
    half = profile_analysis_build(region=region, ref_date=HALF_YEAR_DATE)
    html = render_to_string("profiles/_analysis.html", {"analysis": half, "live": True})
    assert "date=2024-06-30" in html and "65+" in html


def test_estimated_bands_are_drawn_and_marked_not_dropped(deliveries):
    """A date before the reform is converted from LOR 2006: its bands are values
    with status estimated, shown with the mark, never taken for suppressed."""
    Observation.objects.filter(
        ref_date=HALF_YEAR_DATE, variable__key__in=[RESIDENTS, *HALF_YEAR_BANDS]
    ).update(status="estimated")
    plain = charts.chart_age_structure(unit_code=UNIT, fmt="png", ref_date=EWR_DATE)
    assert plain.figures["estimated"] is False
    chart = charts.chart_age_structure(
        unit_code=UNIT, fmt="png", ref_date=HALF_YEAR_DATE
    )
    assert chart.figures["estimated"] is True
    assert chart.figures["bands"] == 8
    assert chart.figures["bands_sum"] == chart.figures["total"]

    region = profile_region_get(code=REGION)
    analysis = profile_analysis_build(region=region, ref_date=HALF_YEAR_DATE)
    bands = analysis["age_structure"]
    assert {b["status"] for b in bands} == {"ok"}  # a value, shown as such
    assert all(b["estimated"] for b in bands)
    bars = profile_charts.age_bars(bands)
    assert all(bar.per_year is not None and bar.estimated for bar in bars)
    assert profile_charts.age_structure_png(bands=bands) is not None
    with translation.override("de"):
        html = render_to_string(
            "profiles/_analysis.html", {"analysis": analysis, "live": True}
        )
    assert html.count('data-testid="age-estimated"') == 8
    assert "keine Daten" not in html.split('id="age"')[1].split("</section>")[0]
