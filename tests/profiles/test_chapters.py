"""The profile chapters "Soziale Infrastruktur" and "Fördermittel".

On the factory world of the supply tests (``tests/infrastructure/world.py``):
Bezirksregion 990001 holds Planungsräume A and B, 990002 holds C, all in a
made-up Bezirk 99 (so Bezirk 99 and Berlin are A + B + C for the supply
variables). Demand A 100, B 50, C 200 children, Richtwert 1 place, catchment
1 000 m, Kitas K1 in A (60), K2 in B (90), K3 in C (40).

Hand computation, innerhalb der Grenzen: region need 150, supply 60 + 90 =
150, Versorgungsgrad 100 %, Fehlbedarf (100 − 60) + 0 = 40; Bezirk/Berlin need
350, supply 190, 54,29 %, Fehlbedarf 40 + 0 + 160 = 200.

2SFCA: A–B 800 m and B–C 900 m are in reach, A–C 1 700 m is not.
R1 = 60 / (100 + 50) = 0,4; R2 = 90 / 350; R3 = 40 / (50 + 200) = 0,16.
S_A = (R1 + R2) · 100 = 65,714; S_B = (R1 + R2 + R3) · 50 = 40,857;
region supply 106,571, Versorgungsgrad 71,05 %, Fehlbedarf 34,286 + 9,143 =
43,429.

Funding (residents A 1 000, B 500, C 2 000): project P1 in A, 10 000 + 2 000
approved; project P2 of an area of B and C, 7 000 approved, spread by
residents: B gets 7 000 · 500 / 2 500 = 1 400. Region 13 400 € / 1 500 =
8,93 € per resident; Bezirk 99 and Berlin 19 000 € / 3 500 = 5,43 €.
"""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.gis.geos import MultiPolygon
from openpyxl import load_workbook

from core.access import Role
from datapool.models import Observation
from datapool.services.observations import coverage_refresh
from funding.models import FundingArea, Programme, Project, ProjectAmount
from funding.report import report_build, report_pdf, report_xlsx
from infrastructure.supply_publish import supply_rule_publish, supply_variable_keys
from lor.models import BERLIN_CODE, LorUnit
from profiles.analysis import profile_analysis_build, profile_memo_clear
from profiles.models import Goal, Measure
from profiles.selectors import profile_region_get
from profiles.services import goal_save, measure_save, profile_edition_create
from tests.factories import UserFactory
from tests.factories.datapool import ObservationFactory, VariableFactory
from tests.infrastructure.world import CODES, ON, X, build_world, square

pytestmark = pytest.mark.django_db

REGION = "990001"
RESIDENTS = {"A": 1000.0, "B": 500.0, "C": 2000.0}


def _unit(code: str, level: str, geom: MultiPolygon) -> LorUnit:
    return LorUnit.objects.create(
        scheme=LorUnit.Scheme.LOR_2021,
        level=level,
        code=code,
        name=f"Testraum {code}",
        geom=geom,
        area_m2=geom.area,
    )


@pytest.fixture
def chapter_world(lor_units):
    """The supply world in Bezirk 99, published, with residents and funding."""
    whole = square(X["B"]).union(square(X["A"])).union(square(X["C"]))
    bezirk = _unit("99", LorUnit.Level.BEZIRK, MultiPolygon(*whole, srid=25833))
    _unit("9900", LorUnit.Level.PROGNOSERAUM, MultiPolygon(*whole, srid=25833))
    rule, units, facilities = build_world()
    rule.facility_type.name = "Testkitas"
    rule.facility_type.source = "Testregister"
    rule.facility_type.save()
    facilities["A"].operator = "Träger A"
    facilities["A"].save()
    supply_rule_publish(rule=rule)
    # Residents delivered at every level (a delivered value takes precedence).
    e_e = VariableFactory(key="E_E", name="Einwohner")
    for name, unit in units.items():
        ObservationFactory(variable=e_e, unit=unit, ref_date=ON, value=RESIDENTS[name])
    for code, value in (
        ("990001", RESIDENTS["A"] + RESIDENTS["B"]),
        ("990002", RESIDENTS["C"]),
        ("99", sum(RESIDENTS.values())),
        (BERLIN_CODE, sum(RESIDENTS.values())),
    ):
        ObservationFactory(
            variable=e_e, unit=LorUnit.objects.get(code=code), ref_date=ON, value=value
        )
    coverage_refresh(variable_ids=[e_e.id])
    programme = Programme.objects.create(
        key="test-programm", name="Testprogramm", funder="Land Berlin", is_example=True
    )
    p1 = Project.objects.create(
        number="P1",
        district=bezirk,
        programme=programme,
        unit=units["A"],
        title="Spielplatz A",
        sponsor="Träger Eins",
        source="Testquelle",
        is_example=True,
    )
    ProjectAmount.objects.create(
        project=p1, year=2023, approved=Decimal(10000), paid=Decimal(4000)
    )
    ProjectAmount.objects.create(
        project=p1, year=2024, approved=Decimal(2000), paid=Decimal(1000)
    )
    area = FundingArea.objects.create(
        key="test-gebiet",
        programme=programme,
        name="Testgebiet B+C",
        district=bezirk,
        is_example=True,
    )
    area.units.set([units["B"], units["C"]])
    p2 = Project.objects.create(
        number="P2",
        district=bezirk,
        programme=programme,
        area=area,
        title="Kiezfonds BC",
        is_example=True,
    )
    ProjectAmount.objects.create(project=p2, year=2024, approved=Decimal(7000))
    profile_memo_clear()
    return {"rule": rule, "units": units, "projects": {"P1": p1, "P2": p2}}


