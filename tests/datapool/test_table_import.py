"""The generic table import: real t1/t2 tables, CSV and XLSX variants, the mapping."""

import csv
import io
import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from datapool.models import ImportRun, Observation, Variable
from datapool.parsers.table import table_preview
from datapool.services.imports import (
    import_run_create,
    import_run_execute,
    import_run_resolve_keys,
)
from lor.models import BERLIN_CODE, LorUnit
from tests.conftest import SHARED_DATA
from tests.datapool.conftest import db_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(administrator):
    """Berlin-wide deliveries are uploaded by administrators (issue 7 roles)."""
    return administrator


T1 = SHARED_DATA / "einwohner_plr_2024-12-31_t1_migrationshintergrund.csv"
T2 = SHARED_DATA / "einwohner_plr_2024-12-31_t2_altersgruppen.csv"
DEC_2024 = date(2024, 12, 31)
BERLIN_TOTAL = 3_897_145


def _new(key, name, *, value_type="count", aggregation="sum", unit="Personen"):
    return {
        "variable": key,
        "new": {
            "name": name,
            "theme": "bevoelkerung",
            "unit": unit,
            "value_type": value_type,
            "aggregation": aggregation,
        },
    }


T2_MAPPING = {
    "key_column": "id",
    "ref_date": "2024-12-31",
    "source": "AfS, Statistischer Bericht A I 16 hj 2/24 (open-data-product)",
    "license": "CC BY 4.0",
    "columns": {
        "inhabitants": _new("EW_T2_INSGESAMT", "Einwohnende insgesamt"),
        "inhabitants_age_below_6": _new("EW_T2_U6", "Einwohnende unter 6 Jahren"),
        "inhabitants_age_above_65": _new("EW_T2_65PLUS", "Einwohnende ab 65 Jahren"),
        "inhabitants_female": _new("EW_T2_WEIBLICH", "Einwohnerinnen"),
        "inhabitants_foreigners_percentage": _new(
            "EW_T2_AUSL_ANTEIL",
            "Anteil ausländischer Einwohnender",
            value_type="share",
            aggregation="none",
            unit="%",
        ),
    },
}


def _import(path: Path, options: dict, name: str | None = None) -> ImportRun:
    run = import_run_create(
        kind=ImportRun.Kind.TABLE,
        path=path,
        original_name=name or path.name,
        options=options,
    )
    return import_run_execute(import_run=run)


def _value(key: str, code: str, ref_date: date = DEC_2024) -> Observation:
    return Observation.objects.get(
        variable__key=key, unit__code=code, ref_date=ref_date
    )


def _t2_rows() -> list[dict]:
    with T2.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _count_mapping(column: str, key: str, **extra) -> dict:
    return {
        "key_column": "id",
        "ref_date": "2024-12-31",
        "columns": {column: _new(key, f"Test {key}")},
        **extra,
    }


# --- the real derived population tables ---------------------------------------------


def test_t2_imports_as_new_variables_for_2024_12_31():
    run = _import(T2, T2_MAPPING)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    total = Variable.objects.get(key="EW_T2_INSGESAMT")
    assert total.name == "Einwohnende insgesamt"
    assert (total.theme, total.unit, total.value_type) == (
        "bevoelkerung",
        "Personen",
        "count",
    )
    assert total.lowest_level == LorUnit.Level.PLANUNGSRAUM
    assert total.license == "CC BY 4.0" and total.metadata_complete
    assert (
        Observation.objects.filter(variable=total, unit__level="planungsraum").count()
        == 542
    )
    assert _value("EW_T2_INSGESAMT", "01100101").value == 3580
    berlin = _value("EW_T2_INSGESAMT", BERLIN_CODE)
    assert berlin.is_aggregate and berlin.value == BERLIN_TOTAL
    assert _value("EW_T2_U6", "01100101").value == 165
    assert _value("EW_T2_WEIBLICH", "01100102").value == 921
    for level in ("bezirksregion", "prognoseraum", "bezirk"):
        values = Observation.objects.filter(
            variable=total, unit__level=level
        ).values_list("value", flat=True)
        assert sum(values) == BERLIN_TOTAL
    assert run.summary["values"] == 5 * 542
    assert run.summary["ref_dates"] == ["2024-12-31"]


