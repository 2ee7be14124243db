"""Facility layers from the real Berlin point files (Kitas, Schulen, JFE)."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
from django.db import connection
from django.utils import timezone

from datapool.management.commands.datapool_demo import MANIFEST
from datapool.models import (
    Delivery,
    Facility,
    FacilityLayer,
    ImportRun,
    Observation,
    Variable,
)
from datapool.parsers.points import layer_defaults
from datapool.selectors import facility_list
from datapool.services.imports import import_run_create, import_run_execute
from lor.models import BERLIN_CODE, LorUnit
from tests.conftest import SHARED_DATA
from tests.datapool.conftest import db_state

pytestmark = pytest.mark.django_db

KITAS = SHARED_DATA / "infra_kitas_epsg25833.geojson"
CORPUS = Path(__file__).parent / "corpus" / "points"
POINT_MANIFEST = {name: options for name, kind, options in MANIFEST if kind == "points"}
KITA_OPTIONS = POINT_MANIFEST[KITAS.name]


def run_import(
    path: Path,
    options: dict | None = None,
    *,
    name: str | None = None,
    district: LorUnit | None = None,
) -> ImportRun:
    run = import_run_create(
        kind=ImportRun.Kind.POINTS,
        path=path,
        original_name=name or path.name,
        options=options or {},
        district=district,
    )
    return import_run_execute(import_run=run)


def features(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def plr_values(key: str, ref_date: date) -> dict[str, float]:
    return dict(
        Observation.objects.filter(
            variable__key=key, ref_date=ref_date, unit__level="planungsraum"
        ).values_list("unit__code", "value")
    )


def assignment(layer_key: str) -> Counter:
    """(facility number e_nr, Planungsraum) pairs of a layer."""
    return Counter(
        (attributes["e_nr"], code)
        for attributes, code in Facility.objects.filter(
            layer__key=layer_key
        ).values_list("attributes", "unit__code")
    )


@pytest.fixture
def kitas_imported() -> ImportRun:
    run = run_import(KITAS, KITA_OPTIONS)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    return run


@pytest.mark.parametrize("file_name", sorted(POINT_MANIFEST))
def test_every_point_of_the_real_layers_lands_in_one_planungsraum(file_name):
    path = SHARED_DATA / file_name
    options = POINT_MANIFEST[file_name]
    run = run_import(path, options)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report

    layer = FacilityLayer.objects.get(key=options["layer"])
    stored = Facility.objects.filter(layer=layer)
    outside = run.summary["points_outside_berlin"]
    assert stored.count() + outside == len(features(path))
    assert run.summary["facilities"] == stored.count()
    assert set(stored.values_list("unit__level", flat=True)) == {"planungsraum"}
    # The assigned Planungsraum really covers the point; on a shared border the
    # smallest key of all covering Planungsräume wins.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE own.code = cov.first),
                   count(*) FILTER (WHERE cov.n > 1)
            FROM datapool_facility f
            JOIN lor_lorunit own ON own.id = f.unit_id
            CROSS JOIN LATERAL (
                SELECT min(u.code) AS first, count(*) AS n FROM lor_lorunit u
                WHERE u.level = 'planungsraum' AND ST_Covers(u.geom, f.geom)
            ) cov
            WHERE f.layer_id = %s
            """,
            [layer.pk],
        )
        covered_by_own, on_border = cursor.fetchone()
    assert covered_by_own == stored.count()
    assert on_border == run.summary["points_on_border"]

    ref_date = date.fromisoformat(options["ref_date"])
    assert layer.ref_date == ref_date
    counts = plr_values(layer.count_variable_key, ref_date)
    assert len(counts) == 542
    assert sum(counts.values()) == stored.count()
    assert 0 in counts.values()  # Planungsräume without a facility are a real 0
    berlin = Observation.objects.get(
        variable__key=layer.count_variable_key, unit__code=BERLIN_CODE
    )
    assert berlin.value == stored.count() and berlin.is_aggregate
    assert not berlin.incomplete


def test_real_kitas_all_inside_berlin_with_places(kitas_imported):
    run = kitas_imported
    assert run.summary["points_outside_berlin"] == 0
    assert Facility.objects.filter(layer__key="kitas").count() == 2880
    kita = Facility.objects.get(layer__key="kitas", attributes__e_nr="01010010")
    assert kita.name == "Kita F.A.I.R.play" and kita.unit.code.startswith("01")
    assert kita.attributes["e_platz"] == "69"

    count = Variable.objects.get(key="KITAS_ANZAHL")
    assert count.name == "Kindertagesstätten: Anzahl"
    assert (count.unit, count.value_type, count.aggregation) == (
        "Einrichtungen",
        "count",
        "sum",
    )
    assert count.theme == "jugend"
    places = Variable.objects.get(key="KITAS_E_PLATZ")
    assert places.name == "Kindertagesstätten: Plätze" and places.unit == "Plätze"

    expected = sum(int(f["properties"]["e_platz"]) for f in features(KITAS))
    ref_date = date(2022, 12, 31)
    assert sum(plr_values("KITAS_E_PLATZ", ref_date).values()) == expected
    assert (
        Observation.objects.get(variable=places, unit__code=BERLIN_CODE).value
        == expected
        == 194_979
    )


