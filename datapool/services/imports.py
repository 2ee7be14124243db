"""The life of an import run: create, queue, execute with progress, fail, retry."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import File
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.models import AuditEvent
from datapool.access import require_import_run_edit
from lor.models import LorUnit

from ..models import Coverage, Delivery, ImportRun, Observation, Variable
from ..parsers.contract import ImportValidationError, ParsedDelivery, Problem
from ..parsers.registry import parser_for
from .aggregation import observations_aggregate
from .catalogue import supplier_get_or_create, variables_upsert
from .facilities import facility_layer_replace
from .observations import observation_statistics_refresh, observations_replace

logger = logging.getLogger(__name__)

# A running import writes a heartbeat at least this often; one that stays
# silent longer lost its worker.
STALE_AFTER = timedelta(minutes=5)

PHASES = {  # phase: (start %, end %)
    "compute": (0, 98),
    "read": (0, 40),
    "write": (40, 80),
    "aggregate": (80, 98),
}


def _progress_db() -> str:
    """The alias whose connection publishes progress outside the import transaction."""
    return settings.PRISMA_PROGRESS_DB


class ImportRunNotRetryable(Exception):
    pass


def import_run_create(
    *,
    kind: str,
    path: Path | None = None,
    upload=None,
    original_name: str,
    user=None,
    options: dict | None = None,
    district: LorUnit | None = None,
    status: str = ImportRun.Status.QUEUED,
) -> ImportRun:
    """Store the file (outside the web root) and record the run; nothing is read yet.

    With a ``user`` (uploads through UI or API) the roles apply: coordinators
    upload for their own district only (their district is the default), and
    Berlin-wide data is for administrators; ``PermissionDenied`` otherwise.
    Without a user (command line) the caller is trusted.
    """
    if user is not None:
        district = _upload_district(user=user, district=district)
    run = ImportRun(
        kind=kind,
        original_name=original_name,
        created_by=user if user and user.is_authenticated else None,
        options=options or {},
        district=district,
        status=status,
    )
    if upload is not None:
        run.file.save(Path(original_name).name, upload, save=False)
    else:
        with Path(path).open("rb") as fh:
            run.file.save(Path(original_name).name, File(fh), save=False)
    run.checksum = _sha256(run.file)
    run.full_clean(exclude=["file"])
    run.save()
    audit_record(
        user=user,
        action=AuditEvent.Action.CREATE,
        obj=run,
        details={
            "file": original_name,
            "kind": kind,
            "district": district.code if district else None,
            "checksum": run.checksum,
        },
    )
    return run


def _upload_district(*, user, district: LorUnit | None) -> LorUnit | None:
    from core.access import (
        Role,
        import_allowed,
        require_data_edit,
        user_bezirk_code,
        user_role,
    )

    if not import_allowed(user):
        raise PermissionDenied(
            _("Only data coordinators and administrators may upload data.")
        )
    own = user_bezirk_code(user)
    if district is None and own and user_role(user) == Role.COORDINATOR:
        district = LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code=own
        )
    require_data_edit(user=user, bezirk_code=district.code if district else None)
    return district


def _sha256(field_file) -> str:
    digest = hashlib.sha256()
    field_file.open("rb")
    try:
        for chunk in field_file.chunks():
            digest.update(chunk)
    finally:
        field_file.close()
    return digest.hexdigest()


def import_run_enqueue(*, import_run: ImportRun) -> None:
    """Hand the run to the worker once the surrounding transaction commits."""
    from ..tasks import import_run_execute_task

    ImportRun.objects.filter(pk=import_run.pk).update(
        status=ImportRun.Status.QUEUED,
        error="",
        report=[],
        percent=0,
        phase="",
        task_id="",
    )

    transaction.on_commit(
        lambda: task_send(task=import_run_execute_task, run_id=import_run.pk)
    )


# A run whose task could not be handed to the broker stays queued with this
# phase; import_runs_send_queued sends it once the broker answers again.
UNSENT = "unsent"
UNSENT_MESSAGE = (
    "Die Hintergrundverarbeitung ist gerade nicht erreichbar. Die Datei ist "
    "gespeichert und der Auftrag bleibt in der Warteschlange; er startet "
    "automatisch, sobald die Verarbeitung wieder erreichbar ist."
)
# Publishing must not keep a request waiting on a dead broker: one quick attempt,
# no reconnect loop. Workers keep their own, patient connection settings.
PUBLISH_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}


def task_send(*, task, run_id: int) -> bool:
    """Queue a run's task; if the broker is down the run stays queued, marked unsent."""
    try:
        with task.app.connection_for_write(
            connect_timeout=2, transport_options=PUBLISH_TRANSPORT_OPTIONS
        ) as conn:
            # Outcomes live in the run's row: no result backend is involved, so a
            # dead Redis cannot stall the sender in the backend's reconnect loop.
            result = task.apply_async(
                args=[run_id], connection=conn, retry=False, ignore_result=True
            )
    except Exception:  # kombu and redis raise several connection errors
        logger.warning("could not queue run %s; it stays queued", run_id, exc_info=True)
        ImportRun.objects.filter(pk=run_id).update(
            error=UNSENT_MESSAGE, phase=UNSENT, task_id=""
        )
        return False
    # A worker that already picked the run up has replaced the phase itself.
    ImportRun.objects.filter(pk=run_id, phase=UNSENT).update(error="", phase="")
    ImportRun.objects.filter(pk=run_id).update(task_id=result.id or "")
    return True


