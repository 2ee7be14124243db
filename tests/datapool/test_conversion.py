"""Deliveries in LOR 2006 keys: imported onto the old units, converted to LOR 2021.

The done-when check: the AfS matrix of 31.12.2020 in old keys, converted, against
the MSS 2021 ``EW`` of the same date on the 542 new Planungsräume. Printed
figures are the ones in docs/crosswalk.md ("Converted values").
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from datapool.management.commands.datapool_lor2006 import MANIFEST
from datapool.models import ImportRun, Observation, Variable
from datapool.parsers.contract import OLD_SCHEME, SCHEME_OPTION
from datapool.parsers.ewr import parse_ewr
from datapool.services.conversion import NOT_CONVERTIBLE_NOTE
from datapool.services.imports import (
    import_run_convert_old_scheme,
    import_run_create,
    import_run_execute,
)
from explorer import exports
from explorer.selection import Selection, selection_evaluate
from lor.management.commands.lor_crosswalk import read_population
from lor.models import CrosswalkPiece, LorUnit
from lor.selectors import lor_key_renames
from tests.lor.conftest import CORRECTIONS, drop_lor2006

pytestmark = pytest.mark.django_db

OLD_2020 = Path(settings.PRISMA_LOR_DATA_DIR) / "lor2006" / "EWR202012E_Matrix.csv"
GSSA = (
    Path(settings.BASE_DIR)
    / "datapool"
    / "data"
    / "lor2006"
    / "gssa_2022_planungsraeume.csv"
)
MSS = Path(settings.BASE_DIR) / "datapool" / "data" / "demo" / "mss2021_indizes_plr.csv"
DEC_2020 = date(2020, 12, 31)


@pytest.fixture(scope="module")
def crosswalk_2006(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        call_command("lor2006_import", "--corrections", str(CORRECTIONS), verbosity=0)
        call_command("lor_crosswalk", verbosity=0)
    yield
    with django_db_blocker.unblock():
        drop_lor2006()


def _convert(path: Path, **options) -> ImportRun:
    call_command(
        "datapool_import", str(path), "--scheme", OLD_SCHEME, "--convert", verbosity=0
    )
    return ImportRun.objects.filter(kind=ImportRun.Kind.CONVERSION).latest("pk")


def _values(key: str, ref_date: date, scheme=LorUnit.Scheme.LOR_2021, level=None):
    return {
        code: (value, status, note)
        for code, value, status, note in Observation.objects.filter(
            variable__key=key,
            ref_date=ref_date,
            unit__scheme=scheme,
            unit__level=level or LorUnit.Level.PLANUNGSRAUM,
        ).values_list("unit__code", "value", "status", "note")
    }


def _relations() -> dict[str, str]:
    return dict(
        CrosswalkPiece.objects.values_list("new_unit__code", "relation").distinct()
    )


def test_converted_2020_population_matches_the_new_scheme(crosswalk_2006):
    conversion = _convert(OLD_2020)
    assert conversion.status == ImportRun.Status.SUCCEEDED, conversion.error
    # The old values stay on the old units, keys never mixed.
    old = _values("E_E", DEC_2020, scheme=LorUnit.Scheme.LOR_2006)
    assert len(old) == 448
    converted = _values("E_E", DEC_2020)
    assert len(converted) == 542
    published = read_population(MSS, key="PLR_ID", value="EW")
    relation = _relations()
    # Share of each new unit's residents (31.12.2020, calibrated) from its
    # largest old unit.
    persons: dict[str, list[float]] = defaultdict(list)
    for new, p in CrosswalkPiece.objects.values_list("new_unit__code", "population"):
        persons[new].append(p)
    dominant = {new: max(ps) / sum(ps) for new, ps in persons.items() if sum(ps) > 0}

    one_to_one, mostly_one = [], []
    for code, n in published.items():
        value, status, _note = converted[code]
        expected_status = "ok" if relation[code] == "1:1" else "estimated"
        assert status == expected_status, code
        if n == 0:
            continue
        error = abs(value - n) / n
        if relation[code] == "1:1":
            one_to_one.append(error)
        elif dominant.get(code, 0) >= 0.95:
            mostly_one.append(error)
    print(
        f"converted E_E 31.12.2020: 1:1 worst {max(one_to_one):.3%} "
        f"({len(one_to_one)} PLR); ≥95 % from one old unit worst "
        f"{max(mostly_one):.3%} ({len(mostly_one)} PLR)"
    )
    assert len(one_to_one) >= 290 and max(one_to_one) <= 0.005
    assert mostly_one and max(mostly_one) <= 0.03
    berlin = _values("E_E", DEC_2020, level=LorUnit.Level.BERLIN)
    (total, status, _note) = (
        berlin["00"] if "00" in berlin else next(iter(berlin.values()))
    )
    assert round(total, 6) == sum(published.values()) == 3_769_962
    # An aggregate over estimated components is estimated.
    assert status == "estimated"
    assert {s for _v, s, _n in _values("E_E", DEC_2020, level="bezirk").values()} == {
        "estimated"
    }


def test_a_share_is_recomputed_from_converted_counts(crosswalk_2006):
    call_command("datapool_import", str(OLD_2020), "--scheme", OLD_SCHEME, verbosity=0)
    source = ImportRun.objects.latest("pk")
    share = Variable.objects.create(
        key="TEST_ANTEIL_W",
        name="Anteil weiblich",
        value_type=Variable.ValueType.SHARE,
        aggregation=Variable.Aggregation.RATIO,
        numerator=Variable.objects.get(key="E_EW"),
        denominator=Variable.objects.get(key="E_E"),
        factor=100,
    )
    from datapool.services.conversion import (
        conversion_run_create,
        conversion_run_execute,
    )

    run = conversion_run_execute(run=conversion_run_create(source_run=source))
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    women, total = _values("E_EW", DEC_2020), _values("E_E", DEC_2020)
    shares = _values(share.key, DEC_2020)
    relation = _relations()
    split = [c for c, r in relation.items() if r == "split" and total[c][0] > 500]
    old_women = _values("E_EW", DEC_2020, scheme=LorUnit.Scheme.LOR_2006)
    old_total = _values("E_E", DEC_2020, scheme=LorUnit.Scheme.LOR_2006)
    differs = 0
    for code in split:
        value, status, _note = shares[code]
        assert status == "estimated"
        assert value == pytest.approx(women[code][0] / total[code][0] * 100)
        # Not an average of the old units' shares (by area, say).
        olds = CrosswalkPiece.objects.filter(new_unit__code=code).values_list(
            "old_unit__code", "area_m2"
        )
        averaged = sum(
            old_women[o][0] / old_total[o][0] * 100 * w for o, w in olds
        ) / sum(w for _o, w in olds)
        differs += abs(averaged - value) > 1e-6
    # Where a new unit draws on several old ones, the two differ.
    assert differs >= 20
    bezirk = _values(share.key, DEC_2020, level="bezirk")["01"]
    women_01 = _values("E_EW", DEC_2020, level="bezirk")["01"][0]
    total_01 = _values("E_E", DEC_2020, level="bezirk")["01"][0]
    assert bezirk[:2] == (pytest.approx(women_01 / total_01 * 100), "estimated")


def test_indices_only_for_same_area_and_unions(crosswalk_2006):
    conversion = _convert(GSSA)
    assert conversion.status == ImportRun.Status.SUCCEEDED, conversion.error
    relation = _relations()
    new = _values("GSSA_GESIX", date(2022, 12, 31))
    old = _values("GSSA_GESIX", date(2022, 12, 31), scheme=LorUnit.Scheme.LOR_2006)
    split = [c for c, r in relation.items() if r == "split"]
    for code in split:
        value, status, note = new[code]
        assert value is None and status == "missing"
        assert note.startswith(NOT_CONVERTIBLE_NOTE)
    whole = dict(
        CrosswalkPiece.objects.filter(
            relation="1:1", weight_area__gte=0.98
        ).values_list("new_unit__code", "old_unit__code")
    )
    taken = [c for c in whole if old[whole[c]][0] is not None]
    assert len(taken) > 250
    for code in taken:
        assert new[code][:2] == (old[whole[code]][0], "ok")
    unions = [c for c, r in relation.items() if r == "union"]
    assert any(new[c][1] == "estimated" for c in unions)
    # A Bezirk value would be an average of indices: the GSSA is not aggregated.
    assert not _values("GSSA_GESIX", date(2022, 12, 31), level="bezirk")


def test_a_suppressed_old_cell_stays_suppressed_after_conversion(
    crosswalk_2006, tmp_path
):
    text = OLD_2020.read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    columns = header.split(";")
    e_e = columns.index("E_E")
    # Blank E_E of 01011103 Lützowstr. (the AfS writes suppressed cells empty).
    patched = []
    for row in rows:
        cells = row.split(";")
        if cells[1] == "01011103":
            cells[e_e] = ""
        patched.append(";".join(cells))
    path = tmp_path / "EWR202012E_Matrix.csv"
    path.write_text("\n".join([header, *patched]) + "\n", encoding="utf-8")
    assert _convert(path).status == ImportRun.Status.SUCCEEDED
    touched = set(
        CrosswalkPiece.objects.filter(
            old_unit__code="01011103", weight_population__gt=1e-9
        ).values_list("new_unit__code", flat=True)
    )
    converted = _values("E_E", DEC_2020)
    assert touched
    for code in touched:
        assert converted[code][:2] == (None, "suppressed")
        assert "01011103" in converted[code][2]
    berlin = Observation.objects.get(
        variable__key="E_E",
        ref_date=DEC_2020,
        unit__scheme=LorUnit.Scheme.LOR_2021,
        unit__level=LorUnit.Level.BERLIN,
    )
    assert berlin.incomplete and berlin.value < 3_769_962


def test_estimated_values_say_so_in_the_api_and_the_csv_export(
    crosswalk_2006, client_logged_in
):
    _convert(OLD_2020)
    response = client_logged_in.get(
        "/api/values/",
        {"variable": "E_E", "level": "planungsraum", "date": "2020-12-31"},
    )
    assert response.status_code == 200
    body = response.json()
    statuses = {r["status"] for r in body["results"]}
    assert statuses == {"ok", "estimated"}
    assert any(
        "LOR 2006" in note and "docs/crosswalk.md" in note for note in body["notes"]
    )
    result = selection_evaluate(
        selection=Selection(level="bezirksregion", columns=["E_E"], date=DEC_2020)
    )
    with translation.override("de"):
        content, _type, _name = exports.export_csv(
            result=result, title="Einwohner 2020"
        )
    text = content.decode("utf-8-sig")
    assert "geschätzt (umgerechnet aus LOR 2006)" in text
    assert "Umschlüsselung LOR 2006" in text.splitlines()[1]  # the source row
    assert any(line.startswith("Hinweis;") for line in text.splitlines()[:8])
    # The map image outlines estimated units dashed and says so in its legend.
    planungsraeume = selection_evaluate(
        selection=Selection(level="planungsraum", columns=["E_E"], date=DEC_2020)
    )
    with translation.override("de"):
        svg, _type, _name = exports.export_map(
            result=planungsraeume, title="Einwohner 2020", fmt="svg", column="E_E"
        )
    assert b"stroke-dasharray" in svg
    selection = Selection(level="bezirk", columns=["E_E"], date=DEC_2020).as_dict()
    response = client_logged_in.get(
        f"{reverse('analysis:selection-export')}?"
        + urlencode(
            {"format": "geojson", "selection": json.dumps(selection), "title": "EW"}
        )
    )
    assert response.status_code == 200
    assert "geschätzt (umgerechnet aus LOR 2006)" in response.content.decode()


def test_an_old_scheme_upload_is_recognised_and_converted(
    crosswalk_2006, django_capture_on_commit_callbacks
):
    run = import_run_create(kind="ewr", path=OLD_2020, original_name=OLD_2020.name)
    run = import_run_execute(import_run=run)
    assert run.status == ImportRun.Status.REVIEW
    assert run.summary["old_scheme"] is True
    assert run.summary["scheme_counts"] == {
        "lor2021": 0,
        "lor2006": 448,
        "none": 0,
        "total": 448,
    }
    assert run.error.startswith("Schlüssel des LOR-Schemas 2006")
    assert not Observation.objects.filter(import_run=run).exists()
    with django_capture_on_commit_callbacks(execute=True):
        import_run_convert_old_scheme(import_run=run)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.options[SCHEME_OPTION] == OLD_SCHEME
    conversion = ImportRun.objects.get(
        kind=ImportRun.Kind.CONVERSION, options__source_run=run.pk
    )
    assert conversion.status == ImportRun.Status.SUCCEEDED
    assert len(_values("E_E", DEC_2020)) == 542


def test_no_suggestion_names_a_different_planungsraum(crosswalk_2006):
    # The old matrix read as LOR 2021: every key is unknown, and none is
    # "suggested" as the LOR 2021 unit whose key looks alike (02010103
    # Moritzplatz is not 02100103 Am Berlin Museum).
    delivery = parse_ewr(OLD_2020, file_name=OLD_2020.name, options={})
    assert len(delivery.unknown_keys) == 448
    assert all(k.suggestion is None for k in delivery.unknown_keys)
    moritzplatz = next(k for k in delivery.unknown_keys if k.key == "02010103")
    assert moritzplatz.old_scheme_name == "Moritzplatz"
    # The only renames are documented ones, and each keeps its Planungsraum:
    # same Prognoseraum, same Planungsraum number (unique per Prognoseraum).
    for wrong, right in lor_key_renames().items():
        assert LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, code=right
        ).exists()
        assert wrong[:4] == right[:4] and wrong[6:] == right[6:]


def test_the_documented_rename_is_the_only_suggestion_for_the_2024_matrix():
    path = Path(settings.BASE_DIR) / "datapool" / "data" / "demo"
    path = path / "EWR_L21_202412E_Matrix.csv"
    delivery = parse_ewr(path, file_name=path.name, options={})
    assert [
        (k.key, k.suggestion, k.suggestion_reason) for k in delivery.unknown_keys
    ] == [("06200318", "06200418", "rename")]


def test_loader_is_idempotent(crosswalk_2006):
    out = io.StringIO()
    call_command("datapool_lor2006", stdout=out)
    first = Observation.objects.count()
    out = io.StringIO()
    call_command("datapool_lor2006", stdout=out)
    assert "bereits geladen und umgerechnet" in out.getvalue()
    assert Observation.objects.count() == first
    # One conversion per shipped file (population tables 2017–2019, EWR 2020, GSSA).
    assert ImportRun.objects.filter(kind=ImportRun.Kind.CONVERSION).count() == len(
        MANIFEST
    )