def test_t2_share_column_is_kept_but_not_aggregated():
    _import(T2, T2_MAPPING)
    share = _value("EW_T2_AUSL_ANTEIL", "01100101")
    assert share.value == pytest.approx(44.162011173184354)
    assert not Observation.objects.filter(
        variable__key="EW_T2_AUSL_ANTEIL", is_aggregate=True
    ).exists()


def test_t1_imports_as_new_variables():
    mapping = {
        "key_column": "id",
        "ref_date": "2024-12-31",
        "columns": {
            "inhabitants": _new("EW_T1_INSGESAMT", "Einwohnende insgesamt (T1)"),
            "inhabitants_with_migration_background": _new(
                "EW_T1_MIGH", "Einwohnende mit Migrationshintergrund"
            ),
            "inhabitants_germans": _new("EW_T1_DEUTSCHE", "Deutsche"),
            "inhabitants_foreigners": _new("EW_T1_AUSLAENDER", "Ausländer/-innen"),
        },
    }
    run = _import(T1, mapping)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert _value("EW_T1_MIGH", "01100101").value == 2404
    assert _value("EW_T1_INSGESAMT", BERLIN_CODE).value == BERLIN_TOTAL
    germans = _value("EW_T1_DEUTSCHE", BERLIN_CODE).value
    foreigners = _value("EW_T1_AUSLAENDER", BERLIN_CODE).value
    assert germans + foreigners == BERLIN_TOTAL


def test_command_line_imports_with_mapping_file_then_columns_option(tmp_path):
    mapping = tmp_path / "t2.json"
    mapping.write_text(json.dumps(T2_MAPPING), encoding="utf-8")
    call_command(
        "datapool_import", str(T2), "--option", f"mapping={mapping}", verbosity=0
    )
    first = ImportRun.objects.latest("pk")
    assert first.kind == ImportRun.Kind.TABLE  # recognised without --kind
    assert first.status == ImportRun.Status.SUCCEEDED
    # The next delivery goes into the variables the first one created.
    call_command(
        "datapool_import",
        str(T2),
        "--kind",
        "table",
        "--option",
        "key_column=id",
        "--option",
        "ref_date=31.12.2024",
        "--option",
        "columns=inhabitants:EW_T2_INSGESAMT,inhabitants_female:EW_T2_WEIBLICH",
        verbosity=0,
    )
    second = ImportRun.objects.latest("pk")
    assert second.status == ImportRun.Status.SUCCEEDED
    assert second.summary["replaced"] == 2 * 542
    assert _value("EW_T2_INSGESAMT", "01100101").import_run_id == second.pk
    assert _value("EW_T2_U6", "01100101").import_run_id == first.pk


def test_command_line_reports_bad_options_in_german(tmp_path):
    with pytest.raises(CommandError, match="columns erwartet SPALTE:VARIABLE"):
        call_command(
            "datapool_import", str(T2), "--option", "columns=inhabitants", verbosity=0
        )
    with pytest.raises(CommandError, match="Zuordnungsdatei .* nicht lesbar"):
        call_command(
            "datapool_import",
            str(T2),
            "--option",
            f"mapping={tmp_path / 'missing.json'}",
            verbosity=0,
        )
    with pytest.raises(CommandError, match="Variable gibt es im Katalog nicht"):
        call_command(
            "datapool_import",
            str(T2),
            "--option",
            "key_column=id",
            "--option",
            "ref_date=2024-12-31",
            "--option",
            "columns=inhabitants:GIBT_ES_NICHT",
            verbosity=0,
        )


# --- file variants ------------------------------------------------------------------


