"""PDF and Kurzprofil of Bezirksregion profiles, on the real LOR and EWR data.

The PDFs are checked with poppler (pdftotext, pdfinfo, pdfimages) and rendered
to PNG pages under tests/artifacts/profiles/ for review.
"""

from __future__ import annotations

import copy
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from datapool.models import Observation
from profiles.rendering import profile_pdf_context, profile_pdf_render
from tests.profiles.conftest import REGION, ewr_import, ewr_variant, indicators_compute

pytestmark = pytest.mark.django_db

DEC_2024 = date(2024, 12, 31)


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _pages(pdf: Path) -> int:
    info = subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _images(pdf: Path) -> list[str]:
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    return [line for line in listing if " image " in line]


def _save(artifacts: Path, name: str, content: bytes) -> Path:
    directory = artifacts / "profiles"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(content)
    for old in directory.glob(f"{path.stem}-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(path), str(directory / path.stem)],
        check=True,
    )
    return path


def _german_int(value: float) -> str:
    return f"{round(value):,}".replace(",", ".")


@pytest.fixture
def two_dates(indicators_2024, tmp_path):
    """The real 2024 matrix plus a constructed one for 12/2023: changes and series."""
    ewr_import(ewr_variant(tmp_path, zeit="202312", factor=0.97, name="e2023.csv"))
    indicators_compute()


