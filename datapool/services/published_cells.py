"""Record of the confidential values that left the server in a pinned answer.

A pinned saved query keeps showing its answer after the data change. Suppression
must then treat those values as known (``datapool.confidentiality``), so the
pinning code records them here; datapool does not know the saved queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.db import transaction

from lor.models import LorUnit

from ..confidentiality import SHOWN, governing_variables, input_date
from ..models import Observation, PublishedCell, Variable


def _level_units(level: str) -> dict[str, int]:
    """Unit ids by code of a level ('planungsraum', …, or 'custom:<set id>')."""
    if level.startswith("custom:") and level[7:].isdigit():
        qs = LorUnit.objects.filter(
            scheme=LorUnit.Scheme.CUSTOM, area_set_id=int(level[7:])
        )
    else:
        qs = LorUnit.objects.filter(scheme=LorUnit.Scheme.LOR_2021, level=level)
    return dict(qs.values_list("code", "id"))


@transaction.atomic
def published_cells_record(
    *,
    level: str,
    columns: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """Every confidential value a pinned answer shows is recorded (idempotent).

    ``columns`` and ``rows`` have the shape of a saved query's snapshot: columns
    with ``key``, ``date`` (ISO) and ``derived``; rows with ``code``, the value
    under the column key and its status under ``<key>__status``. A column of a
    share or indicator records the values of its confidential inputs at the
    units where it is shown, since the shown ratio and a shown denominator give
    them back. Derived columns are formulas over the answer's own columns and
    add nothing. Returns the number of values offered (repeats are ignored).
    """
    units = _level_units(level)
    new: list[PublishedCell] = []
    for column in columns:
        if column.get("derived") or not column.get("date"):
            continue
        variable = Variable.objects.filter(key=column["key"]).first()
        if variable is None:
            continue
        ref_date = date.fromisoformat(column["date"])
        shown = {
            units[row["code"]]: row[column["key"]]
            for row in rows
            if row.get("code") in units
            and row.get(f"{column['key']}__status") in SHOWN
            and row.get(column["key"]) is not None
        }
        if not shown:
            continue
        for governing in governing_variables(variable=variable):
            if governing.id == variable.id:
                values = shown
                gov_date: date | None = ref_date
            else:
                gov_date = input_date(variable=governing, ref_date=ref_date)
                if gov_date is None:
                    continue
                values = dict(
                    Observation.objects.filter(
                        variable=governing,
                        ref_date=gov_date,
                        unit_id__in=shown,
                        status__in=SHOWN,
                    ).values_list("unit_id", "value")
                )
            new += [
                PublishedCell(
                    variable=governing, unit_id=unit_id, ref_date=gov_date, value=value
                )
                for unit_id, value in values.items()
            ]
    PublishedCell.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)
