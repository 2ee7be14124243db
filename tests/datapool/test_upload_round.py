"""Uploads a coordinator can finish in one round (issue 14, item 4).

All problems of a file in one grouped report, mapping suggestions, the meaning of
"–", "." and empty cells per file, and the page of a failed run.
"""

from pathlib import Path

import pytest

from datapool.models import ImportRun, Observation
from datapool.parsers.table import table_preview
from datapool.services.imports import import_run_create, import_run_execute
from lor.models import LorUnit
from tests.datapool.conftest import db_state, write_text
from tests.factories.datapool import VariableFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(coordinator):
    return coordinator


def _plr(prefix: str, n: int) -> list[str]:
    return list(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.PLANUNGSRAUM,
            code__startswith=prefix,
        )
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )


def _mapping(**extra) -> dict:
    return {
        "key_column": "id",
        "ref_date": "2024-12-31",
        "columns": {
            "Gesamt": {
                "variable": "MITTE_GESAMT",
                "new": {"name": "Gesamt", "theme": "bevoelkerung", "unit": "Personen"},
            }
        },
        **extra,
    }


def _run(path: Path, user, options: dict) -> ImportRun:
    run = import_run_create(
        kind=ImportRun.Kind.TABLE,
        path=path,
        original_name=path.name,
        options=options,
        user=user,
    )
    return import_run_execute(import_run=run)


def _three_kinds_table(tmp_path: Path) -> Path:
    own = _plr("01", 6)
    foreign = _plr("02", 3)
    lines = ["id;Gesamt"]
    lines += [f"{own[0]};12,3,4", f"{own[1]};abc", f"{own[2]};-5"]  # bad numbers
    lines += [f"{own[3]};10", "01999998;4", "01999999;5"]  # two unknown keys
    lines += [f"{code};7" for code in foreign]  # keys of Bezirk 02
    return write_text(tmp_path, "mitte_2024-12-31.csv", "\n".join(lines) + "\n")


def test_three_kinds_of_error_reported_together_nothing_written(
    coordinator, tmp_path, client_logged_in
):
    path = _three_kinds_table(tmp_path)
    before = db_state()
    run = _run(path, coordinator, _mapping())
    assert run.status == ImportRun.Status.FAILED
    assert db_state() == before
    groups = {g["kind"]: g for g in run.summary["problem_groups"]}
    assert groups["number"]["count"] == 3
    assert groups["unknown_key"]["count"] == 2
    assert groups["foreign_key"]["count"] == 3
    assert (
        "3 von 9 Schlüsseln liegen außerhalb von Mitte"
        in (groups["foreign_key"]["title"])
    )
    assert groups["number"]["examples"][0]["value"] == "12,3,4"
    assert groups["number"]["examples"][0]["where"] == "Zeile 2, Spalte „Gesamt“"
    # One line per foreign key, located, not one identical line per row.
    foreign_lines = [e["where"] for e in groups["foreign_key"]["examples"]]
    assert foreign_lines == ["Zeile 8", "Zeile 9", "Zeile 10"]
    html = client_logged_in.get(run.get_absolute_url()).content.decode()
    assert 'data-testid="problem-groups"' in html
    assert "3 Werte sind keine gültigen Zahlen" in html
    assert "2 Schlüssel gibt es im LOR 2021 nicht" in html


def test_unknown_keys_alone_still_ask_for_a_decision(coordinator, tmp_path):
    own = _plr("01", 2)
    text = f"id;Gesamt\n{own[0]};1\n{own[1]};2\n01999999;3\n"
    run = _run(write_text(tmp_path, "t.csv", text), coordinator, _mapping())
    assert run.status == ImportRun.Status.REVIEW
    assert [k["key"] for k in run.summary["unknown_keys"]] == ["01999999"]


