"""Import of the real FIS-Broker point layers (Kitas, Schulen, Jugendfreizeit-
einrichtungen) into the register: one facility per feature, all or nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from datapool.parsers.contract import NUMBER, ImportValidationError, Problem
from lor.models import LorUnit

from .files import cell, read_gis
from .models import Facility, FacilityImport
from .selectors import planungsraum_codes
from .services import facility_types_ensure
from .types import GIS_FORMATS

WHOLE_NUMBER = re.compile(r"^\d+$")


def facility_import_unchanged(*, path: Path, type_key: str) -> bool:
    """Whether exactly this file (same name and content) is the type's import.

    A re-run then changes nothing, and edits made in the browser since stay.
    """
    path = Path(path)
    return FacilityImport.objects.filter(
        facility_type__key=type_key,
        file_name=path.name,
        checksum=hashlib.sha256(path.read_bytes()).hexdigest(),
    ).exists()


@transaction.atomic
def facilities_import_gis(
    *,
    path: Path,
    type_key: str,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Replace the facilities of this layer file with its features.

    Capacity is the layer's places attribute (text in the files); an empty
    value stays empty (not recorded), anything else that is not a whole number
    is a problem and nothing is written. The Planungsraum is found in PostGIS;
    a point outside Berlin is kept without one and counted.
    """
    fmt = GIS_FORMATS[type_key]
    facility_type = facility_types_ensure()[type_key]
    path = Path(path)
    file_name = path.name
    rows = read_gis(path, file_name)
    problems: list[Problem] = []
    codes = planungsraum_codes(geoms=[row.geom for row in rows])
    units = dict(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
        ).values_list("code", "id")
    )
    mapped = {
        fmt.key_attribute,
        fmt.name_attribute,
        fmt.capacity_attribute,
        fmt.operator_attribute,
    }
    facilities = []
    not_recorded = 0
    for row, code in zip(rows, codes, strict=True):
        capacity = None
        if fmt.capacity_attribute:
            raw = cell(row, fmt.capacity_attribute)
            if not raw:
                not_recorded += 1
            elif WHOLE_NUMBER.match(raw):
                capacity = Decimal(raw)
            else:
                problems.append(
                    Problem(
                        "Keine ganze Zahl von Plätzen.",
                        file_name,
                        line=row.line,
                        column=fmt.capacity_attribute,
                        value=raw,
                        kind=NUMBER,
                    )
                )
        facilities.append(
            Facility(
                facility_type=facility_type,
                name=cell(row, fmt.name_attribute)[:300],
                source_key=cell(row, fmt.key_attribute)[:80],
                geom=row.geom,
                unit_id=units.get(code) if code else None,
                capacity=capacity,
                operator=cell(row, fmt.operator_attribute)[:200],
                attributes={k: cell(row, k) for k in row.values if k not in mapped},
            )
        )
    if problems:
        raise ImportValidationError(problems)
    if progress:
        progress(len(facilities))
    replaced = 0
    earlier = FacilityImport.objects.filter(
        facility_type=facility_type, file_name=file_name
    )
    if earlier.exists():
        replaced = Facility.objects.filter(source_import__in=earlier).count()
        earlier.delete()
    summary = {
        "facilities": len(facilities),
        "replaced": replaced,
        "capacity_not_recorded": not_recorded
        if fmt.capacity_attribute
        else len(facilities),
        "without_planungsraum": sum(code is None for code in codes),
        "unknown_planungsraum": {},
    }
    record = FacilityImport.objects.create(
        facility_type=facility_type,
        file_name=file_name,
        checksum=hashlib.sha256(path.read_bytes()).hexdigest(),
        summary=summary,
    )
    for facility in facilities:
        facility.source_import = record
    Facility.objects.bulk_create(facilities, batch_size=2000)
    return summary
