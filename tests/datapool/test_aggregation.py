"""Aggregation rules against hand computations on a small real region."""

from datetime import date

import pytest

from datapool.models import ImportRun, Observation, Variable
from datapool.parsers.contract import ObservationRow, VariableSpec
from datapool.services.aggregation import observations_aggregate
from datapool.services.catalogue import variables_upsert
from datapool.services.imports import import_run_create
from datapool.services.observations import observations_replace
from lor.models import BERLIN_CODE, LorUnit

pytestmark = pytest.mark.django_db
D = date(2023, 12, 31)


@pytest.fixture
def run(tmp_path):
    path = tmp_path / "hand.csv"
    path.write_text("x")
    return import_run_create(kind="table", path=path, original_name="hand.csv")


def _write(run, specs, rows):
    variables = variables_upsert(
        specs=specs, supplier=None, lowest_level="planungsraum"
    )
    observations_replace(
        import_run=run, rows=[ObservationRow(*row) for row in rows], variables=variables
    )
    observations_aggregate(variables=variables.values(), ref_dates=[D], import_run=run)
    return variables


def _get(key, code):
    return Observation.objects.get(variable__key=key, unit__code=code, ref_date=D)


def test_ratio_is_recomputed_from_summed_numerator_and_denominator(run):
    plrs = list(LorUnit.objects.filter(parent__code="011001").order_by("code"))
    assert len(plrs) == 4
    num = [10, 30, 5, 0]
    den = [100, 150, 50, 20]
    rows = []
    for unit, n, d in zip(plrs, num, den, strict=True):
        rows += [
            ("T_NUM", unit.code, D, float(n), "ok", ""),
            ("T_DEN", unit.code, D, float(d), "ok", ""),
        ]
    rows.append(("T_SHARE", plrs[0].code, D, 99.0, "ok", ""))  # delivered: kept
    _write(
        run,
        [
            VariableSpec(key="T_NUM", name="Zähler"),
            VariableSpec(key="T_DEN", name="Nenner"),
            VariableSpec(
                key="T_SHARE",
                name="Anteil",
                aggregation="ratio",
                numerator="T_NUM",
                denominator="T_DEN",
                factor=100,
                value_type="share",
            ),
        ],
        rows,
    )
    region = _get("T_SHARE", "011001")
    # (10+30+5+0) / (100+150+50+20) × 100 = 14.0625, not the mean of the shares.
    assert region.value == pytest.approx(45 / 320 * 100)
    mean_of_shares = (10 / 100 + 30 / 150 + 5 / 50 + 0 / 20) / 4 * 100
    assert region.value != pytest.approx(mean_of_shares)
    assert region.is_aggregate and region.incomplete is False
    assert (
        _get("T_SHARE", plrs[0].code).value == 99.0
    )  # delivered value takes precedence
    assert _get("T_SHARE", plrs[1].code).value == pytest.approx(20.0)
    # Units outside the region have no components: nothing is invented there.
    assert not Observation.objects.filter(
        variable__key="T_SHARE", unit__code="0120"
    ).exists()


def test_suppressed_component_marks_sum_incomplete_and_ratio_suppressed(run):
    plrs = list(LorUnit.objects.filter(parent__code="011001").order_by("code"))
    rows = [("T_N", plrs[0].code, D, None, "suppressed", "")]
    rows += [("T_N", u.code, D, 7.0, "ok", "") for u in plrs[1:]]
    rows += [("T_D", u.code, D, 50.0, "ok", "") for u in plrs]
    _write(
        run,
        [
            VariableSpec(key="T_N", name="n"),
            VariableSpec(key="T_D", name="d"),
            VariableSpec(
                key="T_R",
                name="r",
                aggregation="ratio",
                numerator="T_N",
                denominator="T_D",
                factor=100,
            ),
        ],
        rows,
    )
    total = _get("T_N", "011001")
    assert total.value == 21 and total.incomplete
    assert _get("T_R", plrs[0].code).status == "suppressed"
    assert _get("T_R", "011001").incomplete is True
    berlin = _get("T_N", BERLIN_CODE)
    assert berlin.value == 21 and berlin.incomplete  # 538 Planungsräume have no value


def test_weighted_mean_and_not_aggregable(run):
    plrs = list(LorUnit.objects.filter(parent__code="011001").order_by("code"))
    rows = []
    for unit, value, weight in zip(
        plrs, [1.0, 2.0, 3.0, 4.0], [10, 0, 30, 60], strict=True
    ):
        rows += [
            ("T_IDX", unit.code, D, value, "ok", ""),
            ("T_W", unit.code, D, float(weight), "ok", ""),
            ("T_CLASS", unit.code, D, value, "ok", ""),
        ]
    _write(
        run,
        [
            VariableSpec(key="T_W", name="w"),
            VariableSpec(
                key="T_IDX", name="idx", aggregation="weighted_mean", weight="T_W"
            ),
            VariableSpec(key="T_CLASS", name="class", aggregation="none"),
        ],
        rows,
    )
    assert _get("T_IDX", "011001").value == pytest.approx((10 + 90 + 240) / 100)
    assert not Observation.objects.filter(
        variable__key="T_CLASS", unit__code="011001"
    ).exists()


def test_value_delivered_at_higher_level_is_not_overwritten(run):
    plrs = list(LorUnit.objects.filter(parent__code="011001").order_by("code"))
    rows = [("T_C", u.code, D, 1.0, "ok", "") for u in plrs]
    rows.append(("T_C", "011001", D, 5.0, "ok", ""))  # AfS publishes its own figure
    _write(run, [VariableSpec(key="T_C", name="c")], rows)
    region = _get("T_C", "011001")
    assert region.value == 5.0 and not region.is_aggregate
    assert _get("T_C", "0110").value == 4.0  # coarser levels still sum the PLRs


def test_variable_rule_is_kept_in_catalogue(run):
    _write(
        run,
        [
            VariableSpec(key="T_A", name="a"),
            VariableSpec(key="T_B", name="b"),
            VariableSpec(
                key="T_AB",
                name="ab",
                aggregation="ratio",
                numerator="T_A",
                denominator="T_B",
            ),
        ],
        [],
    )
    ab = Variable.objects.get(key="T_AB")
    assert ab.aggregation == "ratio" and ab.numerator.key == "T_A"
    assert ImportRun.objects.count() == 1
