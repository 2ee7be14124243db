"""Writes of the facility register: table imports and the supply in the Datenpool."""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from datapool.models import Delivery, ImportRun, Variable
from datapool.parsers.contract import (
    NUMBER,
    UNKNOWN_KEY,
    ObservationRow,
    Problem,
    ProblemList,
    VariableSpec,
)
from datapool.services.aggregation import observations_aggregate
from datapool.services.catalogue import variables_upsert
from datapool.services.indicators import indicator_compute, indicators_for_variables
from datapool.services.observations import coverage_refresh, observations_replace
from datapool.themes import catalogue_theme
from lor import hierarchy
from lor.models import LorUnit

from .models import Facility, FacilityImport, FacilityType
from .selectors import supply_by_planungsraum
from .types import DEFAULT_TYPES, FORMATS

NOT_RECORDED = {"-", ""}
PLR_CODE = re.compile(rf"^\d{{{hierarchy.key_length(hierarchy.PLANUNGSRAUM)}}}$")
NUMBER_PATTERNS = {
    # Decimal comma, optionally with thousands points (1.234,5).
    ",": re.compile(r"^(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$"),
    ".": re.compile(r"^\d+(\.\d+)?$"),
}


def facility_types_ensure() -> dict[str, FacilityType]:
    """The built-in types, created if missing; curated fields stay as edited.

    A field still empty (a type created before the field was known) is filled.
    """
    result = {}
    for key, fields in DEFAULT_TYPES.items():
        facility_type, created = FacilityType.objects.get_or_create(
            key=key, defaults=fields
        )
        empty = [f for f in fields if not getattr(facility_type, f)]
        if not created and empty:
            for f in empty:
                setattr(facility_type, f, fields[f])
            facility_type.save(update_fields=empty)
        result[key] = facility_type
    return result


def _capacity(text: str, decimal: str) -> Decimal | None:
    """The number written with this decimal separator, or None if it is none."""
    if not NUMBER_PATTERNS[decimal].match(text):
        return None
    if decimal == ",":
        text = text.replace(".", "").replace(",", ".")
    return Decimal(text)


