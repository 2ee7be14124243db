"""Crosswalk LOR 2006 → LOR 2021: weights, done-when figures, measured error.

The calibrated weights meet the 31.12.2020 margins by construction, so the
honest errors are the uncalibrated areal overlay's and the hold-outs
(31.12.2019 in the old scheme against Bezirke and against 30.06.2021 in the new
scheme). The figures printed here are the ones in docs/crosswalk.md.
"""

import csv
import statistics
from collections import defaultdict
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from lor.management.commands.lor_crosswalk import read_population
from lor.models import CrosswalkPiece
from lor.selectors import crosswalk_convert

pytestmark = pytest.mark.django_db

LOR_DATA = Path(settings.PRISMA_LOR_DATA_DIR)
SHARED = Path(settings.BASE_DIR).parent / "shared" / "data" / "berlin"
OLD_2020 = LOR_DATA / "lor2006" / "EWR202012E_Matrix.csv"
NEW_2020 = (
    Path(settings.BASE_DIR) / "datapool" / "data" / "demo" / "mss2021_indizes_plr.csv"
)
OLD_2019 = SHARED / "lor2006" / "berlin-lor-population-2019-02-t1-planning-areas.csv"
NEW_2021H1 = (
    SHARED / "zeitreihe" / "berlin-lor-population-2021-01-t1-planning-areas.csv"
)


def _inhabitants(path: Path) -> dict[str, int]:
    with path.open(encoding="utf-8") as fh:
        return {r["id"]: int(r["inhabitants"]) for r in csv.DictReader(fh)}


def _errors(converted: dict[str, float], published: dict[str, int]) -> list[float]:
    """Relative error per inhabited new unit (absolute persons for empty ones)."""
    return [
        abs(converted.get(code, 0.0) - n) / n for code, n in published.items() if n > 0
    ]


def _summary(label: str, errors: list[float]) -> tuple[float, float]:
    within3 = sum(e <= 0.03 for e in errors) / len(errors)
    print(
        f"{label}: median {statistics.median(errors):.2%}, "
        f"P90 {statistics.quantiles(errors, n=10)[-1]:.1%}, "
        f"within 3 % {within3:.1%} of {len(errors)} inhabited PLR"
    )
    return statistics.median(errors), within3


def test_weights_of_each_old_unit_sum_to_one(crosswalk):
    sums_area: dict[str, float] = defaultdict(float)
    sums_pop: dict[str, float] = defaultdict(float)
    for old, wa, wp in CrosswalkPiece.objects.values_list(
        "old_unit__code", "weight_area", "weight_population"
    ):
        sums_area[old] += wa
        sums_pop[old] += wp
    assert len(sums_area) == 448
    assert max(abs(s - 1) for s in sums_area.values()) < 1e-9
    assert max(abs(s - 1) for s in sums_pop.values()) < 1e-9
    # Every new Planungsraum receives something.
    assert CrosswalkPiece.objects.values("new_unit").distinct().count() == 542


def test_done_when_figures_2020(crosswalk):
    old = read_population(OLD_2020, key="RAUMID", value="E_E")
    new = read_population(NEW_2020, key="PLR_ID", value="EW")
    relation = dict(
        CrosswalkPiece.objects.values_list("new_unit__code", "relation").distinct()
    )
    counts = defaultdict(int)
    for r in relation.values():
        counts[r] += 1
    print(f"\nrelations of the 542 new PLR: {dict(counts)}")

    calibrated = crosswalk_convert(values=old, weight="population")
    total = sum(calibrated.values())
    print(f"Berlin 31.12.2020 converted {total:.3f}, published {sum(new.values())}")
    assert round(total) == sum(new.values()) == 3_769_962

    one_to_one = [c for c, r in relation.items() if r == "1:1" and new[c] > 0]
    worst_1to1 = max(abs(calibrated[c] - new[c]) / new[c] for c in one_to_one)
    errors = _errors(calibrated, new)
    _, within3 = _summary("calibrated (IPF), 2020 — by construction", errors)
    print(f"  worst 1:1 PLR: {worst_1to1:.3%} ({len(one_to_one)} inhabited 1:1)")
    assert worst_1to1 <= 0.005
    assert within3 >= 0.95

    # The honest error: the plain areal overlay, no population used.
    areal = crosswalk_convert(values=old, weight="area")
    assert round(sum(areal.values())) == 3_769_962
    areal_1to1 = [abs(areal[c] - new[c]) / new[c] for c in one_to_one]
    _, areal_within3 = _summary(
        "areal overlay (uncalibrated), 2020", _errors(areal, new)
    )
    print(
        f"  areal, 1:1 PLR: worst {max(areal_1to1):.2%}, "
        f"within 0.5 % {sum(e <= 0.005 for e in areal_1to1) / len(areal_1to1):.1%}"
    )
    assert areal_within3 < within3


def test_hold_out_2019(crosswalk):
    """31.12.2019 (old scheme) converted: Bezirk totals and the new 30.06.2021."""
    old = _inhabitants(OLD_2019)
    converted = crosswalk_convert(values=old, weight="population")
    assert round(sum(converted.values())) == sum(old.values()) == 3_769_495
    published_bez: dict[str, int] = defaultdict(int)
    converted_bez: dict[str, float] = defaultdict(float)
    for code, n in old.items():
        published_bez[code[:2]] += n
    for code, n in converted.items():
        converted_bez[code[:2]] += n
    worst = max(abs(converted_bez[b] - n) / n for b, n in published_bez.items())
    print(f"\nhold-out 31.12.2019, worst Bezirk total: {worst:.4%}")
    assert worst < 0.001

    # Against the new scheme 18 months later: conversion error plus real change.
    new = _inhabitants(NEW_2021H1)
    areal = crosswalk_convert(values=old, weight="area")
    med_cal, _ = _summary("hold-out 2019→2021-06, calibrated", _errors(converted, new))
    med_area, _ = _summary("hold-out 2019→2021-06, areal", _errors(areal, new))
    # Baseline: the same units' real change 31.12.2020 → 30.06.2021 (no conversion).
    mss = read_population(NEW_2020, key="PLR_ID", value="EW")
    _summary(
        "baseline: new 2020-12 vs 2021-06 (change only)",
        _errors({k: float(v) for k, v in mss.items()}, new),
    )
    assert med_cal < med_area


def test_api_documents_the_weights(crosswalk, user):
    api = APIClient()
    api.force_authenticate(user)
    rows = api.get("/api/crosswalk/", {"old": "04030417"}).json()
    assert rows and abs(sum(r["weight_population"] for r in rows) - 1) < 1e-9
    assert {"old_code", "new_code", "weight_area", "relation", "method"} <= set(rows[0])
    assert len(api.get("/api/crosswalk/").json()) == CrosswalkPiece.objects.count()