def test_region_pdf_shows_name_residents_maps_and_pages(
    two_dates, client_logged_in, artifacts
):
    response = client_logged_in.get(f"/profiles/region/{REGION}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{REGION}" in response["Content-Disposition"]
    pdf = _save(artifacts, f"bezirksregionenprofil-{REGION}.pdf", response.content)
    text = _text(pdf)
    residents = Observation.objects.get(
        variable__key="E_E", unit__code=REGION, ref_date=DEC_2024
    ).value
    assert "Tiergarten Süd" in text
    assert _german_int(residents) in text  # e.g. "16.293"
    assert "31.12.2024" in text
    assert _pages(pdf) > 1
    # Maps of the Planungsräume, the age structure and the time series.
    assert len(_images(pdf)) >= 4
    assert list(pdf.parent.glob(f"{pdf.stem}-*.png"))
    # Every Planungsraum of the region is listed by key.
    for code in ("01100101", "01100102", "01100103", "01100104"):
        assert code in text


def test_kurzprofil_has_at_most_two_pages_and_one_map(
    indicators_2024, client_logged_in, artifacts
):
    response = client_logged_in.get(f"/profiles/region/{REGION}/kurzprofil.pdf")

    assert response.status_code == 200
    pdf = _save(artifacts, f"kurzprofil-{REGION}.pdf", response.content)
    assert _pages(pdf) <= 2
    assert len(_images(pdf)) == 1
    text = _text(pdf)
    assert "Tiergarten Süd" in text


def test_kurzprofil_fits_two_pages_for_every_region_of_a_district(
    indicators_2024, tmp_path
):
    from profiles.batch import profile_batch_regions
    from profiles.selectors import profile_document_for_region

    for region in profile_batch_regions(scope="01"):
        pdf = tmp_path / f"{region.code}.pdf"
        pdf.write_bytes(
            profile_pdf_render(
                document=profile_document_for_region(region=region), variant="short"
            )
        )
        assert _pages(pdf) <= 2, region.code


def test_edition_pdf_carries_goals_and_measures(
    indicators_2024, client, django_user_model, artifacts
):
    from core.access import Role
    from profiles.selectors import profile_region_get
    from profiles.services import goal_save, measure_save, profile_edition_create
    from tests.factories import UserFactory

    planner = UserFactory(username="mitte", role=Role.PLANNER, bezirk_code="01")
    edition = profile_edition_create(
        user=planner, region=profile_region_get(code=REGION), title="Profil 2025"
    )
    goal = goal_save(
        user=planner,
        edition=edition,
        theme="bildung_jugend",
        text="Mehr Kitaplätze schaffen",
        department="Jugendamt",
        priority="high",
        indicators=["KI_ANTEIL_U18"],
    )
    measure_save(
        user=planner,
        goal=goal,
        text="Kita Pohlstraße erweitern",
        department="Jugendamt",
    )
    client.force_login(planner)

    response = client.get(f"/profiles/editions/{edition.pk}/pdf/")

    assert response.status_code == 200
    pdf = _save(artifacts, f"edition-{REGION}.pdf", response.content)
    text = _text(pdf)
    assert "Profil 2025" in text
    assert "Mehr Kitaplätze schaffen" in text
    assert "Kita Pohlstraße erweitern" in text
    short = client.get(f"/profiles/editions/{edition.pk}/kurzprofil.pdf")
    assert short.status_code == 200 and short.content.startswith(b"%PDF")


def _sample_document() -> dict:
    """A hand-written document of the contract's shape (profiles.selectors)."""
    plr = [
        {"code": "01100101", "name": "Stülerstraße"},
        {"code": "01100102", "name": "Großer Tiergarten"},
    ]
    return {
        "edition": {
            "number": 2,
            "status": "adopted",
            "status_label": "beschlossen",
            "ref_date": "2024-12-31",
            "adopted_on": "2025-03-01",
            "decision_reference": "BA-Beschluss 12/2025",
            "title": "Bezirksregionenprofil Tiergarten Süd 2025",
        },
        "analysis": {
            "region": {
                "code": "011001",
                "name": "Tiergarten Süd",
                "bezirk_code": "01",
                "bezirk_name": "Mitte",
            },
            "ref_date": "2024-12-31",
            "previous_date": "2023-12-31",
            "facts": {
                "residents": 16293,
                "residents_status": "ok",
                "area_km2": 5.17,
                "density": 3151.8,
                "planungsraeume": plr,
            },
            "themes": [
                {
                    "theme": "Bevölkerungsstruktur",
                    "indicators": [
                        {
                            "key": "KI_SECRET",
                            "name": "Geheimer Anteil",
                            "unit": "%",
                            "direction": "neutral",
                            "value": None,
                            "status": "suppressed",
                            "district": 987.6,
                            "berlin": 876.5,
                            "rank": None,
                            "rank_of": 10,
                            "previous": 765.4,
                            "change": 4.3,
                            "trend": None,
                        },
                        {
                            "key": "KI_SMALL",
                            "name": "Kleiner Anteil",
                            "unit": "%",
                            "direction": "lower_better",
                            "value": None,
                            "status": "below_min",
                            "district": 12.5,
                            "berlin": 11.0,
                            "rank": None,
                            "rank_of": 10,
                            "previous": None,
                            "change": None,
                            "trend": None,
                        },
                        {
                            "key": "KI_OK",
                            "name": "Sichtbarer Anteil",
                            "unit": "%",
                            "direction": "higher_better",
                            "value": 13.3,
                            "status": "ok",
                            "district": 14.9,
                            "berlin": 16.3,
                            "rank": 8,
                            "rank_of": 10,
                            "previous": 12.1,
                            "change": 1.2,
                            "trend": "better",
                        },
                    ],
                }
            ],
            "maps": [
                {
                    "key": "KI_OK",
                    "name": "Sichtbarer Anteil",
                    "unit": "%",
                    "values": {
                        "01100101": {"value": 12.0, "status": "ok"},
                        "01100102": {"value": None, "status": "suppressed"},
                    },
                }
            ],
            "series": [],
            "age_structure": [
                {"band": "0", "value": 120.0, "status": "ok"},
                {"band": "1", "value": None, "status": "suppressed"},
            ],
            "mss": [],
            "facilities": [],
            "sources": ["Amt für Statistik Berlin-Brandenburg"],
            "licenses": ["CC BY 3.0 DE"],
        },
        "goals": [
            {
                "theme": "bevoelkerung",
                "text": "Familien im Kiez halten",
                "department": "Jugendamt",
                "priority": "high",
                "status": "open",
                "indicators": ["KI_OK"],
                "measures": [
                    {
                        "text": "Spielplatz Kurfürstenstraße erneuern",
                        "department": "SGA",
                        "status": "planned",
                        "due": "2026-06-30",
                    }
                ],
            }
        ],
        "assessments": [{"department": "Sozialamt", "text": "Bedarf steigt."}],
    }


def test_suppressed_and_small_values_show_their_status_never_a_number(
    lor_units, artifacts
):
    document = _sample_document()
    pdf = _save(artifacts, "sample-011001.pdf", profile_pdf_render(document=document))
    text = _text(pdf)

    assert "765,4" not in text  # the suppressed region's previous value
    assert "+4,3" not in text  # its change is not shown either
    assert re.search(r"suppressed|gesperrt", text)
    assert re.search(r"below minimum count|unter Mindestfallzahl", text)
    assert "13,3" in text and "+1,2" in text and "↑" in text
    assert "8 / 10" in text
    # The conceptual part of an edition.
    assert "Familien im Kiez halten" in text
    assert "Spielplatz Kurfürstenstraße erneuern" in text
    assert "30.06.2026" in text
    assert "BA-Beschluss 12/2025" in text
    assert "CC BY 3.0 DE" in text and "dl-de/by-2-0" in text


def test_context_hides_change_and_rank_of_a_suppressed_value(lor_units):
    context = profile_pdf_context(document=_sample_document())
    rows = {r["key"]: r for r in context["themes"][0]["rows"]}

    assert rows["KI_SECRET"]["value"] is None
    assert rows["KI_SECRET"]["change"] == "–" and rows["KI_SECRET"]["arrow"] == ""
    assert rows["KI_OK"]["arrow"] == "↑" and rows["KI_OK"]["trend"] == "better"


def test_map_with_only_missing_values_is_left_out(lor_units):
    document = copy.deepcopy(_sample_document())
    document["analysis"]["maps"][0]["values"] = {
        "01100101": {"value": None, "status": "missing"}
    }
    context = profile_pdf_context(document=document)

    assert context["maps"] == []
    assert context["maps_without_data"] == ["Sichtbarer Anteil"]


def test_pdf_requires_login(client):
    response = client.get(f"/profiles/region/{REGION}/pdf/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "url",
    [
        "/profiles/region/999999/pdf/",
        "/profiles/region/0110011/pdf/",
        "/profiles/region/01100101/kurzprofil.pdf",  # a Planungsraum
        "/profiles/region/abc/kurzprofil.pdf",
        "/profiles/region/%00%27/pdf/",
        "/profiles/editions/999999/pdf/",
        "/profiles/editions/999999/kurzprofil.pdf",
    ],
)
def test_bad_codes_are_404(client_logged_in, url):
    assert client_logged_in.get(url).status_code == 404
