"""Writes the crosswalk LOR 2006 → LOR 2021 (Planungsraum level) in PostGIS.

Method (docs/crosswalk.md):

1. Intersect every old Planungsraum with every new one (``ST_Intersection``).
   The two schemes were digitised separately, so shared boundaries do not
   match exactly and leave thousands of strips a few metres wide. A piece
   below ``SLIVER_SHARE`` of both its old and its new unit is such a strip and
   is dropped; the rest of the old unit's area keeps all of its weight.
2. Seed: the area of each piece. ``weight_area`` = piece / old unit's kept area.
3. Calibrate the seed by iterative proportional fitting to the population of
   31.12.2020, which is published in both schemes (old: EWR matrix of 448 PLR;
   new: MSS 2021 ``EW`` of 542 PLR): rows are scaled to the old totals, columns
   to the new, until both agree. ``weight_population`` = calibrated persons in
   the piece / old unit's persons. Old units without inhabitants keep their
   area weights (method ``area``).

The margins are plain dicts: lor does not read the Datenpool; a management
command reads the two CSV files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction

from .. import hierarchy
from ..models import CrosswalkPiece, LorUnit

# Pieces below this share of both their old and their new unit are boundary
# strips from the two digitisations (measured: most strips are below 0.3 %; a
# strip of 0.9 % between 04030827 and 04501040 holds 34 residents and is kept).
SLIVER_SHARE = 0.005
# A new unit is "1:1" with an old one when each covers this share of the other;
# an old unit lies "wholly" inside a new one above it.
SAME_AREA_SHARE = 0.98
# Persons a row may still be off when IPF stops (it converges slowly where
# the fit has to empty a piece).
IPF_TOLERANCE = 0.1
IPF_MAX_ITERATIONS = 200_000


class CrosswalkError(Exception):
    """The crosswalk cannot be computed; nothing was changed."""


@dataclass
class CrosswalkReport:
    pieces: int = 0
    dropped_slivers: int = 0
    dropped_area_m2: float = 0.0
    iterations: int = 0
    max_margin_error: float = 0.0  # persons, worst row or column after IPF
    relations: dict[str, int] = field(default_factory=dict)
    area_only_old_units: list[str] = field(default_factory=list)


def crosswalk_compute(
    *,
    old_population: Mapping[str, int],
    new_population: Mapping[str, int],
    progress: Callable[[str], None] | None = None,
) -> CrosswalkReport:
    """Recompute all crosswalk pieces; all or nothing.

    ``old_population``: persons per LOR 2006 Planungsraum key, 31.12.2020;
    ``new_population``: persons per LOR 2021 Planungsraum key, same date.
    """
    say = progress or (lambda message: None)
    old_units = dict(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2006, level=hierarchy.PLANUNGSRAUM
        ).values_list("code", "id")
    )
    new_units = dict(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=hierarchy.PLANUNGSRAUM
        ).values_list("code", "id")
    )
    if not old_units or not new_units:
        raise CrosswalkError(
            "Beide Schemata müssen geladen sein (lor_import, lor2006_import)."
        )
    for label, margin, units in (
        ("LOR 2006", old_population, old_units),
        ("LOR 2021", new_population, new_units),
    ):
        if unknown := sorted(set(margin) - set(units)):
            raise CrosswalkError(
                f"Einwohnerzahlen für unbekannte {label}-Planungsräume: "
                f"{', '.join(unknown[:10])}"
            )
        if missing := sorted(set(units) - set(margin)):
            raise CrosswalkError(
                f"Keine Einwohnerzahl für {label}-Planungsräume: "
                f"{', '.join(missing[:10])}"
            )
    if sum(old_population.values()) != sum(new_population.values()):
        raise CrosswalkError(
            "Die Einwohnersummen beider Schemata weichen ab "
            f"({sum(old_population.values())} / {sum(new_population.values())}); "
            "sie müssen vom selben Stichtag sein."
        )

    say("Verschneidung LOR 2006 × LOR 2021 in PostGIS …")
    report = CrosswalkReport()
    pieces = _overlay(report)
    say(
        f"{len(pieces)} Teilflächen, {report.dropped_slivers} Randstreifen "
        f"({report.dropped_area_m2 / 1e4:.1f} ha) verworfen"
    )
    relations = _relations(pieces)
    say("Kalibrierung auf die Einwohner vom 31.12.2020 (IPF) …")
    calibrated = _ipf(pieces, old_population, new_population, report)

    old_area: dict[str, float] = {}
    for (old, _new), area in pieces.items():
        old_area[old] = old_area.get(old, 0.0) + area
    # IPF stops after fitting the columns; dividing by the row's own sum (not
    # the margin, which it misses by < IPF_TOLERANCE) makes the weights sum to 1.
    calibrated_rows: dict[str, float] = {}
    for (old, _new), persons_in_piece in calibrated.items():
        calibrated_rows[old] = calibrated_rows.get(old, 0.0) + persons_in_piece
    rows = []
    for (old, new), area in sorted(pieces.items()):
        if calibrated_rows.get(old, 0.0) > 0:
            weight_population = calibrated.get((old, new), 0.0) / calibrated_rows[old]
            method = CrosswalkPiece.Method.IPF
        else:
            weight_population = area / old_area[old]
            method = CrosswalkPiece.Method.AREA
        rows.append(
            CrosswalkPiece(
                old_unit_id=old_units[old],
                new_unit_id=new_units[new],
                area_m2=area,
                weight_area=area / old_area[old],
                weight_population=weight_population,
                population=calibrated.get((old, new), 0.0),
                method=method,
                relation=relations[new],
            )
        )
    with transaction.atomic():
        CrosswalkPiece.objects.all().delete()
        CrosswalkPiece.objects.bulk_create(rows)
    report.pieces = len(rows)
    for relation in relations.values():
        report.relations[relation] = report.relations.get(relation, 0) + 1
    return report


def _overlay(report: CrosswalkReport) -> dict[tuple[str, str], float]:
    """Area (m²) of each old × new intersection that is more than a strip."""
    table = LorUnit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT o.code, n.code, ST_Area(ST_Intersection(o.geom, n.geom)),
                   o.area_m2, n.area_m2
            FROM {table} o JOIN {table} n
              ON o.geom && n.geom AND ST_Intersects(o.geom, n.geom)
            WHERE o.scheme = %s AND o.level = %s AND n.scheme = %s AND n.level = %s
            """,
            [
                LorUnit.Scheme.LOR_2006,
                hierarchy.PLANUNGSRAUM,
                LorUnit.Scheme.LOR_2021,
                hierarchy.PLANUNGSRAUM,
            ],
        )
        rows = cursor.fetchall()
    pieces: dict[tuple[str, str], float] = {}
    for old, new, area, old_area, new_area in rows:
        if area < SLIVER_SHARE * old_area and area < SLIVER_SHARE * new_area:
            report.dropped_slivers += 1
            report.dropped_area_m2 += area
        else:
            pieces[old, new] = area
    return pieces


