"""Reads of the Datenpool: catalogue, coverage, values per level and date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from lor.models import LorUnit

from .models import Coverage, ImportRun, Observation, Variable


def variable_list(
    *,
    q: str = "",
    theme: str = "",
    supplier: int | None = None,
    level: str = "",
) -> QuerySet[Variable]:
    """The catalogue, searchable by text and filterable by theme, supplier and level."""
    qs = Variable.objects.select_related("supplier")
    if q:
        qs = qs.filter(
            Q(key__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q)
        )
    if theme:
        qs = qs.filter(theme=theme)
    if supplier:
        qs = qs.filter(supplier_id=supplier)
    if level:
        qs = qs.filter(
            Exists(
                Coverage.objects.filter(
                    variable=OuterRef("pk"), level=level, values__gt=0
                )
            )
        )
    return qs.order_by("theme", "key")


def variable_get(*, key: str) -> Variable:
    return Variable.objects.select_related(
        "supplier", "numerator", "denominator", "weight", "district"
    ).get(key=key)


def variable_coverage(*, variable: Variable) -> dict:
    """Levels × reference dates with the number of values (for the variable page)."""
    rows = list(Coverage.objects.filter(variable=variable))
    dates = sorted({c.ref_date for c in rows})
    levels = [lvl for lvl in LorUnit.Level.values if any(c.level == lvl for c in rows)]
    cells = {(c.level, c.ref_date): c for c in rows}
    return {"dates": dates, "levels": levels, "cells": cells}


def variable_dates(*, variable: Variable, level: str | None = None) -> list[date]:
    qs = Coverage.objects.filter(variable=variable)
    if level:
        qs = qs.filter(level=level)
    return sorted(set(qs.values_list("ref_date", flat=True)))


def variable_latest_date(
    *, variable: Variable, level: str | None = None
) -> date | None:
    dates = variable_dates(variable=variable, level=level)
    return dates[-1] if dates else None


def variable_berlin_series(
    *, variable: Variable
) -> list[tuple[date, float | None, str]]:
    return list(
        Observation.objects.filter(variable=variable, unit__level=LorUnit.Level.BERLIN)
        .order_by("ref_date")
        .values_list("ref_date", "value", "status")
    )


@dataclass
class ValueRow:
    code: str
    name: str
    value: float | None
    status: str
    incomplete: bool
    is_aggregate: bool
    note: str


def observation_values(
    *, variable: Variable, level: str, ref_date: date
) -> list[ValueRow]:
    """One row per unit of the level; units without a value show as 'missing'."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT u.code, u.name, o.value, coalesce(o.status, 'missing'),
                   coalesce(o.incomplete, false), coalesce(o.is_aggregate, false),
                   coalesce(o.note, '')
            FROM {LorUnit._meta.db_table} u
            LEFT JOIN {Observation._meta.db_table} o
              ON o.unit_id = u.id AND o.variable_id = %s AND o.ref_date = %s
            WHERE u.level = %s AND u.scheme = %s
            ORDER BY u.code
            """,
            [variable.id, ref_date, level, LorUnit.Scheme.LOR_2021],
        )
        return [ValueRow(*row) for row in cursor.fetchall()]


def import_run_list(*, user=None) -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("created_by", "district").order_by(
        "-created_at"
    )


def import_run_get(*, pk: int) -> ImportRun:
    return ImportRun.objects.select_related("created_by", "district").get(pk=pk)


def import_run_variables(*, import_run: ImportRun) -> QuerySet[Variable]:
    return (
        Variable.objects.filter(deliveries__import_run=import_run)
        .distinct()
        .order_by("key")
    )