def test_semicolon_decimal_comma_windows_1252(tmp_path):
    rows = _t2_rows()
    lines = ["Schlüssel;Einwohner;Anteil Ausländer (%)"]
    for row in rows:
        share = f"{float(row['inhabitants_foreigners_percentage']):.2f}"
        lines.append(f"{row['id']};{row['inhabitants']};{share.replace('.', ',')}")
    path = tmp_path / "ew_1252.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    preview = table_preview(path, path.name)
    assert preview["encoding"] == "Windows-1252" and preview["decimal"] == "comma"
    assert preview["key_column"] == "Schlüssel"
    guessed = {c["name"]: c for c in preview["columns"]}
    assert guessed["Anteil Ausländer (%)"]["value_type"] == "share"
    run = _import(
        path,
        {
            "key_column": "Schlüssel",
            "ref_date": "2024-12-31",
            "decimal": "comma",
            "columns": {
                "Einwohner": _new("EW_1252", "Einwohnende"),
                "Anteil Ausländer (%)": _new(
                    "AUSL_1252", "Anteil", value_type="share", aggregation="none"
                ),
            },
        },
    )
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert _value("AUSL_1252", "01100101").value == pytest.approx(44.16)
    assert _value("EW_1252", BERLIN_CODE).value == BERLIN_TOTAL


def test_tab_delimited_utf8_with_bom_and_thousands_separator(tmp_path):
    lines = ["id\tEinwohner"]
    for row in _t2_rows():
        lines.append(f"{row['id']}\t{int(row['inhabitants']):,}".replace(",", "."))
    path = tmp_path / "ew_tab.tsv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    preview = table_preview(path, path.name)
    assert preview["header"] == ["id", "Einwohner"]  # no BOM in the first name
    assert preview["delimiter"] == "Tabulator"
    run = _import(
        path,
        {**_count_mapping("Einwohner", "EW_TAB"), "decimal": "comma"},
    )
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert _value("EW_TAB", "01100103").value == 5790
    assert _value("EW_TAB", BERLIN_CODE).value == BERLIN_TOTAL


def test_suppressed_tokens_become_suppressed_values(tmp_path):
    path = tmp_path / "gesperrt.csv"
    path.write_text(
        "id,n\n01100101,NA\n01100102,.\n01100103,-\n01100104,\n01100205,7\n",
        encoding="utf-8",
    )
    run = _import(path, _count_mapping("n", "GESPERRT"))
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    statuses = dict(
        Observation.objects.filter(
            variable__key="GESPERRT", unit__level="planungsraum"
        ).values_list("unit__code", "status")
    )
    assert statuses == {
        "01100101": "suppressed",
        "01100102": "suppressed",
        "01100103": "suppressed",
        "01100104": "suppressed",
        "01100205": "ok",
    }
    assert run.summary["suppressed"] == 4


