"""The facility register: import of the real Geoportal tables and the
Kernindikatoren KI_SPIELPLATZ / KI_GRUEN computed from it."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from datapool.models import Observation
from datapool.parsers.contract import ImportValidationError
from datapool.services.indicators import indicator_definitions_load
from infrastructure.models import Facility, FacilityImport, FacilityType
from infrastructure.services import facilities_import, supply_publish
from lor.models import LorUnit
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.django_db
GREEN = SHARED_DATA / "fachdaten" / "berlin_gruenanlagen_public_parks.csv"
PLAY = SHARED_DATA / "fachdaten" / "berlin_spielplaetze_Playground.csv"
EWR = SHARED_DATA / "EWR_L21_202412E_Matrix.csv"
DEC_2024 = date(2024, 12, 31)
PLR = "Nummer des Planungsraumes"
GREEN_AREA = "Größe in m² (Kataster)"
PLAY_AREA = "Nettospielfläche in m²"


def _rows(path, delimiter):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _import_both():
    call_command(
        "infrastructure_import",
        f"spielplatz={PLAY}",
        f"gruenanlage={GREEN}",
        "--date",
        "2024-12-31",
        verbosity=0,
    )


def test_import_reads_every_row_and_keeps_not_recorded_capacities_empty(lor_units):
    green, play = _rows(GREEN, ";"), _rows(PLAY, ",")
    _import_both()
    for key, rows, column in (
        ("gruenanlage", green, GREEN_AREA),
        ("spielplatz", play, PLAY_AREA),
    ):
        stored = Facility.objects.filter(facility_type__key=key)
        assert stored.count() == len(rows)
        dashes = sum(r[column] == "-" for r in rows)
        assert dashes > 0  # the real files do use `-`
        assert stored.filter(capacity__isnull=True).count() == dashes
        record = FacilityImport.objects.get(facility_type__key=key)
        assert record.summary["capacity_not_recorded"] == dashes
    assert len(green) == 2556 and len(play) == 1879  # as SOURCES.md documents
    # A decimal comma is read as a decimal: the first green space of the file.
    first = green[0]
    assert Facility.objects.get(source_key=first["Technischer Schlüssel"]).capacity == (
        Decimal(first[GREEN_AREA].replace(",", "."))
    )


def test_reimport_replaces_the_files_facilities(lor_units):
    facilities_import(path=PLAY, type_key="spielplatz")
    summary = facilities_import(path=PLAY, type_key="spielplatz")
    assert summary["replaced"] == summary["facilities"]
    assert (
        Facility.objects.filter(facility_type__key="spielplatz").count()
        == (summary["facilities"])
    )
    assert FacilityImport.objects.count() == 1


def test_broken_line_is_reported_with_line_column_value_and_nothing_written(
    lor_units, tmp_path
):
    lines = GREEN.read_text(encoding="utf-8-sig").splitlines()
    fields = lines[5].split(";")
    fields[10] = "12x4,5"  # Größe in m² (Kataster)
    lines[5] = ";".join(fields)
    broken = tmp_path / "gruen_kaputt.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportValidationError) as caught:
        facilities_import(path=broken, type_key="gruenanlage")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column, problem.value) == (6, GREEN_AREA, "12x4,5")
    assert "Zeile 6" in str(problem)
    assert not Facility.objects.exists() and not FacilityImport.objects.exists()
    # The command reports the same, grouped, and writes nothing either.
    with pytest.raises(CommandError, match="Zeile 6.*12x4,5"):
        call_command("infrastructure_import", f"gruenanlage={broken}", verbosity=0)
    assert not Facility.objects.exists()


def test_closed_facility_stops_counting_from_its_closing_date(lor_units):
    facilities_import(path=PLAY, type_key="spielplatz")
    facility = Facility.objects.filter(
        capacity__isnull=False, unit__isnull=False
    ).first()
    facility.valid_to = DEC_2024
    facility.status = Facility.Status.CLOSED
    facility.save()
    code = facility.unit.code
    supply_publish(on=date(2024, 12, 30), type_keys=["spielplatz"])
    supply_publish(on=DEC_2024, type_keys=["spielplatz"])
    values = dict(
        Observation.objects.filter(
            variable__key="INF_SPIELPLATZ_M2", unit__code=code
        ).values_list("ref_date", "value")
    )
    assert values[date(2024, 12, 30)] - values[DEC_2024] == pytest.approx(
        float(facility.capacity)
    )


def _expected(path, delimiter, column, decimal_comma):
    table = pd.read_csv(path, sep=delimiter, dtype=str, encoding="utf-8-sig")
    area = table[column].replace("-", None)
    if decimal_comma:
        area = area.str.replace(",", ".", regex=False)
    table["area"] = area.astype(float)
    return table.groupby(PLR)["area"].sum().to_dict()


def test_kernindikatoren_equal_hand_computation_for_every_planungsraum(
    ewr_imported,
):
    indicator_definitions_load()
    _import_both()
    ewr = pd.read_csv(EWR, sep=";", dtype=str)
    ewr["RAUMID"] = ewr["RAUMID"].replace({"06200318": "06200418"})
    residents = {
        code: float(value)
        for code, value in zip(ewr["RAUMID"], ewr["E_E"], strict=True)
        if isinstance(value, str) and value
    }
    codes = LorUnit.objects.filter(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
    ).values_list("code", flat=True)
    assert len(codes) == 542
    for key, path, delimiter, column, comma in (
        ("KI_GRUEN", GREEN, ";", GREEN_AREA, True),
        ("KI_SPIELPLATZ", PLAY, ",", PLAY_AREA, False),
    ):
        supply = _expected(path, delimiter, column, comma)
        computed = dict(
            Observation.objects.filter(
                variable__key=key, ref_date=DEC_2024, unit__code__in=list(codes)
            ).values_list("unit__code", "value")
        )
        with_value = 0
        for code in codes:
            people = residents.get(code)
            if people is None or people < 300:  # the indicator's minimum denominator
                assert computed.get(code) is None, (key, code)
                continue
            expected = supply.get(code, 0.0) / people
            assert computed[code] == pytest.approx(expected, rel=1e-9), (key, code)
            with_value += 1
        assert with_value > 500
    assert FacilityType.objects.get(key="spielplatz").supply_variable == (
        "INF_SPIELPLATZ_M2"
    )


def test_shipped_tables_are_the_real_files():
    """`make run` imports the copies in infrastructure/data (the command's default)."""
    from infrastructure.management.commands.infrastructure_import import (
        DATA_DIR,
        DEFAULT_FILES,
    )

    shipped = {path.name: path for path, _key in DEFAULT_FILES}
    layers = [
        SHARED_DATA / f"infra_{name}_epsg25833.geojson"
        for name in ("kitas", "schulen", "jugendfreizeiteinrichtungen")
    ]
    assert set(shipped) == {GREEN.name, PLAY.name} | {p.name for p in layers}
    for original in (GREEN, PLAY):
        assert (DATA_DIR / original.name).read_bytes() == original.read_bytes()
    # The point layers are the Datenpool demo's copies of the shared files.
    for original in layers:
        assert shipped[original.name].read_bytes() == original.read_bytes()