def test_suggestions_for_gesamt_and_weiblich(tmp_path):
    VariableFactory(key="E_E", name="Einwohnerinnen und Einwohner insgesamt")
    VariableFactory(key="E_EW", name="Einwohnerinnen")
    VariableFactory(key="E_EM", name="Einwohner männlich")
    own = _plr("01", 2)
    text = (
        "id;Gesamt;weiblich;männlich;Anteil weiblich;Sonstiges\n"
        f"{own[0]};10;6;4;60;1\n{own[1]};8;4;4;50;2\n"
    )
    preview = table_preview(write_text(tmp_path, "t.csv", text), "t.csv")
    columns = {c["name"]: c for c in preview["columns"]}
    assert (columns["Gesamt"]["action"], columns["Gesamt"]["variable"]) == (
        "existing",
        "E_E",
    )
    assert columns["weiblich"]["variable"] == "E_EW"
    assert columns["männlich"]["variable"] == "E_EM"
    assert columns["Gesamt"]["suggested_by"] == "alias"
    # A share is not the count, and an unknown header gets no guess.
    assert columns["Anteil weiblich"]["action"] == "ignore"
    assert columns["Sonstiges"]["action"] == "ignore"
    assert columns["id"]["action"] == "ignore"


def test_earlier_mapping_of_the_district_is_suggested_on_the_page(
    coordinator, tmp_path, client_logged_in, post
):
    VariableFactory(
        key="MITTE_KITA", name="Kitaplätze", district=coordinator_district()
    )
    ImportRun.objects.create(
        kind=ImportRun.Kind.TABLE,
        status=ImportRun.Status.SUCCEEDED,
        district=coordinator_district(),
        options={"columns": {"Plätze": {"variable": "MITTE_KITA"}}},
    )
    own = _plr("01", 2)
    path = write_text(tmp_path, "kita.csv", f"id;Plätze\n{own[0]};3\n{own[1]};4\n")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
    post("/datapool/imports/new/", {"file": upload})
    run = ImportRun.objects.latest("pk")
    columns = {c["name"]: c for c in run.inspection["columns"]}
    assert columns["Plätze"]["variable"] == "MITTE_KITA"
    assert columns["Plätze"]["suggested_by"] == "earlier"
    html = client_logged_in.get(f"/datapool/imports/{run.pk}/mapping/").content
    assert 'data-testid="suggestion-Plätze"' in html.decode()
    assert "Vorschlag" in html.decode()


def coordinator_district() -> LorUnit:
    return LorUnit.objects.get(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code="01"
    )


@pytest.mark.parametrize(
    ("meaning", "value", "status"),
    [
        ("zero", 0.0, "ok"),
        ("suppressed", None, "suppressed"),
        ("missing", None, "missing"),
    ],
)
def test_dash_means_what_the_user_chose(coordinator, tmp_path, meaning, value, status):
    own = _plr("01", 2)
    path = write_text(tmp_path, "hj.csv", f"id;Gesamt\n{own[0]};–\n{own[1]};5\n")
    run = _run(path, coordinator, _mapping(blanks={"–": meaning}))
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    observation = Observation.objects.get(
        variable__key="MITTE_GESAMT", unit__code=own[0]
    )
    assert (observation.value, observation.status) == (value, status)


def test_failed_run_page_tells_the_truth(coordinator, tmp_path, client_logged_in):
    run = _run(_three_kinds_table(tmp_path), coordinator, _mapping())
    ImportRun.objects.filter(pk=run.pk).update(percent=40)  # where it stopped
    html = client_logged_in.get(run.get_absolute_url()).content.decode()
    assert 'data-testid="progress-failed"' in html
    assert "fehlgeschlagen" in html
    assert 'data-testid="progress-percent"' not in html and "40 %" not in html
    assert "Zeilen gelesen: 0" not in html
    # The file itself is at fault: a new upload, not a retry.
    assert 'data-testid="retry"' not in html
    assert 'data-testid="upload-new"' in html


def test_interrupted_run_can_still_be_retried(coordinator, tmp_path, client_logged_in):
    own = _plr("01", 1)
    run = _run(
        write_text(tmp_path, "t.csv", f"id;Gesamt\n{own[0]};1\n"),
        coordinator,
        _mapping(),
    )
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.FAILED, summary={}, error="Worker verloren"
    )
    html = client_logged_in.get(run.get_absolute_url()).content.decode()
    assert 'data-testid="retry"' in html
