"""Malformed point files: each is refused with its German reason, nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from datapool.models import Facility, FacilityLayer, ImportRun
from datapool.services.imports import import_run_create, import_run_execute
from tests.datapool.conftest import db_state

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus" / "points"
VALID = CORPUS / "gueltig_drei_kitas.geojson"
OPTIONS = {
    "layer": "kitas",
    "layer_name": "Kindertagesstätten",
    "ref_date": "2022-12-31",
}

# file, extra options, what the report must say
CASES = [
    (
        "shapefile_ohne_prj.zip",
        {},
        "Shapefile „kitas.shp“ ohne .prj-Datei: das Koordinatensystem ist "
        "unbekannt und wird nicht geraten",
    ),
    (
        "falsches_crs_grad_als_25833.geojson",
        {},
        "Keiner der 3 Punkte liegt in Berlin; es wurde nichts importiert. Stimmt "
        "das Koordinatensystem (EPSG:25833)? Die Koordinaten sehen nach "
        "Längen-/Breitengraden (EPSG:4326) aus",
    ),
    (
        "polygone_statt_punkte.geojson",
        {},
        "Die Datei enthält 3 Flächen (Polygon) statt Punkte, z. B. Objekt Nr. 1, 2, 3",
    ),
    (
        "linien_statt_punkte.gpkg",
        {},
        "Die Datei enthält 2 Linien statt Punkte",
    ),
    (
        "leere_featurecollection.geojson",
        {},
        "Die Datei enthält keine Objekte (leere FeatureCollection)",
    ),
    (
        "kaputtes_json.geojson",
        {},
        "kaputtes_json.geojson, Zeile 7: Die Datei ist kein gültiges JSON",
    ),
    (
        "csv_text_in_koordinate.csv",
        {},
        "csv_text_in_koordinate.csv, Zeile 3, Spalte „lon“: Koordinate ist keine "
        "Zahl (Wert „dreizehn Komma vier“)",
    ),
    (
        "nicht_numerische_plaetze.geojson",
        {"sum_attribute": "e_platz"},
        "nicht_numerische_plaetze.geojson, Spalte „e_platz“: Objekt Nr. 2: "
        "Attribut „e_platz“ ist keine Zahl und kann nicht summiert werden "
        "(Wert „ca. 40“)",
    ),
    (
        "ohne_crs_angabe_meter.geojson",
        {},
        "Die Koordinaten sehen nach Metern in ETRS89/UTM 33N (EPSG:25833) aus, die "
        "Datei gibt aber EPSG:4326 an. Eine GeoJSON-Datei ohne „crs“-Angabe gilt "
        "als EPSG:4326.",
    ),
    (
        "csv_lat_lon_vertauscht.csv",
        {},
        "Sind Längen- und Breitengrad vertauscht?",
    ),
    (
        "ohne_koordinatensystem.gpkg",
        {},
        "Die Datei gibt kein Koordinatensystem an; es wird nicht geraten",
    ),
]


def run_import(path: Path, options: dict) -> ImportRun:
    run = import_run_create(
        kind=ImportRun.Kind.POINTS, path=path, original_name=path.name, options=options
    )
    return import_run_execute(import_run=run)


@pytest.fixture
def kitas_layer() -> FacilityLayer:
    """A small valid Kita layer that a failed re-import must leave as it is."""
    run = run_import(VALID, {**OPTIONS, "sum_attribute": "e_platz"})
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    return FacilityLayer.objects.get(key="kitas")


def facilities_state() -> tuple:
    return (
        list(FacilityLayer.objects.values_list("key", "import_run", "ref_date")),
        list(
            Facility.objects.order_by("pk").values_list(
                "pk", "layer", "unit", "feature_number", "name"
            )
        ),
    )


def test_every_corpus_file_has_a_case():
    files = {p.name for p in CORPUS.iterdir() if p.suffix != ".md"}
    assert files - {VALID.name} == {name for name, _, _ in CASES}


@pytest.mark.parametrize(
    ("file_name", "options", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_malformed_file_is_refused_and_nothing_changes(
    kitas_layer, file_name, options, expected
):
    assert Facility.objects.filter(layer=kitas_layer).count() == 3
    before = db_state(), facilities_state()

    run = run_import(CORPUS / file_name, {**OPTIONS, **options})

    assert run.status == ImportRun.Status.FAILED
    assert run.error == "Die Datei wurde nicht importiert."
    texts = [item["text"] for item in run.report]
    assert any(expected in text for text in texts), texts
    assert all(text.startswith(file_name) for text in texts)
    assert (db_state(), facilities_state()) == before


def test_command_shows_the_german_reason(kitas_layer):
    before = db_state(), facilities_state()
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "datapool_import",
            str(CORPUS / "shapefile_ohne_prj.zip"),
            "--option",
            "layer=kitas",
            verbosity=0,
        )
    assert "Bitte die .prj-Datei („kitas.prj“) mit in das ZIP packen" in str(
        excinfo.value
    )
    assert (db_state(), facilities_state()) == before


def test_valid_corpus_file_imports(kitas_layer):
    assert sorted(
        kitas_layer.facilities.values_list("attributes__e_nr", flat=True)
    ) == ["01010010", "01010020", "01010030"]
    assert kitas_layer.sum_attribute == "e_platz"