def _relations(pieces: dict[tuple[str, str], float]) -> dict[str, str]:
    """Per new unit: 1:1 with one old unit, a union of whole old units, or split."""
    old_area: dict[str, float] = {}
    new_area: dict[str, float] = {}
    for (old, new), area in pieces.items():
        old_area[old] = old_area.get(old, 0.0) + area
        new_area[new] = new_area.get(new, 0.0) + area
    whole_olds: dict[str, list[str]] = {new: [] for (_old, new) in pieces}
    whole_area: dict[str, float] = {}  # area of a new unit made of whole old units
    for (old, new), area in pieces.items():
        if area >= SAME_AREA_SHARE * old_area[old]:
            whole_olds[new].append(old)
            whole_area[new] = whole_area.get(new, 0.0) + area
    relations: dict[str, str] = {}
    for new, olds in whole_olds.items():
        covered = whole_area.get(new, 0.0) >= SAME_AREA_SHARE * new_area[new]
        if covered and len(olds) == 1:
            relations[new] = CrosswalkPiece.Relation.ONE_TO_ONE
        elif covered:
            relations[new] = CrosswalkPiece.Relation.UNION
        else:
            relations[new] = CrosswalkPiece.Relation.SPLIT
    return relations


def _ipf(
    pieces: dict[tuple[str, str], float],
    old_population: Mapping[str, int],
    new_population: Mapping[str, int],
    report: CrosswalkReport,
) -> dict[tuple[str, str], float]:
    """Persons per piece: the area seed scaled until rows and columns match."""
    # Pieces into an uninhabited new unit carry nobody; an inhabited old unit
    # whose every piece goes there cannot be calibrated and keeps area weights.
    seed = {
        key: area
        for key, area in pieces.items()
        if old_population[key[0]] > 0 and new_population[key[1]] > 0
    }
    by_old: dict[str, list[tuple[str, str]]] = {}
    by_new: dict[str, list[tuple[str, str]]] = {}
    for key in seed:
        by_old.setdefault(key[0], []).append(key)
        by_new.setdefault(key[1], []).append(key)
    report.area_only_old_units = sorted(
        old for old, persons in old_population.items() if persons and old not in by_old
    )
    if missing := sorted(
        new for new, persons in new_population.items() if persons and new not in by_new
    ):
        raise CrosswalkError(
            "Bewohnte LOR-2021-Planungsräume ohne bewohnten Vorgänger: "
            f"{', '.join(missing[:10])}"
        )
    keys = list(seed)
    rows = {code: i for i, code in enumerate(by_old)}
    cols = {code: i for i, code in enumerate(by_new)}
    row_of = np.array([rows[k[0]] for k in keys])
    col_of = np.array([cols[k[1]] for k in keys])
    row_target = np.array([old_population[c] for c in rows], dtype=float)
    col_target = np.array([new_population[c] for c in cols], dtype=float)
    x = np.array([seed[k] for k in keys], dtype=float)
    for iteration in range(1, IPF_MAX_ITERATIONS + 1):
        x *= (row_target / np.bincount(row_of, x, len(rows)))[row_of]
        x *= (col_target / np.bincount(col_of, x, len(cols)))[col_of]
        # After the column step the columns fit; the rows tell how far off we are.
        worst = float(np.abs(np.bincount(row_of, x, len(rows)) - row_target).max())
        report.iterations, report.max_margin_error = iteration, worst
        if worst < IPF_TOLERANCE:
            break
    return dict(zip(keys, x.tolist(), strict=True))