@transaction.atomic
def facilities_import(
    *,
    path: Path,
    type_key: str,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Replace the facilities of this file (by name) with its rows, all or nothing.

    ``-`` (not recorded) leaves the capacity empty; such rows are kept and
    counted. A Planungsraum key that is well-formed but not in LOR 2021 (the
    files carry an old 2006 key) leaves the facility without a unit and is
    reported; anything unreadable is a problem and nothing is written.
    """
    fmt = FORMATS[type_key]
    facility_type = facility_types_ensure()[type_key]
    path = Path(path)
    file_name = path.name
    units = dict(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
        ).values_list("code", "id")
    )
    problems = ProblemList()
    facilities: list[Facility] = []
    not_recorded = 0
    without_unit = 0
    unknown_units: Counter[str] = Counter()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=fmt.delimiter)
        header = reader.fieldnames or []
        for column in (fmt.capacity_column, fmt.unit_column, fmt.key_column):
            if column not in header:
                problems.add(
                    Problem(
                        f"Die Spalte fehlt (Trennzeichen „{fmt.delimiter}“ erwartet).",
                        file_name,
                        line=1,
                        column=column,
                    )
                )
        problems.raise_if_any()
        for row in reader:
            line = reader.line_num
            raw = (row.get(fmt.capacity_column) or "").strip()
            capacity = None
            if raw in NOT_RECORDED:
                not_recorded += 1
            else:
                capacity = _capacity(raw, fmt.decimal)
                if capacity is None:
                    separator = "Dezimalkomma" if fmt.decimal == "," else "Dezimalpunkt"
                    problems.add(
                        Problem(
                            f"Keine gültige Fläche (Zahl mit {separator} "
                            "oder „-“ für nicht erfasst erwartet).",
                            file_name,
                            line=line,
                            column=fmt.capacity_column,
                            value=raw,
                            kind=NUMBER,
                        )
                    )
            code = (row.get(fmt.unit_column) or "").strip()
            unit_id = None
            if code in NOT_RECORDED:
                without_unit += 1
            elif not PLR_CODE.match(code):
                problems.add(
                    Problem(
                        "Kein Planungsraumschlüssel (acht Ziffern oder „-“ erwartet).",
                        file_name,
                        line=line,
                        column=fmt.unit_column,
                        value=code,
                        kind=UNKNOWN_KEY,
                    )
                )
            elif code not in units:
                without_unit += 1
                unknown_units[code] += 1
            else:
                unit_id = units[code]
            facilities.append(
                Facility(
                    facility_type=facility_type,
                    name=(row.get(fmt.name_column) or "").strip()[:300],
                    source_key=(row.get(fmt.key_column) or "").strip()[:80],
                    unit_id=unit_id,
                    capacity=capacity,
                    operator=(row.get(fmt.operator_column) or "").strip()[:200]
                    if fmt.operator_column
                    else "",
                )
            )
            if progress and len(facilities) % 500 == 0:
                progress(len(facilities))
    problems.raise_if_any()
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
        "capacity_not_recorded": not_recorded,
        "without_planungsraum": without_unit,
        "unknown_planungsraum": dict(sorted(unknown_units.items())),
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
    if progress:
        progress(len(facilities))
    return summary


def _supply_spec(facility_type: FacilityType, on: date) -> VariableSpec:
    return VariableSpec(
        key=facility_type.supply_variable,
        name=f"{facility_type.name}: {facility_type.capacity_unit}",
        # Filed where the indicators built on it are (Wohnen und Grün).
        theme=catalogue_theme("wohnen_gruen"),
        unit="m²"
        if "m²" in facility_type.capacity_unit
        else facility_type.capacity_unit,
        value_type=Variable.ValueType.AMOUNT,
        aggregation=Variable.Aggregation.SUM,
        description=(
            f"Summe der Kapazität ({facility_type.capacity_unit}) aller Einrichtungen "
            f"des Typs „{facility_type.name}“ im Einrichtungsregister, die am "
            "Stichtag bestehen; nicht erfasste Kapazitäten zählen nicht."
        ),
        definition=f"Summe Kapazität je Planungsraum ({facility_type.key})",
        source=facility_type.source or "PRISMA: Einrichtungsregister",
        license=facility_type.license[:120],
    )


@transaction.atomic
def supply_publish(*, on: date, type_keys: list[str] | None = None) -> dict:
    """Write the supply of each type with a supply variable into the Datenpool.

    Every Planungsraum gets a value for the date: a Planungsraum without a
    facility has a supply of 0. Aggregates, coverage and the indicators that use
    the variables are recomputed, so the Kernindikatoren follow the register.
    """
    types = FacilityType.objects.exclude(supply_variable="")
    if type_keys is not None:
        types = types.filter(key__in=type_keys)
    types = list(types)
    if not types:
        return {"variables": 0, "values": 0}
    codes = list(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
        ).values_list("code", flat=True)
    )
    now = timezone.now()
    run = ImportRun.objects.create(
        kind=ImportRun.Kind.COMPUTATION,
        status=ImportRun.Status.SUCCEEDED,
        original_name=f"Versorgung aus dem Einrichtungsregister ({on:%d.%m.%Y})",
        options={"infrastructure_supply": [t.key for t in types]},
        started_at=now,
        finished_at=now,
        percent=100,
    )
    rows = []
    for facility_type in types:
        supply = supply_by_planungsraum(facility_type=facility_type, on=on)
        rows.extend(
            ObservationRow(
                facility_type.supply_variable,
                code,
                on,
                float(supply.get(code, 0)),
                "ok",
                "",
            )
            for code in codes
        )
    variables = variables_upsert(
        specs=[_supply_spec(t, on) for t in types],
        supplier=None,
        lowest_level=hierarchy.PLANUNGSRAUM,
    )
    result = observations_replace(import_run=run, rows=rows, variables=variables)
    aggregated = observations_aggregate(
        variables=list(variables.values()), ref_dates=[on], import_run=run
    )
    Delivery.objects.bulk_create(
        [
            Delivery(
                import_run=run,
                variable_id=v.id,
                ref_date=on,
                level=result.levels[(v.id, on)],
                values=len(codes),
                replaced=result.replaced.get((v.id, on), 0),
            )
            for v in variables.values()
        ]
    )
    var_ids = [v.id for v in variables.values()]
    Variable.objects.filter(id__in=var_ids).update(last_delivery=timezone.localdate())
    coverage_refresh(variable_ids=var_ids, ref_dates=[on])
    indicators = indicators_for_variables(variable_ids=var_ids)
    computed = sum(indicator_compute(indicator=i, run=run) for i in indicators)
    coverage_refresh(variable_ids=[i.variable_id for i in indicators])
    summary = {
        "ref_date": on.isoformat(),
        "variables": len(variables),
        "values": result.written,
        "aggregates": aggregated,
        "indicators": sorted(i.variable.key for i in indicators),
        "indicator_values": computed,
    }
    run.rows_written = result.written
    run.summary = summary
    run.save(update_fields=["rows_written", "summary"])
    return summary