def import_runs_send_queued() -> int:
    """Hand every queued run that never reached the broker to it; returns how many."""
    from ..tasks import import_run_execute_task, indicator_run_execute_task

    sent = 0
    with transaction.atomic():
        # Locked rows belong to a concurrent sweep; it sends them.
        runs = list(
            ImportRun.objects.select_for_update(skip_locked=True)
            .filter(status=ImportRun.Status.QUEUED, phase=UNSENT)
            .order_by("pk")
            .values_list("pk", "kind")
        )
        for pk, kind in runs:
            task = (
                indicator_run_execute_task
                if kind == ImportRun.Kind.COMPUTATION
                else import_run_execute_task
            )
            if not task_send(task=task, run_id=pk):
                break  # the broker is still down; the next sweep tries again
            sent += 1
    return sent


class _Progress:
    """Writes progress through its own connection so pollers see it mid-transaction."""

    def __init__(self, run: ImportRun, echo=None):
        self.run = run
        self.echo = echo
        self.phase = ""
        self._last = -1

    def set(self, phase: str, done: int, total: int, **fields) -> None:
        start, end = PHASES.get(phase, (0, 100))
        percent = start + int((end - start) * (done / total if total else 1))
        if phase == self.phase and percent == self._last and not fields:
            return
        self.phase, self._last = phase, percent
        ImportRun.objects.using(_progress_db()).filter(pk=self.run.pk).update(
            phase=phase, percent=percent, heartbeat_at=timezone.now(), **fields
        )
        if self.echo:
            self.echo(phase, percent)

    def callback(self, phase: str, field_name: str):
        def report(done: int, total: int) -> None:
            self.set(phase, done, total, **{field_name: done, "rows_total": total})

        return report