def _published(key: str, code: str) -> float:
    return Observation.objects.get(
        variable__key=key, unit__code=code, ref_date=ON
    ).value


def test_infrastructure_chapter_equals_hand_computation_and_published_values(
    chapter_world,
):
    rule = chapter_world["rule"]
    analysis = profile_analysis_build(region=profile_region_get(code=REGION))
    chapter = analysis["infrastructure"]
    entry = next(r for r in chapter["rules"] if r["key"] == rule.key)
    assert entry["date"] == ON.isoformat()
    rows = {r["level"]: r for r in entry["comparison"]}
    region, bezirk, berlin = rows["bezirksregion"], rows["bezirk"], rows["berlin"]
    # Innerhalb der Grenzen.
    assert region["need"] == pytest.approx(150)
    assert region["methods"]["grenzen"]["supply"] == pytest.approx(150)
    assert region["methods"]["grenzen"]["grade"] == pytest.approx(100)
    assert region["methods"]["grenzen"]["deficit"] == pytest.approx(40)
    for other in (bezirk, berlin):
        assert other["need"] == pytest.approx(350)
        assert other["methods"]["grenzen"]["grade"] == pytest.approx(190 / 350 * 100)
        assert other["methods"]["grenzen"]["deficit"] == pytest.approx(200)
    # Einzugsbereich, 2SFCA.
    r1, r2, r3 = 60 / 150, 90 / 350, 40 / 250
    s_a, s_b = (r1 + r2) * 100, (r1 + r2 + r3) * 50
    catch = region["methods"]["2sfca"]
    assert catch["supply"] == pytest.approx(s_a + s_b)
    assert catch["grade"] == pytest.approx((s_a + s_b) / 150 * 100)
    assert catch["deficit"] == pytest.approx((100 - s_a) + (50 - s_b))
    # Exactly what the Datenpool publishes.
    keys = supply_variable_keys(rule=rule)
    assert catch["grade"] == pytest.approx(_published(keys["grade_2sfca"], REGION))
    assert bezirk["methods"]["2sfca"]["deficit"] == pytest.approx(
        _published(keys["deficit_2sfca"], "99")
    )
    plr = {r["code"]: r for r in entry["planungsraeume"]}
    assert set(plr) == {CODES["A"], CODES["B"]}
    assert plr[CODES["A"]]["methods"]["2sfca"]["supply"] == pytest.approx(s_a)
    assert [m["label"] for m in chapter["methods"]] == [
        "innerhalb der Grenzen",
        "Einzugsbereich, 2SFCA",
    ]
    # The register's Kitas of the region, with place and location for the map.
    kitas = [f for f in chapter["facilities"] if f["type"] == rule.facility_type.key]
    assert sorted((f["name"], f["capacity"]) for f in kitas) == [
        ("K1", 60.0),
        ("K2", 90.0),
    ]
    assert all(f["x"] is not None for f in kitas)
    assert any("Testregister" in s for s in chapter["sources"])
    # The map lists the type in its legend (drawn for review).
    from profiles.charts import facility_map_png

    png = facility_map_png(chapter=chapter, region_code=REGION, source_line="Test")
    assert png.startswith(b"\x89PNG")
    artifacts = Path(__file__).resolve().parents[1] / "artifacts" / "profiles"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "facility-map.png").write_bytes(png)


def test_funding_chapter_equals_the_steering_arithmetic(chapter_world):
    analysis = profile_analysis_build(region=profile_region_get(code=REGION))
    chapter = analysis["funding"]
    rows = {r["level"]: r for r in chapter["comparison"]}
    assert rows["bezirksregion"]["approved"] == pytest.approx(12000 + 1400)
    assert rows["bezirksregion"]["approved_per_resident"] == pytest.approx(13400 / 1500)
    assert rows["bezirksregion"]["paid"] == pytest.approx(5000)
    assert rows["bezirk"]["approved_per_resident"] == pytest.approx(19000 / 3500)
    assert rows["berlin"]["approved_per_resident"] == pytest.approx(19000 / 3500)
    assert [p["number"] for p in chapter["projects"]] == ["P1", "P2"]
    assert [p["region_share"] for p in chapter["projects"]] == pytest.approx(
        [1.0, 500 / 2500]
    )
    assert chapter["programmes"][0]["approved"] == pytest.approx(13400)
    assert chapter["areas"][0]["planungsraeume"] == [CODES["B"]]
    assert chapter["has_examples"]
    assert chapter["example_note"] == "Beispieldaten – keine amtlichen Zahlen"