def test_xlsx_with_numeric_keys_restores_leading_zeros(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "Daten"
    sheet.append(["Einwohnerzahlen 31.12.2024"])  # a title above the table
    sheet.append([])
    sheet.append(["PLR", "Einwohner", "Anteil"])
    for row in _t2_rows():
        share = float(row["inhabitants_foreigners_percentage"])
        sheet.append([int(row["id"]), int(row["inhabitants"]), share])
    path = tmp_path / "einwohner.xlsx"
    book.save(path)
    preview = table_preview(path, path.name)
    assert preview["format"] == "xlsx" and preview["sheet"] == "Daten"
    # The title above the table is not its header.
    assert preview["header"] == ["PLR", "Einwohner", "Anteil"]
    assert preview["header_line"] == 3
    assert preview["rows"][0][0] == "1100101"
    assert preview["key_column"] == "PLR"
    run = _import(
        path,
        {
            "key_column": "PLR",
            "ref_date": "2024-12-31",
            "columns": {
                "Einwohner": _new("EW_XLSX", "Einwohnende"),
                "Anteil": _new(
                    "AUSL_XLSX", "Anteil", value_type="share", aggregation="none"
                ),
            },
        },
    )
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert _value("EW_XLSX", "01100101").value == 3580
    assert _value("EW_XLSX", "12601236").unit.level == "planungsraum"
    assert _value("EW_XLSX", BERLIN_CODE).value == BERLIN_TOTAL
    assert _value("AUSL_XLSX", "01100101").value == pytest.approx(44.162011173184354)
    warnings = [w["text"] for w in run.report]
    assert any("Führende Null bei" in w and "1100101 → 01100101" in w for w in warnings)


def test_csv_keys_without_leading_zero(tmp_path):
    lines = ["id,n"] + [f"{int(r['id'])},{r['inhabitants']}" for r in _t2_rows()]
    path = tmp_path / "ohne_null.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = _import(path, _count_mapping("n", "EW_OHNE_NULL"))
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert _value("EW_OHNE_NULL", "01100101").value == 3580
    assert _value("EW_OHNE_NULL", "12601236").value == 3190


def test_bezirksregion_keys_import_there_and_aggregate_upwards(tmp_path):
    sums: dict[str, int] = defaultdict(int)
    for row in _t2_rows():
        sums[row["id"][:6]] += int(row["inhabitants"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["BZR", "Einwohner"])
    writer.writerows(sorted(sums.items()))
    path = tmp_path / "bzr.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    run = _import(path, _count_mapping("Einwohner", "EW_BZR", key_column="BZR"))
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    variable = Variable.objects.get(key="EW_BZR")
    assert variable.lowest_level == LorUnit.Level.BEZIRKSREGION
    observations = Observation.objects.filter(variable=variable)
    assert not observations.filter(unit__level="planungsraum").exists()
    delivered = observations.filter(unit__level="bezirksregion", is_aggregate=False)
    assert delivered.count() == 143
    assert _value("EW_BZR", "011001").value == sums["011001"]
    mitte = _value("EW_BZR", "01")
    assert mitte.is_aggregate
    assert mitte.value == sum(v for k, v in sums.items() if k.startswith("01"))
    assert _value("EW_BZR", "0110").is_aggregate
    assert _value("EW_BZR", BERLIN_CODE).value == BERLIN_TOTAL


def test_unknown_key_goes_to_review_with_suggestion_then_resolves(
    tmp_path, django_capture_on_commit_callbacks
):
    text = T2.read_text(encoding="utf-8").replace("\n06200418,", "\n06200318,")
    path = tmp_path / "t2_alter_schluessel.csv"
    path.write_text(text, encoding="utf-8")
    before = db_state()
    run = _import(path, T2_MAPPING)
    assert run.status == ImportRun.Status.REVIEW
    assert db_state() == before
    unknown = run.summary["unknown_keys"]
    assert [(k["key"], k["suggestion"], k["suggestion_name"]) for k in unknown] == [
        ("06200318", "06200418", "Landweg")
    ]
    assert "Vorschlag: 06200418 (Landweg)" in run.report[0]["text"]
    assert run.report[0]["line"] == unknown[0]["line"]
    with django_capture_on_commit_callbacks(execute=True):
        import_run_resolve_keys(
            import_run=run, key_map={"06200318": "06200418"}, skip_keys=[]
        )
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert _value("EW_T2_INSGESAMT", BERLIN_CODE).value == BERLIN_TOTAL
    assert run.options["columns"] == T2_MAPPING["columns"]  # the mapping survived


def test_mapping_to_a_catalogue_variable_keeps_its_metadata():
    Variable.objects.create(
        key="EW_KURATIERT",
        name="Einwohnende (kuratiert)",
        theme="bevoelkerung",
        unit="Personen",
        description="Gepflegt im Katalog.",
    )
    mapping = {
        "key_column": "id",
        "ref_date": "2024-12-31",
        "columns": {
            # "new" for a key the catalogue has: the same mapping reused later
            "inhabitants": _new("EW_KURATIERT", "Anderer Name"),
        },
    }
    run = _import(T2, mapping)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    variable = Variable.objects.get(key="EW_KURATIERT")
    assert variable.name == "Einwohnende (kuratiert)"
    assert variable.description == "Gepflegt im Katalog."
    assert _value("EW_KURATIERT", BERLIN_CODE).value == BERLIN_TOTAL


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"key_column": ""}, "Keine Schlüsselspalte gewählt"),
        ({"ref_date": "31.02.2024"}, "Kein gültiger Stichtag angegeben"),
        ({"columns": {}}, "Keine Spalte einer Variablen zugeordnet"),
        (
            {"columns": {"id": _new("X_ID", "Schlüssel als Variable")}},
            "Die Schlüsselspalte kann nicht zugleich Variable sein",
        ),
        (
            {
                "columns": {
                    "inhabitants": _new("DOPPELT", "A"),
                    "inhabitants_female": _new("DOPPELT", "B"),
                }
            },
            "Variable DOPPELT ist schon Spalte „inhabitants“ zugeordnet",
        ),
        (
            {
                "columns": {
                    "inhabitants_percentage": _new(
                        "SUMME_ANTEIL", "Anteil", value_type="share"
                    )
                }
            },
            "Anteile, Indizes und Klassen lassen sich nicht summieren",
        ),
        (
            {"columns": {"inhabitants": _new("mit leerzeichen", "X")}},
            "Schlüssel der neuen Variablen ungültig",
        ),
    ],
)
def test_bad_mapping_is_refused_with_german_message(options, message):
    before = db_state()
    run = _import(T2, {**T2_MAPPING, **options})
    assert run.status == ImportRun.Status.FAILED
    assert any(message in item["text"] for item in run.report), run.report
    assert db_state() == before


