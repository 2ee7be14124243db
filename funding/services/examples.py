"""Loading the shipped example data (``funding/data/``), idempotently.

Programmes and areas are matched by key, projects by district and number (the
template import), so running the loader twice changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.gis.db.models.functions import Area, Intersection
from django.contrib.gis.geos import MultiPolygon
from django.db import transaction

from lor.models import LorUnit

from ..models import EXAMPLE_NOTE, FundingArea, Programme
from .imports import projects_read, projects_write

DATA_DIR = Path(settings.BASE_DIR) / "funding" / "data"
EXAMPLE_SOURCE = f"PRISMA Beispieldaten ({EXAMPLE_NOTE})"
EXAMPLE_LICENCE = "frei verwendbar (für PRISMA erstellt)"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def _day(text: str) -> date | None:
    text = text.strip()
    return datetime.strptime(text, "%d.%m.%Y").date() if text else None


def _plr(codes: list[str]) -> list[LorUnit]:
    units = list(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.PLANUNGSRAUM,
            code__in=codes,
        )
    )
    missing = set(codes) - {u.code for u in units}
    if missing:
        raise ValueError(f"Planungsräume unbekannt: {', '.join(sorted(missing))}")
    return units


def funding_area_units_from_geom(*, area: FundingArea) -> int:
    """Set an area's Planungsräume from its polygon: those at least half inside."""
    units = (
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.PLANUNGSRAUM,
            geom__intersects=area.geom,
        )
        .annotate(inside=Area(Intersection("geom", area.geom)), whole=Area("geom"))
        .only("id")
    )
    chosen = [u for u in units if u.whole.sq_m and u.inside.sq_m / u.whole.sq_m >= 0.5]
    area.units.set(chosen)
    return len(chosen)


@transaction.atomic
def funding_examples_load(
    *, data_dir: Path = DATA_DIR, say: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Programmes, areas (sets of real Planungsräume) and projects of the examples."""
    say = say or (lambda text: None)
    programmes = 0
    for row in _rows(data_dir / "beispiel_programme.csv"):
        Programme.objects.update_or_create(
            key=row["Schlüssel"],
            defaults={
                "name": row["Name"],
                "funder": row["Fördergeber"],
                "period_start": int(row["Von"]) if row["Von"] else None,
                "period_end": int(row["Bis"]) if row["Bis"] else None,
                "description": row["Beschreibung"],
                "source": EXAMPLE_SOURCE,
                "licence": EXAMPLE_LICENCE,
                "is_example": True,
            },
        )
        programmes += 1
    say(f"  {programmes} Programme")
    areas = 0
    for row in _rows(data_dir / "beispiel_gebiete.csv"):
        units = _plr([c.strip() for c in row["Planungsräume"].split(",") if c.strip()])
        district = LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.BEZIRK,
            code=row["Bezirk"],
        )
        # The boundary drawn is the union of the Planungsräume (example areas).
        union = units[0].geom
        for unit in units[1:]:
            union = union.union(unit.geom)
        geom = union if isinstance(union, MultiPolygon) else MultiPolygon(union)
        geom.srid = 25833
        area, _created = FundingArea.objects.update_or_create(
            key=row["Schlüssel"],
            defaults={
                "programme": Programme.objects.get(key=row["Programm"]),
                "name": row["Name"],
                "district": district,
                "geom": geom,
                "valid_from": _day(row["Gültig ab"]),
                "valid_to": _day(row["Gültig bis"]),
                "source": EXAMPLE_SOURCE,
                "licence": EXAMPLE_LICENCE,
                "is_example": True,
            },
        )
        area.units.set(units)
        areas += 1
    say(f"  {areas} Fördergebiete")
    projects = amounts = 0
    for path in sorted(data_dir.glob("beispiel_massnahmen_*.csv")):
        code = path.stem.rsplit("_", 1)[-1]
        district = LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code=code
        )
        parsed = projects_read(path=path, file_name=path.name, district=district)
        result = projects_write(
            projects=parsed,
            district=district,
            source=EXAMPLE_SOURCE,
            licence=EXAMPLE_LICENCE,
            is_example=True,
        )
        projects += result["projects"]
        amounts += result["amounts"]
        say(
            f"  {path.name}: {result['projects']} Maßnahmen ({result['created']} neu, "
            f"{result['updated']} geändert, {result['unchanged']} unverändert), "
            f"{result['amounts']} Jahresbeträge geschrieben"
        )
    return {
        "programmes": programmes,
        "areas": areas,
        "projects": projects,
        "amounts": amounts,
    }
