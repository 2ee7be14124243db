"""Reads of saved queries: visibility, search and their answer (live or pinned)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.access import Role, user_bezirk_code, user_role
from datapool.models import ImportRun, Observation, Variable
from datapool.selectors import level_parse
from explorer.selection import (
    Cell,
    Column,
    Selection,
    SelectionResult,
    SelectionUnit,
    selection_evaluate,
)
from infrastructure.scenarios import scenario_list
from lor.models import LorUnit
from queries.models import SavedQuery


def _visible_q(user) -> Q:
    """Own queries; staff-shared ones; district-shared ones of the user's district.

    "All staff" means administrators, data coordinators and planners; "District"
    means the planners and coordinators of that district (and administrators,
    who see every district's). Guests see only their own (they cannot save any):
    shared answers may hold unreleased data. Lists, pages, the API and the
    exports all filter with this, so they agree.
    """
    own = Q(owner_id=user.pk)
    role = user_role(user)
    if role is None or role == Role.GUEST:
        return own
    staff = Q(sharing=SavedQuery.Sharing.STAFF)
    district = Q(sharing=SavedQuery.Sharing.DISTRICT)
    if role == Role.ADMIN:
        return own | staff | district
    code = user_bezirk_code(user)
    if code:
        return own | staff | (district & Q(district__code=code))
    return own | staff


def saved_query_visible(*, user, query: SavedQuery) -> bool:
    """Whether the user may see the query (see ``_visible_q``)."""
    return SavedQuery.objects.filter(_visible_q(user), pk=query.pk).exists()


def saved_query_list(*, user, q: str = "") -> QuerySet[SavedQuery]:
    """The user's own queries and those shared with them, searchable by text."""
    qs = SavedQuery.objects.filter(_visible_q(user)).select_related("owner", "district")
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(description__icontains=q)
            | Q(inquiry_reference__icontains=q)
        )
    return qs.order_by("-updated_at", "-pk")


def saved_query_get(*, pk: int, user) -> SavedQuery:
    """One query the user may see; ``SavedQuery.DoesNotExist`` otherwise."""
    return (
        SavedQuery.objects.filter(_visible_q(user))
        .select_related("owner", "district")
        .get(pk=pk)
    )


def selection_import_runs(*, result: SelectionResult) -> list[dict[str, Any]]:
    """The import runs whose observations the result's data columns were read from."""
    codes = [unit.code for unit in result.units]
    base, area_set = level_parse(result.selection.level)
    run_ids: set[int] = set()
    for column in result.columns:
        if column.derived or column.date is None:
            continue
        qs = Observation.objects.filter(
            variable__key=column.key,
            ref_date=column.date,
            unit__level=base,
            unit__code__in=codes,
        ).exclude(unit__scheme=LorUnit.Scheme.LOR_2006)
        if area_set:
            qs = qs.filter(unit__area_set_id=area_set)
        run_ids.update(qs.values_list("import_run_id", flat=True).distinct())
    runs = ImportRun.objects.filter(pk__in=run_ids).order_by("pk")
    return [
        {
            "id": run.pk,
            "kind": run.kind,
            "file": run.original_name,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        }
        for run in runs
    ]


def selection_answer(*, selection: Selection) -> dict[str, Any]:
    """The evaluated selection as plain JSON data: columns, rows and import runs.

    Raises ``SelectionError`` when the selection cannot be evaluated.
    """
    result = selection_evaluate(selection=selection)
    return {
        "evaluated_at": timezone.now().isoformat(),
        "columns": [
            {
                "key": c.key,
                "label": c.label,
                "unit": c.unit,
                "date": c.date.isoformat() if c.date else None,
                "derived": c.derived,
            }
            for c in result.columns
        ],
        "rows": result.rows(),
        "matches": len(result.matches),
        "import_runs": selection_import_runs(result=result),
    }


def saved_query_result(*, query: SavedQuery, current: bool = False) -> dict[str, Any]:
    """The query's answer: the pinned snapshot, or re-run on current data.

    A pinned query answers from its snapshot unless ``current`` is set; an
    unpinned query is always evaluated on the current data. ``source`` says which.
    Raises ``SelectionError`` when a live evaluation is impossible.
    """
    if query.pinned and query.snapshot and not current:
        return {**query.snapshot, "source": "snapshot"}
    answer = selection_answer(selection=Selection.from_dict(query.selection))
    return {**answer, "source": "current"}


def selection_column_names(*, keys: list[str]) -> dict[str, dict[str, str]]:
    """Name and unit of each variable key of a selection (unknown keys left out)."""
    return {
        v.key: {"name": v.name, "unit": v.unit}
        for v in Variable.objects.filter(key__in=keys).only("key", "name", "unit")
    }


def saved_query_snapshot_result(*, query: SavedQuery) -> SelectionResult:
    """The pinned answer as a ``SelectionResult``, for the explorer's exporters.

    Values, statuses, columns and matches come from the snapshot only, so an
    export says what was pinned whatever was imported since. Raises
    ``SavedQuery.DoesNotExist`` for a query without a pinned answer.
    """
    if not (query.pinned and query.snapshot):
        raise SavedQuery.DoesNotExist("The query has no pinned answer.")
    snapshot = query.snapshot
    columns = [
        Column(
            key=c["key"],
            label=c.get("label") or c["key"],
            unit=c.get("unit") or "",
            date=date.fromisoformat(c["date"]) if c.get("date") else None,
            derived=bool(c.get("derived")),
        )
        for c in snapshot["columns"]
    ]
    rows = snapshot["rows"]
    return SelectionResult(
        selection=Selection.from_dict(query.selection),
        columns=columns,
        units=[SelectionUnit(r["code"], r["name"]) for r in rows],
        cells={
            c.key: {
                r["code"]: Cell(r.get(c.key), r.get(f"{c.key}__status") or "missing")
                for r in rows
            }
            for c in columns
        },
        matches=[r["code"] for r in rows if r.get("match")],
    )


def saved_query_scenarios(*, query: SavedQuery, user) -> tuple[list, int]:
    """The attached planning scenarios the user may open, and how many others."""
    visible = scenario_list(user=user).filter(pk__in=query.scenarios.values("pk"))
    shown = list(visible)
    return shown, query.scenarios.count() - len(shown)