def import_run_execute(*, import_run: ImportRun, echo=None) -> ImportRun:
    """Read, validate and write one run, all or nothing; the run records the outcome."""
    run = import_run
    if run.status in {ImportRun.Status.SUCCEEDED, ImportRun.Status.RUNNING}:
        return run
    now = timezone.now()
    ImportRun.objects.using(_progress_db()).filter(pk=run.pk).update(
        status=ImportRun.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        error="",
        report=[],
        percent=0,
        rows_read=0,
        rows_written=0,
        attempts=run.attempts + 1,
    )
    progress = _Progress(run, echo)
    try:
        parser = parser_for(run.kind)
        delivery: ParsedDelivery = parser(
            Path(run.file.path),
            file_name=run.original_name,
            options=run.options,
            progress=progress.callback("read", "rows_read"),
        )
        if delivery.unknown_keys:
            return _needs_review(run, delivery)
        if run.district_id:
            _check_district_rows(run, delivery)
        with transaction.atomic():
            summary = _write(run, delivery, progress)
            ImportRun.objects.filter(pk=run.pk).update(
                status=ImportRun.Status.SUCCEEDED,
                finished_at=timezone.now(),
                percent=100,
                phase="done",
                rows_written=summary["values"],
                summary=summary,
                report=[w.as_dict() for w in delivery.warnings[:200]],
            )
            audit_record(
                user=run.created_by,
                action=AuditEvent.Action.IMPORT,
                obj=run,
                details={
                    key: summary.get(key)
                    for key in ("variables", "ref_dates", "values", "replaced")
                }
                | {"district": run.district.code if run.district else None},
            )
        observation_statistics_refresh()
    except ImportValidationError as exc:
        _fail(
            run,
            "Die Datei wurde nicht importiert.",
            [p.as_dict() for p in exc.problems],
        )
    except Exception as exc:
        logger.exception("import run %s failed", run.pk)
        _fail(
            run,
            "Beim Import ist ein unerwarteter Fehler aufgetreten; es wurde nichts "
            f"geändert. ({type(exc).__name__}: {exc})",
            [],
        )
    run.refresh_from_db()
    return run


def _check_district_rows(run: ImportRun, delivery: ParsedDelivery) -> None:
    """A district's upload holds only its own units and its own variables."""
    district = run.district
    problems = []
    if run.kind == ImportRun.Kind.POINTS:
        # A point layer counts every Planungsraum of Berlin; outside the district
        # those are zeros that say nothing. Points outside it are still refused.
        delivery.rows = [
            row for row in delivery.rows if row[1][:2] == district.code or row[3]
        ]
    outside = sorted({row[1] for row in delivery.rows if row[1][:2] != district.code})
    for code in outside[:20]:
        problems.append(
            Problem(
                f"Der Schlüssel {code} liegt nicht im Bezirk {district.code} "
                f"{district.name}; ein Bezirk darf nur Daten seines eigenen "
                "Bezirks hochladen.",
                run.original_name,
                value=code,
            )
        )
    foreign = Variable.objects.filter(
        key__in=[spec.key for spec in delivery.variables]
    ).exclude(district=district)
    for variable in foreign.order_by("key")[:20]:
        owner = (
            f"des Bezirks {variable.district.code}"
            if variable.district_id
            else "berlinweit (nur Administration)"
        )
        problems.append(
            Problem(
                f"Die Variable {variable.key} gehört nicht diesem Bezirk, sondern "
                f"ist {owner} geführt; bitte einen eigenen Variablenschlüssel "
                "verwenden.",
                run.original_name,
                column=variable.key,
            )
        )
    if problems:
        raise ImportValidationError(problems)


