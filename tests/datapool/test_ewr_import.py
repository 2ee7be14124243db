from datetime import date

import pytest
from django.core.management import CommandError, call_command

from datapool.models import Coverage, Delivery, ImportRun, Observation, Variable
from lor.models import BERLIN_CODE, LorUnit
from tests.datapool.conftest import EWR_FILE, db_state, write_text

pytestmark = pytest.mark.django_db

DEC_2024 = date(2024, 12, 31)


def _value(key: str, code: str, ref_date: date = DEC_2024) -> Observation:
    return Observation.objects.get(
        variable__key=key, unit__code=code, ref_date=ref_date
    )


def test_matrix_imports_all_542_planungsraeume(ewr_imported):
    assert ewr_imported.status == ImportRun.Status.SUCCEEDED
    e_e = Variable.objects.get(key="E_E")
    plr = Observation.objects.filter(variable=e_e, unit__level="planungsraum")
    assert plr.count() == 542
    assert _value("E_E", "01100101").value == 3580
    assert e_e.name == "Einwohner insgesamt"
    assert e_e.theme == "bevoelkerung" and e_e.metadata_complete
    assert Variable.objects.filter(key__startswith="E_E").count() == 44


def test_empty_cells_are_suppressed_not_zero(ewr_imported):
    for code in ("03400831", "06200418"):  # 06200418 arrived as 06200318, mapped
        obs = _value("E_E", code)
        assert obs.status == Observation.Status.SUPPRESSED
        assert obs.value is None
    assert ewr_imported.summary["suppressed"] == 2 * 44


def test_berlin_total_is_sum_of_shown_planungsraeume_and_incomplete(ewr_imported):
    shown = Observation.objects.filter(
        variable__key="E_E", unit__level="planungsraum", status="ok"
    ).values_list("value", flat=True)
    berlin = _value("E_E", BERLIN_CODE)
    assert berlin.value == sum(shown) == 3_897_145  # the published total
    assert berlin.is_aggregate and berlin.incomplete
    # A Bezirk without suppressed Planungsräume is complete.
    assert _value("E_E", "01").incomplete is False
    assert _value("E_E", "03").incomplete is True


def test_every_level_sums_to_berlin(ewr_imported):
    for level in ("bezirksregion", "prognoseraum", "bezirk"):
        total = sum(
            Observation.objects.filter(
                variable__key="E_EW", unit__level=level, ref_date=DEC_2024
            ).values_list("value", flat=True)
        )
        assert total == _value("E_EW", BERLIN_CODE).value
    assert (
        Observation.objects.filter(
            variable__key="E_E", unit__level="bezirksregion"
        ).count()
        == 143
    )


def test_unknown_key_is_reported_with_suggestion_and_nothing_written(db):
    before = db_state()
    with pytest.raises(CommandError) as excinfo:
        call_command("datapool_import", str(EWR_FILE), verbosity=0)
    message = str(excinfo.value)
    assert "06200318" in message and "Zeile 262" in message
    assert "Vorschlag: 06200418 (Landweg)" in message
    assert db_state() == before
    run = ImportRun.objects.latest("pk")
    assert run.status == ImportRun.Status.REVIEW
    assert run.summary["unknown_keys"][0]["suggestion"] == "06200418"


def test_unknown_key_can_be_skipped(db):
    call_command("datapool_import", str(EWR_FILE), "--skip", "06200318", verbosity=0)
    assert not Observation.objects.filter(
        variable__key="E_E", unit__code="06200418"
    ).exists()
    assert (
        Observation.objects.filter(
            variable__key="E_E", unit__level="planungsraum"
        ).count()
        == 541
    )


def test_reimport_replaces_values_and_keeps_history(ewr_imported):
    first = ewr_imported
    call_command(
        "datapool_import", str(EWR_FILE), "--map", "06200318=06200418", verbosity=0
    )
    second = ImportRun.objects.latest("pk")
    assert second.pk != first.pk
    assert (
        Observation.objects.filter(
            variable__key="E_E", unit__level="planungsraum"
        ).count()
        == 542
    )
    assert set(
        Observation.objects.filter(variable__key="E_E").values_list(
            "import_run", flat=True
        )
    ) == {second.pk}
    delivery = Delivery.objects.get(import_run=second, variable__key="E_E")
    assert delivery.replaced == 542
    assert Delivery.objects.filter(import_run=first, variable__key="E_E").exists()


def test_coverage_counts_levels_and_dates(ewr_imported):
    cov = Coverage.objects.get(
        variable__key="E_E", level="planungsraum", ref_date=DEC_2024
    )
    assert (cov.units, cov.values, cov.suppressed) == (542, 540, 2)
    berlin = Coverage.objects.get(variable__key="E_E", level="berlin")
    assert berlin.aggregated and berlin.incomplete == 1


def test_foreigner_matrix_variant_quoted_header_and_na(tmp_path, db):
    # The "A" matrix: columns E_A…, quoted header, suppressed cells as NA.
    plr = list(
        LorUnit.objects.filter(level="planungsraum")
        .order_by("code")
        .values_list("code", flat=True)
    )
    lines = [
        '"ZEIT";"RAUMID";"BEZ";"PGR";"BZR";"PLR";"BEZPGR";"E_A";"E_AM";"E_AW";"E_AX"'
    ]
    for i, code in enumerate(plr):
        cells = (
            ["NA", "NA", "NA", "NA"] if i == 0 else [str(10 + i), "6", str(4 + i), "1"]
        )
        lines.append(
            ";".join(
                [
                    "202406",
                    code,
                    code[:2],
                    code[2:4],
                    code[4:6],
                    code[6:],
                    code[:4],
                    *cells,
                ]
            )
        )
    path = write_text(tmp_path, "EWR_L21_202406A_Matrix.csv", "\n".join(lines) + "\n")
    call_command("datapool_import", str(path), verbosity=0)
    first = _value("E_A", plr[0], date(2024, 6, 30))
    assert first.status == "suppressed"
    assert _value("E_AM", plr[1], date(2024, 6, 30)).value == 6
    assert Variable.objects.get(key="E_A").name == "Ausländer insgesamt"
    unknown = Variable.objects.get(key="E_AX")
    assert unknown.metadata_complete is False  # imported, flagged for curation
