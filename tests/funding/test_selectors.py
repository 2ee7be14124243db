"""Steering numbers against hand computations: per unit, per resident, per class."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from datapool.models import Observation
from datapool.mss_index import mss_index_compute, mss_inputs_from_csv
from funding.models import FundingArea, Programme, Project, ProjectAmount
from funding.selectors import (
    funding_by_status_class,
    funding_by_unit,
    funding_by_year,
    funding_vs_status_index,
)
from lor.models import LorUnit
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.django_db

EWR_DATE = date(2024, 12, 31)
A, B = "01100101", "01100102"  # Stülerstraße, Großer Tiergarten (Tiergarten Süd)


def _unit(code: str) -> LorUnit:
    return LorUnit.objects.get(scheme=LorUnit.Scheme.LOR_2021, code=code)


def _residents(code: str) -> float:
    return Observation.objects.get(
        variable__key="E_E", unit=_unit(code), ref_date=EWR_DATE
    ).value


@pytest.fixture
def projects(ewr_imported):
    """An area of two Planungsräume with 10 000 €, one project of 5 000 € in A."""
    programme = Programme.objects.create(key="p", name="Programm P")
    area = FundingArea.objects.create(
        key="g", name="Gebiet G", programme=programme, district=_unit("01")
    )
    area.units.set([_unit(A), _unit(B)])
    in_area = Project.objects.create(
        number="1", title="Gebietsprojekt", district=_unit("01"),
        programme=programme, area=area,
    )  # fmt: skip
    in_a = Project.objects.create(
        number="2", title="Projekt in A", district=_unit("01"),
        programme=programme, unit=_unit(A),
    )  # fmt: skip
    ProjectAmount.objects.create(
        project=in_area, year=2024, approved=Decimal("10000"), paid=Decimal("6000")
    )
    ProjectAmount.objects.create(
        project=in_a, year=2024, approved=Decimal("5000"), paid=Decimal("1000")
    )
    ProjectAmount.objects.create(project=in_a, year=2023, approved=Decimal("999"))
    return programme


def test_per_unit_and_per_resident_equal_the_hand_computation(projects):
    e_a, e_b = _residents(A), _residents(B)
    # The area's 10 000 € are spread by residents: every resident of the area
    # receives 10 000 / (E_A + E_B); A also has the 5 000 € of its own project.
    hand_a = 5000 + 10000 * e_a / (e_a + e_b)
    hand_b = 10000 * e_b / (e_a + e_b)

    table = funding_by_unit(level="planungsraum", year=2024, district_code="01")
    rows = {r.code: r for r in table.rows}

    assert rows[A].approved == pytest.approx(hand_a)
    assert rows[B].approved == pytest.approx(hand_b)
    assert rows[A].approved_per_resident == pytest.approx(hand_a / e_a)
    assert rows[B].approved_per_resident == pytest.approx(10000 / (e_a + e_b))
    assert rows[A].paid == pytest.approx(1000 + 6000 * e_a / (e_a + e_b))
    assert table.total_approved == pytest.approx(15000)
    assert sum(1 for r in table.rows if r.approved) == 2
    assert (
        len(table.rows)
        == LorUnit.objects.filter(level="planungsraum", code__startswith="01").count()
    )


def test_bezirksregion_and_bezirk_sum_their_planungsraeume(projects):
    region = {r.code: r for r in funding_by_unit(level="bezirksregion", year=2024).rows}
    district = {r.code: r for r in funding_by_unit(level="bezirk").rows}

    assert region["011001"].approved == pytest.approx(15000)
    assert region["011001"].approved_per_resident == pytest.approx(
        15000 / _residents("011001")
    )
    # All years: the 999 € of 2023 count too.
    assert district["01"].approved == pytest.approx(15999)
    assert district["01"].approved_per_resident == pytest.approx(
        15999 / _residents("01")
    )
    assert district["02"].approved == 0


def test_funding_by_year_sums_per_programme(projects):
    assert funding_by_year(district_code="01") == {
        "Programm P": {2023: (999.0, 0.0), 2024: (15000.0, 7000.0)}
    }


@pytest.fixture
def mss_imported(projects):
    for name in ("mss2021_indizes_plr.csv", "mss2021_index_indikatoren_plr.csv"):
        call_command("datapool_import", str(SHARED_DATA / name), verbosity=0)


def test_per_resident_by_status_class_divides_sums(mss_imported):
    classes, on = funding_by_status_class(year=2024)
    by_class = {c.status_class: c for c in classes}
    status = dict(
        Observation.objects.filter(
            variable__key="MSS_SI_N", unit__level="planungsraum", status="ok"
        ).values_list("unit__code", "value")
    )
    e_a, e_b = _residents(A), _residents(B)
    funded = {A: 5000 + 10000 * e_a / (e_a + e_b), B: 10000 * e_b / (e_a + e_b)}
    for value in {status[A], status[B]}:
        members = [code for code, v in status.items() if v == value]
        amount = sum(funded.get(code, 0) for code in members)
        residents = sum(_residents(c) for c in members if _has_residents(c))
        group = by_class[int(value)]
        assert group.units == len(members)
        assert group.amount == pytest.approx(amount)
        assert group.residents == pytest.approx(residents)
        # A class's rate is its sum of funding over its sum of residents.
        assert group.per_resident == pytest.approx(amount / residents)
    assert sum(c.amount for c in classes) == pytest.approx(15000)
    assert sum(c.units for c in classes) == 542
    assert on is not None


def _has_residents(code: str) -> bool:
    return Observation.objects.filter(
        variable__key="E_E", unit__code=code, ref_date=EWR_DATE, status="ok"
    ).exists()


def test_scatter_uses_the_mss_status_index_of_the_published_inputs(mss_imported):
    published = mss_index_compute(
        mss_inputs_from_csv(SHARED_DATA / "mss2021_index_indikatoren_plr.csv")
    ).set_index("PLR_ID")
    points = {p[0]: p for p in funding_vs_status_index(year=2024)}

    assert points[A][2] == pytest.approx(published.loc[A, "SI_Z"])
    assert points[A][3] == pytest.approx(
        (5000 + 10000 * _residents(A) / (_residents(A) + _residents(B))) / _residents(A)
    )
    # Invalid Planungsräume have no status index and are left out.
    assert len(points) == int(published["SI_Z"].notna().sum())
