"""The Kriminalitätsatlas 2019–2023 as a series: the xx9900 rule and KI_KIEZDELIKTE."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from datapool.models import ImportRun, Observation, Variable
from datapool.parsers.contract import ImportValidationError
from datapool.parsers.crime_atlas import parse_crime_atlas
from datapool.parsers.detect import detect_kind
from datapool.services.imports import import_run_create, import_run_execute
from lor.models import LorUnit
from tests.conftest import SHARED_DATA
from tests.datapool.conftest import db_state

pytestmark = pytest.mark.django_db

ATLAS = Path(settings.BASE_DIR) / "datapool" / "data" / "kriminalitaetsatlas"
YEARS = range(2019, 2024)


def _case_file(year: int) -> Path:
    return ATLAS / f"berlin-lor-crime-atlas-{year}-00-case-numbers-district-regions.csv"


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["id"]: row for row in csv.DictReader(fh)}


def _values(key: str, year: int) -> dict[str, Observation]:
    return {
        o.unit.code: o
        for o in Observation.objects.filter(
            variable__key=key,
            ref_date=date(year, 12, 31),
            unit__scheme=LorUnit.Scheme.LOR_2021,
        ).select_related("unit")
    }


def _afs_mid_year(year: int) -> Counter:
    """AfS residents on 30.06. of the year, summed to Bezirksregionen."""
    path = (
        SHARED_DATA
        / "zeitreihe"
        / f"berlin-lor-population-{year}-01-t1-planning-areas.csv"
    )
    residents: Counter = Counter()
    for key, row in _rows(path).items():
        residents[key[:6]] += int(row["inhabitants"])
    return residents


def test_crime_atlas_series_keeps_the_xx9900_rule_and_fills_ki_kiezdelikte(
    client_logged_in,
):
    out = io.StringIO()
    call_command("crime_atlas_import", stdout=out)
    call_command("indicators_compute", stdout=io.StringIO())
    assert out.getvalue().count("Werte geladen") == 5

    bzr_codes = set(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRKSREGION
        ).values_list("code", flat=True)
    )
    bezirke = set(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK
        ).values_list("code", flat=True)
    )
    assert not LorUnit.objects.filter(code__endswith="9900").exists()
    for year in YEARS:
        cases = _rows(_case_file(year))
        stored = _values("KIEZ_DELIKTE", year)
        # Each Bezirksregion as delivered, and no xx9900 row among them.
        assert {c for c in stored if len(c) == 6} == bzr_codes
        for code in bzr_codes:
            assert stored[code].value == int(cases[code]["kieztaten"])
            assert not stored[code].is_aggregate
        # Bezirk = its Bezirksregionen + its xx9900 row; Berlin = every row.
        for bezirk in bezirke:
            expected = sum(
                int(row["kieztaten"]) for key, row in cases.items() if key[:2] == bezirk
            )
            inside = sum(
                int(cases[c]["kieztaten"]) for c in bzr_codes if c[:2] == bezirk
            )
            assert expected > inside  # every xx9900 row holds cases
            assert stored[bezirk].value == expected
            assert not stored[bezirk].is_aggregate
        assert stored["11000000"].value == sum(
            int(row["kieztaten"]) for row in cases.values()
        )
        # A Prognoseraum is the plain sum of its Bezirksregionen.
        assert stored["0110"].value == sum(
            int(cases[c]["kieztaten"]) for c in bzr_codes if c.startswith("0110")
        )
        # Another column follows the same rule.
        theft = _values("KRIM_DIEBSTAHL", year)
        assert theft["11000000"].value == sum(int(r["theft"]) for r in cases.values())

        ki = _values("KI_KIEZDELIKTE", year)
        assert bzr_codes | bezirke | {"11000000"} <= {
            code for code, o in ki.items() if o.status == "ok"
        }
        # The indicator is the atlas's own Häufigkeitszahl / 1,000 (rounded there).
        frequencies = _rows(
            ATLAS / f"berlin-lor-crime-atlas-{year}-00-frequency-numbers-"
            "district-regions.csv"
        )
        for code in bzr_codes:
            published = float(frequencies[code]["kieztaten"])
            assert ki[code].value * 1000 == pytest.approx(published, abs=0.5, rel=5e-4)

    # By hand: 011001 Tiergarten Süd 2019, 913 Kieztaten; 14,890 residents, the
    # only whole number that all 17 pairs of case and frequency number allow.
    assert _values("KRIM_EW", 2019)["011001"].value == 14890
    assert _values("KI_KIEZDELIKTE", 2019)["011001"].value == pytest.approx(
        913 / 14890 * 100
    )
    # Bezirk Mitte 2019: 15,440 cases in its Bezirksregionen + 527 in 019900.
    mitte = _values("KIEZ_DELIKTE", 2019)["01"].value
    assert mitte == 15440 + 527
    residents = _values("KRIM_EW", 2019)["01"].value
    assert _values("KI_KIEZDELIKTE", 2019)["01"].value == pytest.approx(
        (15440 + 527) / residents * 100
    )
    # The residents are the AfS mid-year figures (2022: exactly).
    for year, slack in ((2021, 5), (2022, 0), (2023, 5)):
        afs = _afs_mid_year(year)
        krim_ew = _values("KRIM_EW", year)
        assert all(abs(krim_ew[c].value - afs[c]) <= slack for c in bzr_codes)

    # The values API serves 2022, a year without a 31.12. population.
    data = client_logged_in.get(
        "/api/values/",
        {"variable": "KI_KIEZDELIKTE", "level": "bezirk", "date": "2022-12-31"},
    ).json()
    assert len([r for r in data["results"] if r["value"] is not None]) == 12

    # The rule and the source oddity are on the catalogue pages.
    html = client_logged_in.get("/datapool/variables/KIEZ_DELIKTE/").content.decode()
    assert "xx9900" in html and "Bezirk, nicht zuzuordnen" in html
    assert "1.119" in html and "Polizei Berlin" in html
    html = client_logged_in.get("/datapool/variables/KI_KIEZDELIKTE/").content.decode()
    assert "xx9900" in html and "30.06." in html
    assert Variable.objects.get(key="KIEZ_DELIKTE").time_reference == "zeitraum"
    # The atlas has no Planungsräume, and the indicator's page says so.
    assert Variable.objects.get(key="KI_KIEZDELIKTE").lowest_level == "bezirksregion"

    # Idempotent: the command skips every file, and a forced second import of a
    # year replaces its values by the same ones.
    before = db_state()
    out = io.StringIO()
    call_command("crime_atlas_import", stdout=out)
    assert out.getvalue().count("bereits geladen") == 5
    assert db_state() == before
    values_2023 = {
        key: {c: (o.value, o.status) for c, o in _values(key, 2023).items()}
        for key in ("KIEZ_DELIKTE", "KRIM_EW")
    }
    run = import_run_create(
        kind=ImportRun.Kind.CRIME_ATLAS,
        path=_case_file(2023),
        original_name=_case_file(2023).name,
    )
    assert import_run_execute(import_run=run).status == ImportRun.Status.SUCCEEDED
    Path(run.file.path).unlink(missing_ok=True)
    assert {
        key: {c: (o.value, o.status) for c, o in _values(key, 2023).items()}
        for key in ("KIEZ_DELIKTE", "KRIM_EW")
    } == values_2023


def test_crime_atlas_files_are_recognised_by_name():
    assert detect_kind(_case_file(2023), _case_file(2023).name) == "crime_atlas"


def test_frequency_file_alone_is_refused_with_a_reason(lor_units):
    path = (
        ATLAS / "berlin-lor-crime-atlas-2023-00-frequency-numbers-district-regions.csv"
    )
    with pytest.raises(ImportValidationError) as exc:
        parse_crime_atlas(path, file_name=path.name, options={})
    assert "Häufigkeitszahlen" in str(exc.value)
    assert "case-numbers" in str(exc.value)


def _copy(tmp_path: Path, name: str, edit=None) -> Path:
    text = _case_file(2023).read_text(encoding="utf-8")
    if edit:
        text = edit(text)
    target = tmp_path / name
    target.write_text(text, encoding="utf-8")
    return target


def test_all_problems_of_a_case_file_are_reported_at_once(lor_units, tmp_path):
    name = "berlin-lor-crime-atlas-2023-00-case-numbers-district-regions.csv"
    path = _copy(
        tmp_path,
        name,
        lambda t: t.replace("011001,4491,", "011001,4491.5,").replace(
            "\n129900,", "\n129901,"
        ),
    )
    with pytest.raises(ImportValidationError) as exc:
        parse_crime_atlas(path, file_name=name, options={})
    texts = [str(p) for p in exc.value.problems]
    assert any("Zeile 2" in t and "offences" in t and "4491.5" in t for t in texts)
    assert any("129901" in t for t in texts)
    assert any("129900" in t and "fehlen" in t for t in texts)


def test_year_must_be_in_the_file_name(lor_units, tmp_path):
    path = _copy(tmp_path, "kriminalitaet.csv")
    with pytest.raises(ImportValidationError) as exc:
        parse_crime_atlas(path, file_name=path.name, options={})
    assert "Jahr" in str(exc.value)


def test_without_frequency_file_only_the_cases_are_delivered(
    lor_units, tmp_path, monkeypatch
):
    # No frequency file beside the copy, and none among the shipped files.
    monkeypatch.setattr(
        "datapool.parsers.crime_atlas.shipped_dir", lambda: tmp_path / "none"
    )
    name = "berlin-lor-crime-atlas-2023-00-case-numbers-district-regions.csv"
    path = _copy(tmp_path, name)
    delivery = parse_crime_atlas(path, file_name=name, options={})
    assert {row.variable_key for row in delivery.rows} >= {"KIEZ_DELIKTE"}
    assert "KRIM_EW" not in {row.variable_key for row in delivery.rows}
    assert any("KI_KIEZDELIKTE" in str(w) for w in delivery.warnings)
