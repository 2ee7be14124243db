"""Corrections of the profile (issue 14, item 7): dates, age chart, Kurzprofil."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from datapool.age_structure import AGE_BANDS, age_band_label, age_band_width
from lor.models import LorUnit
from profiles import charts
from profiles.analysis import profile_analysis_build
from profiles.rendering import profile_pdf_context, profile_pdf_render
from tests.conftest import SHARED_DATA
from tests.profiles.conftest import REGION, indicators_compute
from tests.profiles.test_pdf import _pages, _save, _text


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


# --- dates, pages and sources on the real data -----------------------------------


MSS_DATE = "2020-12-31"


@pytest.fixture
def with_mss(indicators_2024):
    """EWR 12/2024 plus the MSS 2021 indicators and indices (as of 31.12.2020)."""
    for name in ("mss2021_index_indikatoren_plr.csv", "mss2021_indizes_plr.csv"):
        call_command("datapool_import", str(SHARED_DATA / name), verbosity=0)
    indicators_compute()


def _document(code: str = REGION) -> dict:
    region = LorUnit.objects.get(scheme="LOR 2021", code=code)
    analysis = profile_analysis_build(region=region)
    return {"edition": None, "analysis": analysis, "goals": [], "assessments": []}


@pytest.mark.django_db
def test_mss_indicator_map_and_table_carry_the_date_of_their_values(with_mss):
    document = _document()
    analysis = document["analysis"]
    assert analysis["ref_date"] == "2024-12-31"
    [mapped] = [m for m in analysis["maps"] if m["key"] == "KI_ARBEITSLOSE"]
    [row] = [
        i
        for t in analysis["themes"]
        for i in t["indicators"]
        if i["key"] == mapped["key"]
    ]
    assert mapped["date"] == row["date"] == MSS_DATE

    context = profile_pdf_context(document=document, variant="full")
    [drawn] = [m for m in context["maps"] if m["key"] == "KI_ARBEITSLOSE"]
    [shown] = [
        r for t in context["themes"] for r in t["rows"] if r["key"] == "KI_ARBEITSLOSE"
    ]
    assert drawn["date"] == shown["date"] == "31.12.2020"
    assert shown["other_date"] is True
    # Not "no data": the values are the Planungsräume's, on the map.
    assert shown["status_label"] in (
        "Planungsräume only, see map",
        "nur Planungsräume, s. Karte",
    )
    # An EWR indicator keeps the profile's date.
    [u18] = [m for m in context["maps"] if m["key"] == "KI_ANTEIL_U18"]
    assert u18["date"] == "31.12.2024"


@pytest.mark.django_db
def test_full_pdf_labels_the_mss_map_with_31_12_2020(with_mss, artifacts):
    pdf = _save(
        artifacts,
        f"dates-{REGION}.pdf",
        profile_pdf_render(document=_document(), variant="full"),
    )
    text = " ".join(_text(pdf).split())
    assert "Arbeitslose, 31.12.2020." in text
    assert "Arbeitslose, 31.12.2024" not in text
    assert "Stand 31.12.2020" in text


@pytest.mark.django_db
def test_kurzprofil_has_two_pages_and_one_source_prefix(with_mss, artifacts):
    pdf = _save(
        artifacts,
        f"kurzprofil-two-pages-{REGION}.pdf",
        profile_pdf_render(document=_document(), variant="short"),
    )
    assert _pages(pdf) == 2
    text = _text(pdf)
    assert "Quelle: Quelle" not in text
    # One source line, with its prefix once.
    assert text.count("Quelle") == 1
    page_2 = text.split("\f")[1]
    assert "Monitoring Soziale Stadtentwicklung" in page_2
    assert "Quelle:" in page_2


def test_age_bars_of_stored_bands_without_key_take_the_width_from_the_label():
    bands = [{k: v for k, v in b.items() if k != "key"} for b in _bands({})]
    assert [b.width for b in charts.age_bars(bands)] == [
        age_band_width(k) for k in AGE_BANDS
    ]
