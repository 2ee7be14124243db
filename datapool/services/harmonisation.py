"""Harmonised sum variables: one variable, whichever delivery breaks it down.

Deliveries break the same population down differently: the EWR matrix by U1,
1U6, 6U15, …, the half-yearly tables by under 6, 6–15, 18–27, …. The catalogue
states which variables are sums of others (``VariableComponent``, kept as data
in ``datapool/metadata/variable_components.csv``), and this module derives a
sum wherever its components are there, so an indicator over the sum has a
value for every reference date, from whichever delivery has it.

Rules:

* A sum is derived per unit and reference date where *every* component has a
  value row (at every level, custom areas included: the components carry
  aggregates there). Where a component has no row at all, nothing is derived.
* A delivered value of the sum itself takes precedence: for a reference date on
  which the sum was delivered (at any level), nothing is derived, and a later
  delivery of the sum replaces the derived values of its date.
* Status: all components ``ok`` → ``ok`` (``estimated`` if any is); a
  suppressed component makes the sum ``suppressed`` (a sum without one of its
  parts would pass for the whole), else ``missing``; ``incomplete`` is carried
  over from the components (aggregates over suppressed units).
* Derived values are computed (``is_aggregate``), note „Summe aus A + B“, and
  belong to the run that caused them. Sums of sums are derived in order.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from ..models import ImportRun, Observation, Variable, VariableComponent

OBS = Observation._meta.db_table
SOURCE = (
    "Amt für Statistik Berlin-Brandenburg: Einwohnerregisterstatistik "
    "(EWR-Matrix) und Statistischer Bericht A I 16 (Halbjahrestabellen je LOR, "
    "aufbereitet von open-data-product)"
)
LICENSE = "CC BY 3.0 DE (AfS); Aufbereitung CC BY 4.0"


def components_path() -> Path:
    return Path(settings.BASE_DIR) / "datapool" / "metadata" / "variable_components.csv"


def component_keys(text: str) -> list[str]:
    """``"E_EU1 + E_E1U6"`` → ``["E_EU1", "E_E1U6"]``."""
    return [part.strip() for part in text.split("+") if part.strip()]


@transaction.atomic
def variable_components_load(*, path: Path | None = None) -> int:
    """Create or update the sum variables and their components kept in the CSV.

    Components the catalogue lacks are defined as placeholders until a delivery
    brings them; sums the catalogue lacks get the file's documentation.
    Idempotent.
    """
    count = 0
    with (path or components_path()).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            keys = component_keys(row["components"])
            documented = {
                "name": row["name"],
                "unit": row["unit"],
                "description": row["description"],
                "definition": "Summe aus " + " + ".join(keys),
                "theme": "bevoelkerung",
                "value_type": Variable.ValueType.COUNT,
                "aggregation": Variable.Aggregation.SUM,
                "source": SOURCE,
                "license": LICENSE,
                "delivery_cycle": Variable.DeliveryCycle.SEMIANNUAL,
                "metadata_complete": True,
            }
            total, created = Variable.objects.get_or_create(
                key=row["key"], defaults=documented
            )
            if not created and not total.metadata_complete:
                for field, value in documented.items():
                    setattr(total, field, value)
                total.save()
            elif not total.definition:
                total.definition = documented["definition"]
                total.save(update_fields=["definition", "updated_at"])
            components = [_component(key) for key in keys]
            VariableComponent.objects.filter(total=total).exclude(
                component__in=components
            ).delete()
            for component in components:
                VariableComponent.objects.get_or_create(
                    total=total, component=component
                )
            count += 1
    return count


def _component(key: str) -> Variable:
    variable, _ = Variable.objects.get_or_create(
        key=key,
        defaults={
            "name": key,
            "metadata_complete": False,
            "theme": "bevoelkerung",
            "description": "Bestandteil einer Summenvariable; noch nicht geliefert.",
        },
    )
    return variable


def sum_definitions() -> list[tuple[Variable, list[Variable]]]:
    """Every sum with its components, components' sums before the sums using them."""
    links: dict[int, list[Variable]] = {}
    totals: dict[int, Variable] = {}
    for link in VariableComponent.objects.select_related("total", "component"):
        totals[link.total_id] = link.total
        links.setdefault(link.total_id, []).append(link.component)
    ordered: list[tuple[Variable, list[Variable]]] = []
    done: set[int] = set()

    def visit(total_id: int, path: frozenset[int]) -> None:
        if total_id in done or total_id in path:  # a cycle derives nothing more
            return
        for component in links[total_id]:
            if component.id in links:
                visit(component.id, path | {total_id})
        done.add(total_id)
        ordered.append((totals[total_id], links[total_id]))

    for total_id in links:
        visit(total_id, frozenset())
    return ordered


def harmonised_sums_derive(
    *,
    import_run: ImportRun,
    variable_ids: Iterable[int] | None = None,
    ref_dates: Iterable[date] | None = None,
) -> list[int]:
    """Derive the sums that depend on these variables (all: None) for these dates.

    Returns the ids of the sums derived; the caller is atomic and refreshes
    their coverage.
    """
    touched = set(variable_ids) if variable_ids is not None else None
    dates = sorted(set(ref_dates)) if ref_dates is not None else None
    derived: list[int] = []
    with connection.cursor() as cursor:
        for total, components in sum_definitions():
            ids = [c.id for c in components]
            if touched is not None:
                if not touched & set(ids):
                    continue
                touched.add(total.id)
            delivered = sorted(
                set(
                    Observation.objects.filter(variable=total, is_aggregate=False)
                    .values_list("ref_date", flat=True)
                    .distinct()
                )
            )
            _derive(cursor, total, components, dates, delivered, import_run.id)
            derived.append(total.id)
    return derived


def _derive(cursor, total, components, dates, delivered, run_id) -> None:
    params = {
        "total": total.id,
        "components": [c.id for c in components],
        "n": len(components),
        "dates": dates,
        "delivered": delivered,
        "note": "Summe aus " + " + ".join(c.key for c in components),
        "run": run_id,
    }
    when = "AND (%(dates)s::date[] IS NULL OR ref_date = ANY(%(dates)s::date[]))"
    cursor.execute(
        f"DELETE FROM {OBS} WHERE variable_id = %(total)s AND is_aggregate "
        f"AND ref_date <> ALL(%(delivered)s::date[]) {when}",
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO {OBS} (variable_id, unit_id, ref_date, value, status,
                           is_aggregate, incomplete, note, import_run_id)
        SELECT %(total)s, unit_id, ref_date,
               CASE WHEN bool_and(status IN ('ok', 'estimated')) THEN sum(value) END,
               CASE WHEN bool_and(status IN ('ok', 'estimated'))
                         AND bool_or(status = 'estimated') THEN 'estimated'
                    WHEN bool_and(status IN ('ok', 'estimated')) THEN 'ok'
                    WHEN bool_or(status = 'suppressed') THEN 'suppressed'
                    ELSE 'missing' END,
               true, bool_or(incomplete), %(note)s, %(run)s
        FROM {OBS}
        WHERE variable_id = ANY(%(components)s)
          AND ref_date <> ALL(%(delivered)s::date[]) {when}
        GROUP BY unit_id, ref_date
        HAVING count(*) = %(n)s
        """,
        params,
    )
