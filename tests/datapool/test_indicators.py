import csv
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from datapool.formula import (
    FormulaError,
    formula_evaluate,
    formula_parse,
    formula_to_sql,
    formula_variables,
)
from datapool.models import ImportRun, Indicator, Observation, Variable
from datapool.services.indicators import (
    indicator_definitions_load,
    indicator_run_create,
    indicator_run_execute,
)
from lor.models import BERLIN_CODE
from tests.datapool.conftest import EWR_FILE

pytestmark = pytest.mark.django_db
DEC_2024 = date(2024, 12, 31)
U18 = ("E_EU1", "E_E1U6", "E_E6U15", "E_E15U18")


@pytest.fixture
def computed(ewr_imported):
    indicator_definitions_load()
    run = indicator_run_execute(run=indicator_run_create())
    assert run.status == ImportRun.Status.SUCCEEDED
    return run


def _get(key, code):
    return Observation.objects.get(
        variable__key=key, unit__code=code, ref_date=DEC_2024
    )


def test_share_under_18_for_berlin_equals_hand_computation(computed):
    with EWR_FILE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    under_18 = sum(int(r[c]) for r in rows for c in U18 if r[c])
    total = sum(int(r["E_E"]) for r in rows if r["E_E"])
    berlin = _get("KI_ANTEIL_U18", BERLIN_CODE)
    assert berlin.value == pytest.approx(under_18 / total * 100)
    assert berlin.value == pytest.approx(16.2642, abs=1e-4)


def test_bezirksregion_share_is_summed_numerator_over_summed_denominator(computed):
    plrs = Observation.objects.filter(
        variable__key__in=[*U18, "E_E"], unit__parent__code="011001", ref_date=DEC_2024
    ).values_list("variable__key", "unit__code", "value")
    numerator = sum(v for k, _c, v in plrs if k in U18)
    denominator = sum(v for k, _c, v in plrs if k == "E_E")
    region = _get("KI_ANTEIL_U18", "011001")
    assert region.value == pytest.approx(numerator / denominator * 100)
    shares = [_get("KI_ANTEIL_U18", code).value for code in {c for _k, c, _v in plrs}]
    assert region.value != pytest.approx(sum(shares) / len(shares))


def test_unit_below_minimum_denominator_shows_no_value(computed):
    small = _get("E_E", "03300515")  # Blankenburger Süden
    assert small.value < 300
    obs = _get("KI_ANTEIL_U18", "03300515")
    assert obs.value is None and obs.status == "missing"
    assert "300" in obs.note


def test_suppressed_input_gives_suppressed_indicator(computed):
    obs = _get("KI_ANTEIL_U18", "03400831")
    assert obs.status == "suppressed" and obs.value is None


def test_indicator_without_inputs_is_defined_but_has_no_data(computed):
    assert Indicator.objects.filter(variable__key="KI_ESU").exists()
    assert not Observation.objects.filter(variable__key="KI_ESU").exists()


def test_indicators_are_served_like_variables(computed, user):
    client = APIClient()
    client.force_authenticate(user)
    data = client.get(
        "/api/values/", {"variable": "KI_ANTEIL_65PLUS", "level": "bezirk"}
    ).json()
    assert len(data["results"]) == 12 and data["date"] == "2024-12-31"
    listing = client.get("/api/indicators/").json()
    u18 = next(i for i in listing if i["key"] == "KI_ANTEIL_U18")
    # Over the harmonised sum, which every delivery of the population supplies.
    assert u18["formula"] == "E_EU18 / E_E * 100" and u18["min_denominator"] == 300
    assert "planungsraum" in u18["levels"] and u18["dates"] == ["2024-12-31"]


def test_indicator_page_lists_definition_and_berlin_value(computed, client_logged_in):
    html = client_logged_in.get("/datapool/indicators/").content.decode()
    assert "Anteil der Einwohner unter 18 Jahren" in html
    assert "16,3" in html or "16.3" in html
    assert "E_E65U110" in html