def test_reimport_replaces_points_and_values(kitas_imported):
    first = kitas_imported
    second = run_import(KITAS, KITA_OPTIONS)
    assert second.status == ImportRun.Status.SUCCEEDED
    assert Facility.objects.filter(layer__key="kitas").count() == 2880
    assert second.summary["facilities_replaced"] == 2880
    assert FacilityLayer.objects.get(key="kitas").import_run == second
    counts = Observation.objects.filter(
        variable__key="KITAS_ANZAHL", unit__level="planungsraum"
    )
    assert counts.count() == 542
    assert set(counts.values_list("import_run", flat=True)) == {second.pk}
    assert sum(counts.values_list("value", flat=True)) == 2880
    delivery = Delivery.objects.get(import_run=second, variable__key="KITAS_ANZAHL")
    assert delivery.replaced == 542
    assert Delivery.objects.filter(import_run=first).exists()


def _geojson_wgs84(tmp_path: Path) -> Path:
    path = tmp_path / "kitas_wgs84.geojson"
    gpd.read_file(KITAS).to_crs(4326).to_file(path, driver="GeoJSON")
    return path


def _shapefile_zip(tmp_path: Path) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir()
    gpd.read_file(KITAS).to_crs(3035).to_file(folder / "kitas.shp")
    assert (folder / "kitas.prj").exists()
    path = tmp_path / "kitas_shape.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    return path


def _geopackage(tmp_path: Path) -> Path:
    path = tmp_path / "kitas.gpkg"
    gpd.read_file(KITAS).to_crs(4326).to_file(path, layer="kitas", driver="GPKG")
    return path


def _csv_lonlat(tmp_path: Path) -> Path:
    frame = gpd.read_file(KITAS).to_crs(4326)
    frame["lon"] = frame.geometry.x.round(9)
    frame["lat"] = frame.geometry.y.round(9)
    path = tmp_path / "kitas_koordinaten.csv"
    frame.drop(columns="geometry").to_csv(path, sep=";", index=False)
    return path


@pytest.mark.filterwarnings("ignore:Value .* truncated:RuntimeWarning")
@pytest.mark.parametrize(
    "build", [_geojson_wgs84, _shapefile_zip, _geopackage, _csv_lonlat]
)
def test_other_formats_and_crs_give_the_same_assignment(
    kitas_imported, tmp_path, build
):
    expected = assignment("kitas")
    path = build(tmp_path)
    run = run_import(path, KITA_OPTIONS)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert run.summary["points_outside_berlin"] == 0
    assert assignment("kitas") == expected
    assert sum(plr_values("KITAS_E_PLATZ", date(2022, 12, 31)).values()) == 194_979
    layer_units = Facility.objects.filter(layer__key="kitas").values_list(
        "unit__code", flat=True
    )
    assert Counter(layer_units) == Counter(code for _, code in expected)


def test_csv_lonlat_is_read_as_wgs84_and_says_so(tmp_path):
    run = run_import(_csv_lonlat(tmp_path), KITA_OPTIONS)
    assert run.summary["crs"] == "EPSG:4326"
    texts = " ".join(item["text"] for item in run.report)
    assert "als Längen-/Breitengrade (EPSG:4326) gelesen" in texts


def test_points_outside_berlin_are_reported_not_stored(tmp_path):
    doc = json.loads(KITAS.read_text(encoding="utf-8"))
    for feature in doc["features"][:5]:
        # Declared EPSG:25833, but these five hold degrees: near the equator.
        feature["geometry"]["coordinates"] = [13.4, 52.5]
    path = tmp_path / "kitas_teils_grad.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")

    run = run_import(path, KITA_OPTIONS)
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.summary["points_outside_berlin"] == 5
    assert run.summary["facilities"] == 2875
    example = run.summary["outside_examples"][0]
    assert (example["feature"], example["x"], example["y"]) == (1, "13.4", "52.5")
    texts = [item["text"] for item in run.report]
    assert any("5 von 2880 Punkten liegen außerhalb Berlins" in t for t in texts)
    assert any("Längen-/Breitengraden (EPSG:4326)" in t for t in texts)
    assert any(
        "Objekt Nr. 1: liegt außerhalb Berlins: x=13.4, y=52.5 (EPSG:25833)" in t
        for t in texts
    )
    assert Facility.objects.filter(layer__key="kitas").count() == 2875
    counts = plr_values("KITAS_ANZAHL", date(2022, 12, 31))
    assert sum(counts.values()) == 2875


