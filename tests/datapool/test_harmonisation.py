"""Harmonised sum variables (issue 12, item 2) on a small real region by hand."""

from datetime import date

import pytest

from datapool.lineage import variable_lineage
from datapool.models import Observation, Variable, VariableComponent
from datapool.parsers.contract import ObservationRow, VariableSpec
from datapool.services.aggregation import observations_aggregate
from datapool.services.catalogue import variables_upsert
from datapool.services.harmonisation import (
    harmonised_sums_derive,
    sum_definitions,
    variable_components_load,
)
from datapool.services.imports import import_run_create
from datapool.services.indicators import indicator_compute
from datapool.services.observations import observations_replace
from lor.models import LorUnit
from tests.factories.datapool import IndicatorFactory, VariableFactory

pytestmark = pytest.mark.django_db
D = date(2023, 12, 31)
LATER = date(2024, 6, 30)
REGION = "011001"


@pytest.fixture
def run(tmp_path, lor_units):
    path = tmp_path / "hand.csv"
    path.write_text("x")
    return import_run_create(kind="table", path=path, original_name="hand.csv")


@pytest.fixture
def plrs(lor_units):
    units = list(LorUnit.objects.filter(parent__code=REGION).order_by("code"))
    assert len(units) == 4
    return [u.code for u in units]


def _deliver(run, keys, rows, ref_date=D):
    variables = variables_upsert(
        specs=[VariableSpec(key=k, name=k) for k in keys],
        supplier=None,
        lowest_level="planungsraum",
    )
    observations_replace(
        import_run=run, rows=[ObservationRow(*row) for row in rows], variables=variables
    )
    observations_aggregate(
        variables=variables.values(), ref_dates=[ref_date], import_run=run
    )
    return harmonised_sums_derive(
        import_run=run,
        variable_ids=[v.id for v in variables.values()],
        ref_dates=[ref_date],
    )


def _sum_of(total, *parts):
    total_variable = VariableFactory(key=total)
    for part in parts:
        VariableComponent.objects.create(
            total=total_variable, component=VariableFactory(key=part)
        )
    return total_variable


def _get(key, code, ref_date=D):
    return Observation.objects.get(
        variable__key=key, unit__code=code, ref_date=ref_date
    )


def test_sum_with_one_suppressed_component(run, plrs):
    _sum_of("T_SUM", "T_A", "T_B")
    a = [None, 10.0, 20.0, 30.0]  # the first Planungsraum's T_A is suppressed
    b = [5.0, 6.0, 7.0, 8.0]
    rows = []
    for code, x, y in zip(plrs, a, b, strict=True):
        rows.append(("T_A", code, D, x, "suppressed" if x is None else "ok", ""))
        rows.append(("T_B", code, D, y, "ok", ""))
    derived = _deliver(run, ["T_A", "T_B"], rows)
    assert derived == [Variable.objects.get(key="T_SUM").id]

    suppressed = _get("T_SUM", plrs[0])
    assert (suppressed.value, suppressed.status) == (None, "suppressed")
    whole = _get("T_SUM", plrs[1])
    assert (whole.value, whole.status, whole.incomplete) == (16.0, "ok", False)
    assert whole.is_aggregate and whole.note == "Summe aus T_A + T_B"
    # The Bezirksregion sums its components' aggregates, and says it is
    # incomplete as the aggregation of T_A does.
    region = _get("T_SUM", REGION)
    assert region.value == 10 + 20 + 30 + 5 + 6 + 7 + 8
    assert region.incomplete and _get("T_A", REGION).incomplete


def test_a_delivered_sum_takes_precedence_and_sums_of_sums_follow(run, plrs):
    _sum_of("T_SUM", "T_A", "T_B")
    _sum_of("T_TOP", "T_SUM", "T_C")
    assert [t.key for t, _parts in sum_definitions()] == ["T_SUM", "T_TOP"]
    rows = [
        (key, code, LATER, 1.0, "ok", "")
        for code in plrs
        for key in ("T_A", "T_B", "T_C")
    ]
    _deliver(run, ["T_A", "T_B", "T_C"], rows, ref_date=LATER)
    assert _get("T_SUM", plrs[0], LATER).value == 2
    assert _get("T_TOP", plrs[0], LATER).value == 3
    # The sum itself delivered for the date replaces what was derived …
    _deliver(run, ["T_SUM"], [("T_SUM", plrs[0], LATER, 7.0, "ok", "")], LATER)
    delivered = _get("T_SUM", plrs[0], LATER)
    assert (delivered.value, delivered.is_aggregate) == (7.0, False)
    assert not Observation.objects.filter(
        variable__key="T_SUM", unit__code=plrs[1], ref_date=LATER
    ).exists()
    # … and a later delivery of a component derives nothing over it.
    _deliver(run, ["T_A"], [("T_A", plrs[0], LATER, 5.0, "ok", "")], LATER)
    assert _get("T_SUM", plrs[0], LATER).value == 7.0


def test_an_indicator_names_the_inputs_a_date_lacks(run, plrs):
    indicator = IndicatorFactory(
        numerator=VariableFactory(key="T_NUM"),
        denominator=VariableFactory(key="T_DEN"),
    )
    rows = [("T_DEN", code, D, 400.0, "ok", "") for code in plrs]
    _deliver(run, ["T_DEN"], rows)
    indicator_compute(indicator=indicator, run=run)
    value = _get(indicator.variable.key, plrs[0])
    assert value.status == "missing"
    assert value.note == "Eingangswerte fehlen: T_NUM"


def test_catalogue_states_the_harmonised_sums(lor_units):
    variable_components_load()
    variable_components_load()  # idempotent
    parts = {
        total.key: [c.key for c in components]
        for total, components in sum_definitions()
    }
    assert parts["E_EU6"] == ["E_EU1", "E_E1U6"]
    assert parts["E_EU18"] == ["E_EU6", "E_E6U15", "E_E15U18"]
    # Sums are derived after the sums they are made of.
    order = list(parts)
    assert order.index("E_EU6") < order.index("E_EU18")
    assert VariableComponent.objects.filter(total__key="E_EU6").count() == 2
    # A sum never delivered credits the sources of its components.
    assert variable_lineage(variables=["E_EU18"]) == []
