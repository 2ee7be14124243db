"""The inspection of an uploaded table, in the worker: columns, sample rows, guesses.

A table uploaded through the web is read once, by a Celery task, never in a
request: the mapping page shows what the inspection stored on the run
(``ImportRun.inspection``) and polls the run while it is pending. Reading obeys
the limits of ``datapool.parsers.limits``, so a hostile file is refused with a
German message naming the limit, and nothing is written but the run's state.

The run's lifecycle is that of ``runs``: queued → running (a new attempt, a
compare-and-set) → draft (inspected, awaiting the mapping) or failed. A lost
attempt (failed by the stale sweep, restarted by a retry) changes nothing.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from ..models import ImportRun
from ..parsers.contract import ImportValidationError
from ..parsers.table import table_preview
from .runs import RunExecution, run_execute, run_requeue

logger = logging.getLogger(__name__)

FAILED_MESSAGE = "Die Tabelle kann nicht gelesen werden; es wurde nichts importiert."
TIMEOUT_MESSAGE = (
    "Das Lesen der Tabelle dauerte zu lange und wurde abgebrochen; es wurde nichts "
    "importiert. Bitte nur die benötigten Daten als eigene Datei hochladen."
)


class InspectionRefused(Exception):
    """The run cannot be inspected (again); the message says why (German)."""


def import_run_inspect_enqueue(*, import_run: ImportRun) -> ImportRun:
    """Mark a table run as awaiting inspection and queue the task after commit."""
    if not run_requeue(run=import_run, kind=ImportRun.Kind.TABLE, inspection={}):
        raise InspectionRefused("Diese Tabelle lässt sich nicht (mehr) prüfen.")
    import_run.refresh_from_db()
    return import_run


def import_run_inspect(*, import_run: ImportRun) -> ImportRun:
    """Read the table once within the limits; store its preview or fail the run."""
    run = import_run
    return run_execute(run=run, work=lambda execution: _inspect(run, execution))


def earlier_column_mappings(*, district, runs: int = 50) -> dict[str, str]:
    """Column header → catalogue variable, as the district's (or, without one,
    the Berlin-wide) successful table imports mapped them, the latest first."""
    found: dict[str, str] = {}
    options = (
        ImportRun.objects.filter(
            kind=ImportRun.Kind.TABLE,
            status=ImportRun.Status.SUCCEEDED,
            district=district,
        )
        .order_by("-pk")
        .values_list("options", flat=True)[:runs]
    )
    for option in options:
        columns = (option or {}).get("columns") or {}
        if not isinstance(columns, dict):
            continue
        for header, entry in columns.items():
            key = entry if isinstance(entry, str) else (entry or {}).get("variable")
            if key and header not in found:
                found[header] = str(key)
    return found


def _inspect(run: ImportRun, execution: RunExecution) -> None:
    execution.progress("inspect", 0, 1)
    try:
        preview = table_preview(
            Path(run.file.path),
            run.original_name,
            run.options,
            earlier=earlier_column_mappings(district=run.district),
        )
    except ImportValidationError as exc:
        execution.fail(
            FAILED_MESSAGE,
            [p.as_dict() for p in exc.problems],
            summary={"validation": True},
        )
        return
    except SoftTimeLimitExceeded as exc:
        execution.fail(f"{TIMEOUT_MESSAGE} ({exc})", [])
        return
    except Exception as exc:
        logger.exception("inspection of run %s failed", run.pk)
        execution.fail(
            "Beim Lesen der Tabelle ist ein unerwarteter Fehler aufgetreten; es "
            f"wurde nichts importiert. ({type(exc).__name__}: {exc})",
            [],
        )
        return
    if not execution.inspected(
        inspection=_jsonable(preview), rows_total=preview["rows_total"]
    ):
        logger.warning("inspection of run %s lost its run; nothing stored", run.pk)


def _jsonable(value: Any) -> Any:
    """The preview as JSON: dates become ISO strings, as form initials take them."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