def _shared_vertex() -> tuple[float, float, list[str]]:
    """A vertex on the border of two Planungsräume (borders are identical)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH v AS (
                SELECT (ST_DumpPoints(ST_Intersection(a.geom, b.geom))).geom AS p
                FROM lor_lorunit a JOIN lor_lorunit b
                  ON a.code = '01100101' AND b.level = 'planungsraum'
                 AND b.code <> a.code AND ST_Touches(a.geom, b.geom)
                LIMIT 1
            )
            SELECT ST_X(v.p), ST_Y(v.p), array_agg(u.code ORDER BY u.code)
            FROM v JOIN lor_lorunit u
              ON u.level = 'planungsraum' AND ST_Covers(u.geom, v.p)
            GROUP BY v.p
            """
        )
        return cursor.fetchone()


def test_point_on_a_shared_border_goes_to_the_smallest_key(tmp_path):
    x, y, covering = _shared_vertex()
    assert len(covering) >= 2
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:25833"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"name": f"Grenzpunkt {i}"},
                "geometry": {"type": "Point", "coordinates": [x, y]},
            }
            for i in range(2)
        ],
    }
    path = tmp_path / "grenze.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    run = run_import(path, {"layer": "grenze", "ref_date": "2024-12-31"})
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    assert run.summary["points_on_border"] == 2
    assert set(
        Facility.objects.filter(layer__key="grenze").values_list(
            "unit__code", flat=True
        )
    ) == {covering[0]}
    counts = plr_values("GRENZE_ANZAHL", date(2024, 12, 31))
    assert counts[covering[0]] == 2 and counts[covering[1]] == 0


def test_without_options_layer_and_date_come_from_file_name_and_today():
    run = run_import(CORPUS / "gueltig_drei_kitas.geojson")
    assert run.status == ImportRun.Status.SUCCEEDED
    layer = FacilityLayer.objects.get(key="gueltig_drei_kitas")
    assert layer.name == "Gueltig drei kitas"
    assert Variable.objects.get(key="GUELTIG_DREI_KITAS_ANZAHL").theme == "jugend"
    assert layer.ref_date == timezone.localdate()
    assert any("Kein Stichtag angegeben" in item["text"] for item in run.report)
    assert run.summary["incomplete_metadata"] == ["GUELTIG_DREI_KITAS_ANZAHL"]


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("infra_kitas_epsg25833.geojson", ("kitas", "Kitas")),
        (
            "infra_jugendfreizeiteinrichtungen_epsg25833.geojson",
            ("jugendfreizeiteinrichtungen", "Jugendfreizeiteinrichtungen"),
        ),
        ("Spielplätze Mitte 2024.gpkg", ("spielplaetze_mitte", "Spielplätze Mitte")),
        ("2024.csv", ("punktdaten", "Punktdaten")),
        ("3d-punkte.csv", ("ebene_3d_punkte", "3d punkte")),
    ],
)
def test_layer_defaults_from_file_name(file_name, expected):
    assert layer_defaults(file_name) == expected


def test_layer_of_one_district_is_not_replaced_by_another(db):
    mitte = LorUnit.objects.get(level="bezirk", code="01")
    pankow = LorUnit.objects.get(level="bezirk", code="03")
    options = {"layer": "spielplaetze", "ref_date": "2024-06-30"}
    first = run_import(CORPUS / "gueltig_drei_kitas.geojson", options, district=mitte)
    assert first.status == ImportRun.Status.SUCCEEDED
    before = db_state(), list(Facility.objects.values_list("pk", "unit"))
    second = run_import(CORPUS / "gueltig_drei_kitas.geojson", options, district=pankow)
    assert second.status == ImportRun.Status.FAILED
    # Pankow may neither upload points in Mitte nor take over Mitte's layer.
    texts = " ".join(problem["text"] for problem in second.report)
    assert "liegt nicht im Bezirk 03" in texts or "gehört Mitte" in texts
    assert (db_state(), list(Facility.objects.values_list("pk", "unit"))) == before
    assert FacilityLayer.objects.get(key="spielplaetze").import_run == first


def test_facility_list_by_layer_and_unit(
    kitas_imported, admin_user, django_assert_num_queries
):
    bezirk = LorUnit.objects.get(level="bezirk", code="01")
    in_mitte = Observation.objects.get(
        variable__key="KITAS_ANZAHL", unit=bezirk, ref_date=date(2022, 12, 31)
    ).value
    with django_assert_num_queries(1):
        rows = [
            (f.layer.key, f.unit.code)
            for f in facility_list(user=admin_user, layer="kitas", unit=bezirk)
        ]
    assert len(rows) == in_mitte
    assert all(code.startswith("01") for _, code in rows)
    layer = FacilityLayer.objects.get(key="kitas")
    berlin = LorUnit.objects.get(code=BERLIN_CODE)
    assert facility_list(user=admin_user, layer=layer, unit=berlin).count() == 2880
    plr = Facility.objects.filter(layer=layer).first().unit
    assert set(
        facility_list(user=admin_user, unit=plr).values_list("unit", flat=True)
    ) == {plr.pk}


def test_facilities_in_admin(kitas_imported, admin_client):
    response = admin_client.get("/admin/datapool/facility/", {"q": "F.A.I.R"})
    assert response.status_code == 200
    assert "Kita F.A.I.R.play" in response.content.decode()
    assert admin_client.get("/admin/datapool/facilitylayer/").status_code == 200