def _write(run: ImportRun, delivery: ParsedDelivery, progress: _Progress) -> dict:
    supplier = supplier_get_or_create(code=delivery.supplier, district=run.district)
    extra = (
        facility_layer_replace(import_run=run, layer=delivery.facility_layer)
        if delivery.facility_layer
        else {}
    )
    levels = dict(LorUnit.objects.values_list("code", "level"))
    delivered_levels = {levels[row[1]] for row in delivery.rows}
    finest = next(
        (lvl for lvl in reversed(LorUnit.Level.values) if lvl in delivered_levels),
        LorUnit.Level.PLANUNGSRAUM,
    )
    variables = variables_upsert(
        specs=delivery.variables,
        supplier=supplier,
        lowest_level=finest,
        district=run.district,
    )
    result = observations_replace(
        import_run=run,
        rows=delivery.rows,
        variables=variables,
        progress=progress.callback("write", "rows_written"),
    )
    progress.set("aggregate", 0, 1)
    touched = list(variables.values())
    aggregated = observations_aggregate(
        variables=touched, ref_dates=delivery.ref_dates, import_run=run
    )
    suppressed: dict[tuple[int, object], int] = {}
    counts: dict[tuple[int, object], int] = {}
    var_ids = {k: v.id for k, v in variables.items()}
    for key, _code, ref_date, _value, status, _note in delivery.rows:
        pair = (var_ids[key], ref_date)
        counts[pair] = counts.get(pair, 0) + 1
        if status == Observation.Status.SUPPRESSED:
            suppressed[pair] = suppressed.get(pair, 0) + 1
    Delivery.objects.bulk_create(
        [
            Delivery(
                import_run=run,
                variable_id=variable_id,
                ref_date=ref_date,
                level=result.levels[(variable_id, ref_date)],
                values=n,
                suppressed=suppressed.get((variable_id, ref_date), 0),
                replaced=result.replaced.get((variable_id, ref_date), 0),
            )
            for (variable_id, ref_date), n in counts.items()
        ]
    )
    today = timezone.localdate()
    Variable.objects.filter(id__in=var_ids.values()).update(last_delivery=today)
    coverage_refresh(
        variable_ids=_with_dependants(var_ids.values()), ref_dates=delivery.ref_dates
    )
    _schedule_indicators(variable_ids=var_ids.values(), user=run.created_by)
    progress.set("aggregate", 1, 1)
    return {
        "variables": len(variables),
        "incomplete_metadata": sorted(
            k for k, v in variables.items() if not v.metadata_complete
        ),
        "ref_dates": sorted(d.isoformat() for d in delivery.ref_dates),
        "values": result.written,
        "suppressed": sum(suppressed.values()),
        "replaced": sum(result.replaced.values()),
        "aggregates": aggregated,
        "units": len({row[1] for row in delivery.rows}),
        "skipped_or_mapped": [w.as_dict() for w in delivery.warnings[:20]],
        **delivery.extra,
        **extra,
    }


def _schedule_indicators(*, variable_ids, user) -> None:
    """After the import commits, recompute the indicators that use its variables."""
    from ..tasks import indicator_run_execute_task
    from .indicators import indicator_run_create

    computation = indicator_run_create(variable_ids=list(variable_ids), user=user)
    if computation is not None:
        transaction.on_commit(
            lambda: task_send(task=indicator_run_execute_task, run_id=computation.pk)
        )


def _with_dependants(variable_ids) -> list[int]:
    ids = set(variable_ids)
    for v in Variable.objects.filter(
        aggregation__in=[Variable.Aggregation.RATIO, Variable.Aggregation.WEIGHTED_MEAN]
    ):
        if {v.numerator_id, v.denominator_id, v.weight_id} & ids:
            ids.add(v.id)
    return sorted(ids)