def test_change_between_two_dates_in_points_and_per_cent(computed, user):
    # A second, earlier delivery: the same matrix with 1 % fewer children.
    e_e = Variable.objects.get(key="E_E")
    earlier = date(2023, 12, 31)
    for obs in Observation.objects.filter(
        ref_date=DEC_2024, variable__key__in=[*U18, "E_E"]
    ):
        factor = 0.99 if obs.variable_id != e_e.id and obs.value else 1
        Observation.objects.create(
            variable_id=obs.variable_id,
            unit_id=obs.unit_id,
            ref_date=earlier,
            value=None if obs.value is None else obs.value * factor,
            status=obs.status,
            is_aggregate=obs.is_aggregate,
            import_run_id=obs.import_run_id,
        )
    from datapool.services.observations import coverage_refresh

    coverage_refresh(variable_ids=list(Variable.objects.values_list("id", flat=True)))
    indicator_run_execute(run=indicator_run_create())
    client = APIClient()
    client.force_authenticate(user)
    data = client.get(
        "/api/values/",
        {"variable": "KI_ANTEIL_U18", "level": "berlin", "compare": "2023-12-31"},
    ).json()
    assert data["change_unit"] == "Prozentpunkte"
    now = _get("KI_ANTEIL_U18", BERLIN_CODE).value
    assert data["results"][0]["value"] == pytest.approx(now - now * 0.99)
    counts = client.get(
        "/api/values/",
        {"variable": "E_EU1", "level": "berlin", "compare": "2023-12-31"},
    ).json()
    assert counts["change_unit"] == "%"
    assert counts["results"][0]["value"] == pytest.approx((1 / 0.99 - 1) * 100)


def test_formula_language_is_safe_and_exact():
    assert formula_variables("(A + B) / C * 100") == ["A", "B", "C"]
    assert formula_evaluate("(A + B) / C * 100", {"A": 1, "B": 2, "C": 4}) == 75
    assert formula_evaluate("A / B", {"A": 1, "B": 0}) is None
    assert "NULLIF" in formula_to_sql("A / B", lambda k: k)
    for bad in ("__import__('os').system('x')", "A ** 2", "A.b", "", "A +", "[1]"):
        with pytest.raises(FormulaError):
            formula_parse(bad)


def test_invalid_formula_is_refused_by_model_validation(computed):
    indicator = Indicator.objects.get(variable__key="KI_ANTEIL_U18")
    indicator.formula = "E_E ** 2"
    with pytest.raises(ValidationError):
        indicator.full_clean()


def test_mss_classes_recomputed_from_the_datenpool_match_published(db):
    from django.core.management import call_command

    from tests.conftest import SHARED_DATA

    for name in ("indizes", "index_indikatoren"):
        call_command(
            "datapool_import", str(SHARED_DATA / f"mss2021_{name}_plr.csv"), verbosity=0
        )
    run = indicator_run_execute(run=indicator_run_create())
    agreement = run.summary["mss"]["2020-12-31"]["agreement"]
    for column in ("SI_N", "DI_N", "SDI_N"):
        assert agreement[column]["total"] == 536
        assert agreement[column]["agree"] / agreement[column]["total"] >= 0.99
        assert agreement[column]["agree"] == 536  # measured: full agreement
    stuelerstrasse = Observation.objects.get(
        variable__key="PRISMA_MSS_SDI_N", unit__code="01100101"
    )
    assert stuelerstrasse.value == 25
    outlier = Observation.objects.get(
        variable__key="PRISMA_MSS_SI_N", unit__code="10100205"
    )
    assert outlier.value is None and outlier.status == "missing"


def test_import_touching_an_input_recomputes_its_indicators(
    db, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    indicator_definitions_load()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "datapool_import", str(EWR_FILE), "--map", "06200318=06200418", verbosity=0
        )
    computation = ImportRun.objects.filter(kind=ImportRun.Kind.COMPUTATION).get()
    assert computation.status == ImportRun.Status.SUCCEEDED
    assert computation.percent == 100
    assert _get("KI_ANTEIL_65PLUS", BERLIN_CODE).value > 0
    # MSS-based indicators were not touched by this import and stay without data.
    assert not Observation.objects.filter(variable__key="KI_ARBEITSLOSE").exists()


def test_every_row_of_the_shipped_definitions_has_the_headers_fields():
    # The loader refuses a row with more fields (an unquoted ";"); one with
    # fewer (a line break in a text) would shift nothing it could notice.
    path = Path(settings.BASE_DIR) / "datapool" / "metadata" / "kernindikatoren.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh, delimiter=";"))
    assert rows and all(len(row) == len(header) for row in rows), [
        row[0] for row in rows if len(row) != len(header)
    ]
    kita = next(row for row in rows if row[0] == "KI_KITA")
    assert kita[header.index("documentation")].endswith(
        "Versorgungsgrad und Fehlbedarf nach Einzugsbereich (2SFCA): "
        "VS_KITA_VG_2SFCA, VS_KITA_DEFIZIT_2SFCA."
    )