def test_count_with_fraction_is_refused(tmp_path):
    path = tmp_path / "bruch.csv"
    path.write_text("id,n\n01100101,3.5\n", encoding="utf-8")
    run = _import(path, _count_mapping("n", "BRUCH"))
    assert run.status == ImportRun.Status.FAILED
    assert run.report[0]["text"] == (
        "bruch.csv, Zeile 2, Spalte „n“: Anzahl muss eine ganze Zahl sein (Wert „3.5“)"
    )


# --- preview and mapping page ---------------------------------------------------------


def test_preview_shows_first_rows_and_guesses():
    preview = table_preview(T2, T2.name)
    assert preview["format"] == "csv" and preview["delimiter"] == "Komma"
    assert preview["rows_total"] == 542 and len(preview["rows"]) == 10
    assert preview["rows"][0][:2] == ["01100101", "3580"]
    assert preview["key_column"] == "id"
    assert preview["ref_date"] == DEC_2024  # from the file name
    columns = {c["name"]: c for c in preview["columns"]}
    assert columns["inhabitants"]["value_type"] == "count"
    assert columns["inhabitants"]["new_key"] == "INHABITANTS"
    assert columns["inhabitants_female_percentage"]["value_type"] == "share"
    assert columns["inhabitants"]["action"] == "ignore"


def _upload(post, path: Path, status: str = ImportRun.Status.DRAFT) -> ImportRun:
    """Upload through the form; the inspection task runs as the commit would."""
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
    response = post("/datapool/imports/new/", {"file": upload})
    run = ImportRun.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == f"/datapool/imports/{run.pk}/mapping/"
    assert run.status == status  # inspected: a draft awaiting its mapping
    return run


def _form_data(path: Path, **columns: dict) -> dict:
    """POST data as the browser sends it: every column ignored unless given."""
    preview = table_preview(path, path.name)
    data = {
        "key_column": preview["key_column"],
        "ref_date": "2024-12-31",
        "decimal": preview["decimal"],
    }
    for column in preview["columns"]:
        prefix = f"c{column['index']}_"
        data.update(
            {
                prefix + "action": "ignore",
                prefix + "variable": "",
                prefix + "key": column["new_key"],
                prefix + "name": column["new_name"],
                prefix + "theme": "sonstiges",
                prefix + "unit": column["unit"],
                prefix + "value_type": column["value_type"],
                prefix + "aggregation": column["aggregation"],
            }
        )
        data.update({prefix + k: v for k, v in columns.get(column["name"], {}).items()})
    return data


