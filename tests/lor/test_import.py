import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Sum

from lor.hierarchy import KEY_LENGTH
from lor.models import BERLIN_CODE, LorUnit
from lor.services import LorSource, lor_import

pytestmark = pytest.mark.django_db

PLR_FILE = "lor2021_planungsraeume_epsg25833.geojson"


def _snapshot() -> tuple:
    units = LorUnit.objects.order_by("code")
    return (
        units.count(),
        list(units.values_list("id", "code", "name", "parent_id")),
        round(units.aggregate(s=Sum("area_m2"))["s"], 3),
        LorUnit.objects.get(code="01100101").geom.wkt,
    )


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for f in Path(settings.PRISMA_LOR_DATA_DIR).iterdir():
        if f.suffix in {".csv", ".geojson"}:
            shutil.copy(f, tmp_path / f.name)
            (tmp_path / f.name).chmod(0o644)
    return tmp_path


def _edit_plr(directory: Path, code: str, change) -> None:
    path = directory / PLR_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    for feature in data["features"]:
        if feature["properties"]["PLR_ID"] == code:
            change(feature)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_import_yields_the_four_lor_levels_with_official_counts():
    counts = {
        level: LorUnit.objects.filter(level=level).count()
        for level in ("bezirk", "prognoseraum", "bezirksregion", "planungsraum")
    }
    assert counts == {
        "bezirk": 12,
        "prognoseraum": 58,
        "bezirksregion": 143,
        "planungsraum": 542,
    }
    assert LorUnit.objects.filter(level="berlin", code=BERLIN_CODE).count() == 1


def test_every_key_has_its_level_length_and_starts_with_its_parents_key():
    units = LorUnit.objects.exclude(level="berlin").select_related("parent")
    for unit in units:
        assert len(unit.code) == KEY_LENGTH[unit.level], unit
        assert unit.scheme == "LOR 2021"
        if unit.level == "bezirk":
            assert unit.parent is None
        else:
            assert unit.parent is not None, unit
            assert unit.code.startswith(unit.parent.code), unit


def test_names_repeat_but_keys_identify():
    heerstrasse = LorUnit.objects.filter(name="Heerstraße", level="bezirksregion")
    assert sorted(u.code for u in heerstrasse) == ["042002", "052005"]
    assert LorUnit.objects.filter(name="Schloßstraße").count() == 2


def test_berlin_total_area_is_within_half_a_percent_of_official():
    berlin = LorUnit.objects.get(code=BERLIN_CODE)
    assert abs(berlin.area_m2 / 1e6 - 891.1) / 891.1 < 0.005
    plr_sum = LorUnit.objects.filter(level="planungsraum").aggregate(s=Sum("area_m2"))[
        "s"
    ]
    assert plr_sum == pytest.approx(berlin.area_m2, rel=1e-6)


def test_derived_prognoseraeume_agree_with_official_polygons():
    source = LorSource.from_directory(Path(settings.PRISMA_LOR_DATA_DIR))
    report = lor_import(source=source)
    line = next(c for c in report.checks if c.startswith("Prognoseraum"))
    worst = float(line.rsplit(" ", 1)[1].rstrip("%"))
    assert worst <= 0.3


def test_bezirksregion_geometry_is_the_union_of_its_planungsraeume():
    region = LorUnit.objects.get(code="011001")
    children = LorUnit.objects.filter(parent=region)
    assert children.count() == 4
    assert sum(c.area_m2 for c in children) == pytest.approx(region.area_m2, rel=1e-6)


def test_reimport_is_idempotent():
    before = _snapshot()
    call_command("lor_import", verbosity=0)
    assert _snapshot() == before


def test_self_intersecting_polygon_is_rejected_and_units_untouched(data_copy):
    def bowtie(feature):
        feature["geometry"]["coordinates"] = [
            [
                [390000, 5820000],
                [391000, 5821000],
                [391000, 5820000],
                [390000, 5821000],
                [390000, 5820000],
            ]
        ]

    _edit_plr(data_copy, "01100101", bowtie)
    before = _snapshot()
    with pytest.raises(CommandError) as excinfo:
        call_command("lor_import", str(data_copy), verbosity=0)
    message = str(excinfo.value)
    assert PLR_FILE in message and "01100101" in message
    assert "ungültige Geometrie" in message
    assert _snapshot() == before


def test_overlap_found_in_postgis_rolls_back_written_units(data_copy):
    def grow(feature):
        ring = feature["geometry"]["coordinates"][0]
        cx = sum(p[0] for p in ring) / len(ring)
        cy = sum(p[1] for p in ring) / len(ring)
        feature["geometry"]["coordinates"] = [
            [[cx + (x - cx) * 1.3, cy + (y - cy) * 1.3] for x, y in ring]
        ]

    _edit_plr(data_copy, "01100101", grow)
    before = _snapshot()
    with pytest.raises(CommandError, match="nichts geändert"):
        call_command("lor_import", str(data_copy), verbosity=0)
    assert _snapshot() == before


def test_coordinates_outside_berlin_are_reported(data_copy):
    def shift(feature):
        feature["geometry"]["coordinates"] = [
            [[x + 200_000, y] for x, y in ring]
            for ring in feature["geometry"]["coordinates"]
        ]

    _edit_plr(data_copy, "01100101", shift)
    with pytest.raises(CommandError, match="nicht in Berlin"):
        call_command("lor_import", str(data_copy), verbosity=0)


def test_truncated_geometry_file_is_reported(data_copy):
    path = data_copy / PLR_FILE
    path.write_bytes(path.read_bytes()[:5000])
    before = _snapshot()
    with pytest.raises(CommandError, match="nicht lesbar"):
        call_command("lor_import", str(data_copy), verbosity=0)
    assert _snapshot() == before


def test_unknown_key_in_geometry_file_is_reported(data_copy):
    _edit_plr(
        data_copy, "01100101", lambda f: f["properties"].update(PLR_ID="01100199")
    )
    with pytest.raises(CommandError, match="01100199"):
        call_command("lor_import", str(data_copy), verbosity=0)


def test_malformed_key_in_key_table_names_line_and_column(data_copy):
    path = data_copy / "lor2021_schluessel_plr_bzr_pgr_bez.csv"
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text.replace(",01100103,", ",0110010X,", 1), encoding="utf-8-sig")
    with pytest.raises(CommandError) as excinfo:
        call_command("lor_import", str(data_copy), verbosity=0)
    assert "Zeile 4" in str(excinfo.value)
    assert "Planungsraum (Nummer)" in str(excinfo.value)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(CommandError, match="nicht gefunden"):
        call_command("lor_import", str(tmp_path), verbosity=0)
