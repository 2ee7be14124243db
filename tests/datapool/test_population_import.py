"""The half-yearly population tables per LOR unit (issue 12, items 1 and 2).

Hand computations read the shipped files with the csv module, not with the
app's parser.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from datapool.lineage import variable_lineage
from datapool.management.commands.datapool_population import ZEITREIHE_DIR
from datapool.models import Delivery, ImportRun, Observation
from datapool.parsers.contract import ImportValidationError
from datapool.parsers.detect import detect_kind
from datapool.parsers.population import ZERO_NOTE, parse_population
from datapool.services.harmonisation import variable_components_load
from datapool.services.imports import (
    import_run_create,
    import_run_execute,
    import_run_upload,
)
from datapool.services.indicators import (
    indicator_definitions_load,
    indicator_run_create,
    indicator_run_execute,
)
from lor.models import LorUnit
from tests.conftest import SHARED_DATA, ewr_import

PLR_FILES = sorted(ZEITREIHE_DIR.glob("berlin-lor-population-*-planning-areas.csv"))
OLD_SCHEME = sorted(
    (SHARED_DATA / "lor2006").glob("berlin-lor-population-*-planning-areas.csv")
)
DEC_2023 = date(2023, 12, 31)
T2_2024_12 = SHARED_DATA / "einwohner_plr_2024-12-31_t2_altersgruppen.csv"
# The published higher-level tables of 31.12.2023 and their key length.
PUBLISHED = {"district-regions": 6, "forecast-areas": 4, "districts": 2}


def _import(path: Path, **options) -> ImportRun:
    run = import_run_create(
        kind=detect_kind(path, path.name),
        path=path,
        original_name=path.name,
        options=options,
    )
    return import_run_execute(import_run=run)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _date_of(path: Path) -> date:
    year, half = int(path.name[22:26]), path.name[27:29]
    return date(year, 6, 30) if half == "01" else date(year, 12, 31)


def test_every_delivery_file_is_recognised_without_mapping():
    files = [*ZEITREIHE_DIR.glob("*.csv"), *OLD_SCHEME]
    assert len(files) == 18 + 6
    assert {detect_kind(path, path.name) for path in files} == {"population"}
    # A renamed copy is no longer the data product's file: the user maps it.
    assert detect_kind(T2_2024_12, T2_2024_12.name) == "table"


@pytest.mark.parametrize(
    ("name", "ref_date"),
    [
        ("berlin-lor-population-2022-01-t2-planning-areas.csv", date(2022, 6, 30)),
        ("berlin-lor-population-2023-02-t1-planning-areas.csv", date(2023, 12, 31)),
    ],
)
def test_reference_date_comes_from_the_file_name(name, ref_date):
    delivery = parse_population(ZEITREIHE_DIR / name, file_name=name, options={})
    assert delivery.ref_dates == {ref_date}
    # Keys stay as delivered; the import resolves them against a scheme.
    assert not delivery.keys_resolved
    assert len(delivery.key_lines) == 542


def test_percentage_columns_are_not_imported():
    path = ZEITREIHE_DIR / "berlin-lor-population-2023-02-t2-planning-areas.csv"
    delivery = parse_population(path, file_name=path.name, options={})
    keys = {spec.key for spec in delivery.variables}
    assert keys == {
        "E_E",
        "E_EU6",
        "E_E6U15",
        "E_E15U18",
        "E_E18U27",
        "E_E27U45",
        "E_E45U55",
        "E_E55U65",
        "E_E65U110",
        "E_EW",
        "E_A",
    }
    assert (
        "inhabitants_age_below_6_percentage"
        in (delivery.extra["derived_columns_not_imported"])
    )
    assert len(delivery.rows) == 542 * 11


def test_old_scheme_files_are_read_by_the_same_parser():
    path = (
        SHARED_DATA / "lor2006" / "berlin-lor-population-2019-02-t2-planning-areas.csv"
    )
    delivery = parse_population(path, file_name=path.name, options={})
    assert delivery.ref_dates == {date(2019, 12, 31)}
    assert len(delivery.key_lines) == 448 and "09041403" in delivery.key_lines
    total = sum(r.value for r in delivery.rows if r.variable_key == "E_E")
    assert total == 3_769_495


def test_a_file_without_date_in_its_name_is_refused_in_german(tmp_path):
    path = tmp_path / "einwohner.csv"
    shutil.copy(PLR_FILES[0], path)
    with pytest.raises(ImportValidationError) as caught:
        parse_population(path, file_name=path.name, options={})
    assert "Stichtag" in str(caught.value)
    delivery = parse_population(
        path, file_name=path.name, options={"ref_date": "2021-06-30"}
    )
    assert delivery.ref_dates == {date(2021, 6, 30)}


@pytest.mark.django_db
def test_zero_rows_are_imported_as_zero_residents_with_a_note(lor_units):
    run = _import(ZEITREIHE_DIR / "berlin-lor-population-2023-02-t2-planning-areas.csv")
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    pankower_tor = Observation.objects.get(
        variable__key="E_E", unit__code="03400831", ref_date=DEC_2023
    )
    assert (pankower_tor.value, pankower_tor.status) == (0, "ok")
    assert pankower_tor.note == ZERO_NOTE
    assert {item["value"] for item in run.report} == {"03400831", "06200418"}
    assert "derived_columns_not_imported" in run.summary


@pytest.mark.django_db
def test_aggregates_of_31_12_2023_equal_the_published_tables(lor_units):
    for table in ("t1", "t2"):
        run = _import(
            ZEITREIHE_DIR / f"berlin-lor-population-2023-02-{table}-planning-areas.csv"
        )
        assert run.status == ImportRun.Status.SUCCEEDED, run.error
    # Only the Planungsraum tables were delivered: the aggregates are ours.
    assert set(Delivery.objects.values_list("level", flat=True)) == {"planungsraum"}
    mapping = {
        row["column"]: row["key"]
        for row in csv.DictReader(
            (
                Path(__file__).parents[2]
                / "datapool/metadata/lor_population_columns.csv"
            ).open(encoding="utf-8"),
            delimiter=";",
        )
    }
    ours = {
        (key, code): (value, status, is_aggregate)
        for key, code, value, status, is_aggregate in Observation.objects.filter(
            ref_date=DEC_2023
        ).values_list("variable__key", "unit__code", "value", "status", "is_aggregate")
    }
    compared = 0
    for level, digits in PUBLISHED.items():
        for table in ("t1", "t2"):
            published = _rows(
                ZEITREIHE_DIR / f"berlin-lor-population-2023-02-{table}-{level}.csv"
            )
            assert {len(row["id"]) for row in published} == {digits}
            for row in published:
                for column, text in row.items():
                    if column == "id" or column.endswith("_percentage"):
                        continue
                    value, status, is_aggregate = ours[(mapping[column], row["id"])]
                    assert is_aggregate and status == "ok"
                    assert value == int(text), (level, row["id"], column)
                    compared += 1
    assert compared == (143 + 58 + 12) * (6 + 11)


@pytest.mark.django_db
def test_share_under_18_for_every_date_equals_hand_computation(lor_units):
    call_command("datapool_population", verbosity=0)
    ewr_import()
    indicator_definitions_load()
    run = indicator_run_execute(run=indicator_run_create())
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    expected: dict[tuple[date, str], float | None] = {}
    t2_files = [(p, _date_of(p)) for p in PLR_FILES if "-t2-" in p.name]
    for path, ref_date in [*t2_files, (T2_2024_12, date(2024, 12, 31))]:
        for row in _rows(path):
            total = int(row["inhabitants"])
            under_18 = sum(
                int(row[f"inhabitants_age_{band}"])
                for band in ("below_6", "6_15", "15_18")
            )
            expected[(ref_date, row["id"])] = (
                under_18 / total * 100 if total >= 300 else None
            )
    dates = {d for d, _code in expected}
    assert len(dates) == 7  # six half-years and the EWR matrix of 31.12.2024
    ours = {
        (ref_date, code): (value, status)
        for ref_date, code, value, status in Observation.objects.filter(
            variable__key="KI_ANTEIL_U18", unit__level=LorUnit.Level.PLANUNGSRAUM
        ).values_list("ref_date", "unit__code", "value", "status")
    }
    assert set(ours) == set(expected)  # no date skipped, whichever breakdown
    for cell, hand in expected.items():
        value, status = ours[cell]
        if hand is None:
            assert value is None, cell
        else:
            assert status == "ok" and value == pytest.approx(hand), cell
    ok_per_date = {
        d: sum(1 for (rd, _c), h in expected.items() if rd == d and h is not None)
        for d in dates
    }
    assert min(ok_per_date.values()) >= 536


@pytest.mark.django_db
def test_loading_twice_changes_nothing(lor_units, tmp_path):
    for path in PLR_FILES[:2]:
        shutil.copy(path, tmp_path / path.name)
    call_command("datapool_population", "--dir", str(tmp_path), verbosity=0)
    runs = ImportRun.objects.count()
    values = sorted(
        Observation.objects.values_list(
            "variable__key", "unit__code", "ref_date", "value", "status"
        )
    )
    assert len(values) > 542 * 16
    call_command("datapool_population", "--dir", str(tmp_path), verbosity=0)
    assert ImportRun.objects.count() == runs
    assert (
        sorted(
            Observation.objects.values_list(
                "variable__key", "unit__code", "ref_date", "value", "status"
            )
        )
        == values
    )


@pytest.mark.django_db
def test_variable_page_names_the_delivery_of_each_date(lor_units, client_logged_in):
    variable_components_load()
    path = ZEITREIHE_DIR / "berlin-lor-population-2023-02-t2-planning-areas.csv"
    run = _import(path)
    assert {"E_EU18", "E_E15U65"} <= set(run.summary["derived_sums"])
    delivered = client_logged_in.get(
        reverse("datapool:variable-detail", kwargs={"key": "E_EU6"})
    ).content.decode()
    assert f"#{run.pk} {path.name}" in delivered
    derived = client_logged_in.get(
        reverse("datapool:variable-detail", kwargs={"key": "E_EU18"})
    ).content.decode()
    supply = derived[derived.index('data-testid="supply"') :]
    assert "31.12.2023" in supply
    for component in ("E_EU6", "E_E6U15", "E_E15U18"):
        assert f"<code>{component}</code>" in supply
    assert f"#{run.pk} {path.name}" in supply
    # The derived sum credits the sources of its delivered components.
    credits = variable_lineage(variables=["E_EU18"])
    assert credits and all(c.source.startswith("Amt für Statistik") for c in credits)
    assert any("CC BY 4.0" in c.license for c in credits)


@pytest.mark.django_db
def test_an_upload_is_imported_without_mapping(
    administrator, client, django_capture_on_commit_callbacks
):
    path = PLR_FILES[0]
    upload = SimpleUploadedFile(path.name, path.read_bytes(), "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        run = import_run_upload(user=administrator, upload=upload, tables=False)
    run.refresh_from_db()
    client.force_login(administrator)
    assert run.kind == ImportRun.Kind.POPULATION
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    assert run.summary["ref_dates"] == ["2021-06-30"]
    assert run.summary["units"] == 542
    page = client.get(run.get_absolute_url()).content.decode()
    assert "inhabitants_percentage" in page  # named as not imported