def _planner_and_guest():
    planner = UserFactory(username="planung99", role=Role.PLANNER, bezirk_code="99")
    guest = UserFactory(username="gast99", role=Role.GUEST)
    return planner, guest


def _pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "profile.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_staff_see_amounts_guests_see_the_chapter_without_any(
    chapter_world, client, tmp_path
):
    planner, guest = _planner_and_guest()
    client.force_login(planner)
    html = client.get(f"/profiles/region/{REGION}/").content.decode()
    assert 'data-testid="funding-chapter"' in html
    assert 'data-testid="infrastructure-chapter"' in html
    assert "8,93" in html  # 13 400 € / 1 500 residents
    assert "13.400" in html
    assert "7.000* (20 %)" in html  # an area project: whole amount, region's share
    assert "Beispieldaten – keine amtlichen Zahlen" in html
    staff_pdf = _pdf_text(
        client.get(f"/profiles/region/{REGION}/pdf/").content, tmp_path
    )
    assert "8,93" in staff_pdf and "Kiezfonds BC" in staff_pdf
    assert "Einzugsbereich, 2SFCA" in staff_pdf

    client.force_login(guest)
    html = client.get(f"/profiles/region/{REGION}/").content.decode()
    assert 'data-testid="funding-chapter"' in html
    assert 'data-testid="funding-amounts-hidden"' in html
    assert "Kiezfonds BC" in html  # the project, without its money
    assert "20 %" not in html  # its share is shown with amounts only
    for amount in ("8,93", "13.400", "12.000", "7.000", "5,43"):
        assert amount not in html
    guest_pdf = _pdf_text(
        client.get(f"/profiles/region/{REGION}/pdf/").content, tmp_path
    )
    assert "Kiezfonds BC" in guest_pdf
    for amount in ("8,93", "13.400", "12.000", "7.000", "5,43"):
        assert amount not in guest_pdf
    document = client.get(f"/api/profiles/regions/{REGION}/").json()
    funding = document["analysis"]["funding"]
    assert funding["amounts_visible"] is False and funding["comparison"] == []
    assert all(p["approved"] is None for p in funding["projects"])


def test_measure_links_a_project_of_the_district_and_the_report_lists_the_goal(
    chapter_world, client, tmp_path
):
    planner, _guest = _planner_and_guest()
    region = profile_region_get(code=REGION)
    edition = profile_edition_create(user=planner, region=region)
    goal = goal_save(
        user=planner,
        edition=edition,
        theme=Goal._meta.get_field("theme").choices[0][0],
        text="Mehr Spielfläche",
        department="SGA",
    )
    p1 = chapter_world["projects"]["P1"]
    client.force_login(planner)
    response = client.post(
        f"/profiles/goals/{goal.pk}/measures/new/",
        {
            "text": "Spielplatz sanieren",
            "status": "planned",
            "funding_projects": [p1.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    measure = Measure.objects.get(goal=goal)
    assert list(measure.funding_projects.all()) == [p1]
    # Shown in the measure list and in the chapter.
    html = client.get(f"/profiles/editions/{edition.pk}/").content.decode()
    assert 'data-testid="measure-projects"' in html and "P1 Spielplatz A" in html
    # The Fördermittelbericht names the linked goal and measure.
    report = report_build(district_code="99")
    assert any(
        "Mehr Spielfläche" in text and "Spielplatz sanieren" in text
        for text in report.goal_links[p1.pk]
    )
    assert chapter_world["projects"]["P2"].pk not in report.goal_links
    # … in its XLSX (column "Verknüpfte Ziele") and its PDF.
    book = load_workbook(io.BytesIO(report_xlsx(report=report)))
    cells = [c.value for row in book["Maßnahmen"].iter_rows() for c in row]
    assert any(isinstance(v, str) and "Spielplatz sanieren" in v for v in cells)
    pdf = _pdf_text(report_pdf(report=report), tmp_path)
    assert "Mehr Spielfläche" in " ".join(pdf.split())


def test_a_project_of_another_district_cannot_be_linked(chapter_world):
    planner, _guest = _planner_and_guest()
    edition = profile_edition_create(
        user=planner, region=profile_region_get(code=REGION)
    )
    goal = goal_save(
        user=planner,
        edition=edition,
        theme=Goal._meta.get_field("theme").choices[0][0],
        text="Ziel",
        department="SGA",
    )
    other = Project.objects.create(
        number="X1",
        district=LorUnit.objects.get(level=LorUnit.Level.BEZIRK, code="01"),
        programme=Programme.objects.get(key="test-programm"),
        unit=LorUnit.objects.get(code="01100101"),
        title="Anderswo",
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        measure_save(user=planner, goal=goal, text="M", funding_projects=[other])
    assert "X1" in str(exc.value)