def coverage_refresh(*, variable_ids: list[int], ref_dates=None) -> None:
    """Recount values per variable, level and date (all or the given dates)."""
    dates = sorted(set(ref_dates)) if ref_dates is not None else None
    stale = Coverage.objects.filter(variable_id__in=variable_ids)
    if dates is not None:
        stale = stale.filter(ref_date__in=dates)
    stale.delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Coverage._meta.db_table}
                (variable_id, level, ref_date, units, values, suppressed, missing,
                 incomplete, aggregated)
            SELECT o.variable_id, u.level, o.ref_date, count(*),
                   count(*) FILTER (WHERE o.status IN ('ok', 'estimated')),
                   count(*) FILTER (WHERE o.status = 'suppressed'),
                   count(*) FILTER (WHERE o.status = 'missing'),
                   count(*) FILTER (WHERE o.incomplete),
                   bool_and(o.is_aggregate)
            FROM {Observation._meta.db_table} o
            JOIN {LorUnit._meta.db_table} u ON u.id = o.unit_id
            WHERE o.variable_id = ANY(%(ids)s)
              AND (%(dates)s::date[] IS NULL OR o.ref_date = ANY(%(dates)s::date[]))
            GROUP BY o.variable_id, u.level, o.ref_date
            """,
            {"ids": variable_ids, "dates": dates},
        )


def _needs_review(run: ImportRun, delivery: ParsedDelivery) -> ImportRun:
    keys = [k.as_dict() for k in delivery.unknown_keys]
    problems = [
        Problem(
            f"Schlüssel {k.key} gibt es im LOR 2021 nicht"
            + (
                f"; Vorschlag: {k.suggestion} ({k.suggestion_name})"
                if k.suggestion
                else ""
            ),
            run.original_name,
            line=k.line,
            column="RAUMID" if run.kind == ImportRun.Kind.EWR else None,
            value=k.key,
        ).as_dict()
        for k in delivery.unknown_keys
    ]
    ImportRun.objects.using(_progress_db()).filter(pk=run.pk).update(
        status=ImportRun.Status.REVIEW,
        summary={"unknown_keys": keys},
        report=problems,
        error=(
            f"{len(keys)} unbekannte(r) Schlüssel: bitte zuordnen oder überspringen. "
            "Es wurde noch nichts importiert."
        ),
        percent=0,
        phase="review",
        finished_at=None,
    )
    run.refresh_from_db()
    return run


def _fail(run: ImportRun, message: str, report: list[dict]) -> None:
    ImportRun.objects.using(_progress_db()).filter(pk=run.pk).update(
        status=ImportRun.Status.FAILED,
        error=message,
        report=report,
        finished_at=timezone.now(),
        phase="failed",
    )


@transaction.atomic
def import_run_map_columns(*, import_run: ImportRun, mapping: dict) -> ImportRun:
    """Store the column mapping of a table run and queue the run."""
    if import_run.kind != ImportRun.Kind.TABLE or import_run.status not in {
        ImportRun.Status.DRAFT,
        ImportRun.Status.FAILED,
    }:
        raise ImportRunNotRetryable(
            "Die Spalten dieses Imports lassen sich nicht mehr zuordnen."
        )
    options = {
        key: value
        for key, value in import_run.options.items()
        if key in ("key_map", "skip_keys")
    }
    options.update(mapping)
    ImportRun.objects.filter(pk=import_run.pk).update(options=options)
    import_run.refresh_from_db()
    import_run_enqueue(import_run=import_run)
    return import_run


def import_run_resolve_keys(
    *,
    import_run: ImportRun,
    key_map: dict[str, str],
    skip_keys: list[str],
    user=None,
) -> ImportRun:
    """Record the user's decisions on unknown keys and queue the run again."""
    if user is not None:
        require_import_run_edit(user=user, import_run=import_run)
    if import_run.status != ImportRun.Status.REVIEW:
        raise ImportRunNotRetryable("Dieser Import wartet auf keine Entscheidung.")
    options = dict(import_run.options)
    options["key_map"] = {**options.get("key_map", {}), **key_map}
    options["skip_keys"] = sorted(set(options.get("skip_keys", [])) | set(skip_keys))
    ImportRun.objects.filter(pk=import_run.pk).update(options=options)
    import_run.refresh_from_db()
    import_run_enqueue(import_run=import_run)
    return import_run


def import_run_retry(*, import_run: ImportRun, user=None) -> ImportRun:
    """Queue a failed run again with the same file and options."""
    if user is not None:
        require_import_run_edit(user=user, import_run=import_run)
    if import_run.status != ImportRun.Status.FAILED:
        raise ImportRunNotRetryable(
            "Nur fehlgeschlagene Importe können wiederholt werden."
        )
    import_run_enqueue(import_run=import_run)
    import_run.refresh_from_db()
    return import_run


def import_runs_fail_stale(*, now=None) -> int:
    """Mark runs whose worker went silent as failed; their transaction rolled back."""
    now = now or timezone.now()
    return ImportRun.objects.filter(
        status=ImportRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    ).update(
        status=ImportRun.Status.FAILED,
        finished_at=now,
        phase="failed",
        error=(
            "Der Import wurde unterbrochen (Verarbeitung beendet); es wurde nichts "
            "geändert. Sie können ihn wiederholen."
        ),
    )


def progress_connection_close() -> None:
    if _progress_db() in connections:
        connections[_progress_db()].close()