def test_mapping_page_shows_preview_and_imports(client_logged_in, post):
    run = _upload(post, T2)
    html = client_logged_in.get(f"/datapool/imports/{run.pk}/mapping/").content
    html = html.decode()
    assert 'data-testid="preview-table"' in html and "01100310" in html
    assert 'data-testid="map-action-inhabitants"' in html
    data = _form_data(
        T2,
        inhabitants={
            "action": "new",
            "key": "EW_WEB",
            "name": "Einwohnende (Web)",
            "theme": "bevoelkerung",
        },
        inhabitants_female={"action": "new", "key": "EW_WEB_W", "name": "Frauen"},
    )
    response = post(f"/datapool/imports/{run.pk}/mapping/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/datapool/imports/{run.pk}/"
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert run.options["columns"]["inhabitants"]["new"]["theme"] == "bevoelkerung"
    assert _value("EW_WEB", BERLIN_CODE).value == BERLIN_TOTAL
    # The run is no longer a draft: the mapping page leads to the run.
    response = client_logged_in.get(f"/datapool/imports/{run.pk}/mapping/")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"ref_date": "31.02.2024"}, "Bitte ein gültiges Datum eingeben."),
        ({"ref_date": ""}, "Dieses Feld ist zwingend erforderlich."),
        ({"key_column": ""}, "Dieses Feld ist zwingend erforderlich."),
        ({"key_column": "gibt-es-nicht"}, "Bitte eine gültige Auswahl treffen."),
        ({"c1_action": "existing", "c1_variable": "NOPE"}, "NOPE"),
        ({"c1_action": "new", "c1_key": "a b"}, 'data-testid="form-errors"'),
        ({"c1_action": "ignore"}, 'data-testid="form-errors"'),
        ({"c0_action": "new", "c0_key": "ID"}, 'data-testid="form-errors"'),
        ({"c1_action": "bogus"}, "Bitte eine gültige Auswahl treffen."),
    ],
)
def test_bad_mapping_input_shows_form_errors_not_500(
    client_logged_in, post, change, error
):
    run = _upload(post, T2)
    data = _form_data(T2, inhabitants={"action": "new", "key": "EW_X", "name": "X"})
    data.update(change)
    before = db_state()
    response = post(f"/datapool/imports/{run.pk}/mapping/", data)
    assert response.status_code == 200
    assert error in response.content.decode()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DRAFT
    assert db_state() == before


def test_mapping_page_of_an_unreadable_file_explains_why(client_logged_in, post):
    path = Path(__file__).parent / "corpus" / "table" / "utf16_encoding.csv"
    # The inspection in the worker found the file unreadable: the run failed.
    run = _upload(post, path, status=ImportRun.Status.FAILED)
    response = client_logged_in.get(f"/datapool/imports/{run.pk}/mapping/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "keine Textdatei (UTF-16 oder binär?)" in html
    assert 'data-testid="mapping-form"' not in html
    response = post(f"/datapool/imports/{run.pk}/mapping/", {"key_column": "id"})
    assert response.status_code == 200


def test_failed_table_run_can_be_mapped_again(client_logged_in, post):
    run = _upload(post, T2)
    data = _form_data(
        T2,
        inhabitants_percentage={
            "action": "new",
            "key": "EW_PROZENT",
            "name": "Prozent",
            "value_type": "count",  # wrong: 100.0 passes, but fractions do not
            "aggregation": "sum",
        },
        inhabitants_female_percentage={
            "action": "new",
            "key": "EW_W_PROZENT",
            "name": "Frauenanteil",
            "value_type": "count",
            "aggregation": "sum",
        },
    )
    post(f"/datapool/imports/{run.pk}/mapping/", data)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "Anzahl muss eine ganze Zahl sein" in run.report[0]["text"]
    html = client_logged_in.get(f"/datapool/imports/{run.pk}/mapping/").content
    assert b'data-testid="previous-error"' in html
    female = table_preview(T2, T2.name)["header"].index("inhabitants_female_percentage")
    data[f"c{female}_value_type"] = "share"
    data[f"c{female}_aggregation"] = "none"
    post(f"/datapool/imports/{run.pk}/mapping/", data)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED, run.report


def test_mapping_page_of_a_workbook_names_sheet_and_header_row(
    client_logged_in, post, tmp_path
):
    book = Workbook()
    sheet = book.active
    sheet.title = "Daten"
    sheet.append(["Einwohner am 31.12.2024"])
    sheet.append(["PLR", "Einwohner"])
    sheet.append([1100101, 3580])
    book.create_sheet("Notizen")
    path = tmp_path / "klein.xlsx"
    book.save(path)
    run = _upload(post, path)
    html = client_logged_in.get(f"/datapool/imports/{run.pk}/mapping/").content
    html = html.decode()
    assert "„Daten“" in html and "Kopfzeile in Zeile 2" in html
    assert '<option value="PLR" selected>PLR</option>' in html
    assert 'type="hidden" name="decimal"' in html
