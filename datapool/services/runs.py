"""The life of a run (an import or an indicator computation) in the worker.

queued → running → succeeded | failed | review; a table uploaded for mapping is
first inspected: queued → running → draft (awaiting the mapping) | failed.
Every change of state is a compare-and-set on the run's row (``UPDATE … WHERE
status = <expected> AND attempts = <this attempt>``): a run can never be both
failed and succeeded, and an attempt that lost its run (the stale sweep failed
it, or a retry started a new attempt) cannot overwrite what happened since.
Success is written inside the run's own transaction, so an attempt that lost its
run rolls its writes back.

While a run executes, a heartbeat thread touches ``heartbeat_at`` every
``PRISMA_RUN_HEARTBEAT_SECONDS``, independent of progress; the sweep
(``import_runs_fail_stale``, from Celery beat) fails only runs whose heartbeat
is older than ``STALE_AFTER``, i.e. whose worker died. Progress and heartbeat go
through their own connection (``PRISMA_PROGRESS_DB``) so that pollers see them
while the run's transaction is open.

This module is the one home of that lifecycle. Its parts take the run (or its
model) generically, so every background upload with the run fields (``status``
with ImportRun's state names, ``attempts``, ``phase``, ``percent``,
``started_at``, ``finished_at``, ``heartbeat_at``, ``error``, ``report``,
``summary``) lives the same life: ``funding.FundingImport`` does. Apps above
the Datenpool pass their model, task and German messages; the Datenpool's own
names (``run_start``, ``import_runs_fail_stale``, …) keep their meaning.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections, models, transaction
from django.utils import timezone

from ..models import ImportRun

logger = logging.getLogger(__name__)

# A running run whose heartbeat is older than this lost its worker.
STALE_AFTER = timedelta(minutes=5)
# How often the heartbeat thread writes; well below STALE_AFTER.
HEARTBEAT_SECONDS = 30.0

PHASES = {  # phase: (start %, end %)
    "compute": (0, 98),
    "inspect": (0, 100),
    "read": (0, 40),
    "write": (40, 80),
    "aggregate": (80, 98),
}

STALE_MESSAGE = (
    "Der Import wurde unterbrochen (Verarbeitung beendet); es wurde nichts "
    "geändert. Sie können ihn wiederholen."
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
# Runs that may be (re)started; a running or succeeded run is left alone.
STARTABLE = (
    ImportRun.Status.DRAFT,
    ImportRun.Status.QUEUED,
    ImportRun.Status.REVIEW,
    ImportRun.Status.FAILED,
)

Echo = Callable[[str, int], None]
Phases = dict[str, tuple[int, int]]
# Any model with the run fields (see the module docstring).
RunT = TypeVar("RunT", bound=models.Model)


class RunLost(Exception):
    """The run is no longer this attempt's: failed by the sweep or restarted."""


def progress_db() -> str:
    """The alias whose connection publishes progress outside the run's transaction."""
    return str(settings.PRISMA_PROGRESS_DB)


def heartbeat_seconds() -> float:
    return float(getattr(settings, "PRISMA_RUN_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))


class RunExecution:
    """One attempt at a run: its progress, heartbeat and outcome."""

    def __init__(
        self,
        run: models.Model,
        attempt: int,
        echo: Echo | None = None,
        *,
        phases: Phases | None = None,
    ):
        self.run = run
        self.model = type(run)
        self.attempt = attempt
        self.echo = echo
        self.phases = PHASES if phases is None else phases
        self.phase = ""
        self._last = -1

    def _mine(self, using: str | None = None) -> Any:
        """The run's row while it is running in this attempt (the CAS condition)."""
        rows = self.model._default_manager.all()
        if using:
            rows = rows.using(using)
        return rows.filter(
            pk=self.run.pk, status=ImportRun.Status.RUNNING, attempts=self.attempt
        )

    def progress(self, phase: str, done: int, total: int, **fields: Any) -> None:
        """Publish phase and percent (and counters) at once, for the polling page."""
        start, end = self.phases.get(phase, (0, 100))
        percent = start + int((end - start) * (done / total if total else 1))
        if phase == self.phase and percent == self._last and not fields:
            return
        self.phase, self._last = phase, percent
        self._mine(progress_db()).update(
            phase=phase, percent=percent, heartbeat_at=timezone.now(), **fields
        )
        if self.echo:
            self.echo(phase, percent)

    def callback(self, phase: str, field_name: str) -> Callable[[int, int], None]:
        """A (done, total) callback for parsers and writers."""

        def report(done: int, total: int) -> None:
            self.progress(phase, done, total, **{field_name: done, "rows_total": total})

        return report

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Keep the heartbeat fresh while the block runs, whatever it does."""
        beat = _Heartbeat(self, heartbeat_seconds())
        beat.start()
        try:
            yield
        finally:
            beat.stop()

    def succeed(self, **fields: Any) -> None:
        """Mark the run succeeded inside the caller's transaction, or raise RunLost.

        Written on the run's own connection, so success commits with the run's
        writes; ``RunLost`` rolls them back.
        """
        updated = self._mine().update(
            status=ImportRun.Status.SUCCEEDED,
            finished_at=timezone.now(),
            percent=100,
            phase="done",
            **fields,
        )
        if not updated:
            raise RunLost(f"run {self.run.pk} attempt {self.attempt}")

    def fail(
        self,
        message: str,
        report: list[dict[str, Any]],
        *,
        summary: dict[str, Any] | None = None,
        **fields: Any,
    ) -> bool:
        """Mark the run failed unless it already left this attempt's hands.

        ``fields`` are further fields of the model written with the failure
        (e.g. a facility upload's grouped ``problems``).
        """
        return self._end(
            status=ImportRun.Status.FAILED,
            error=message,
            report=report,
            # Also cleared: a summary of an earlier attempt does not describe this one.
            summary=summary or {},
            finished_at=timezone.now(),
            phase="failed",
            **fields,
        )

    def inspected(self, **fields: Any) -> bool:
        """End an inspection: the run waits for the user's mapping (a draft)."""
        return bool(
            self._mine(progress_db()).update(
                status=ImportRun.Status.DRAFT,
                finished_at=timezone.now(),
                percent=100,
                phase="inspected",
                **fields,
            )
        )

    def review(self, **fields: Any) -> bool:
        """Stop the run to wait for the user's decisions (unknown keys)."""
        return self._end(
            status=ImportRun.Status.REVIEW,
            percent=0,
            phase="review",
            finished_at=None,
            **fields,
        )

    def _end(self, **fields: Any) -> bool:
        """Write a final state on the progress connection (compare-and-set).

        The soft time limit arrives as an exception wherever the run is, also in
        the middle of a query on that connection, which leaves it unusable
        ("another command is already in progress"): then once more on a fresh one.
        """
        alias = progress_db()
        try:
            return bool(self._mine(alias).update(**fields))
        except DatabaseError:
            connections[alias].close()
            return bool(self._mine(alias).update(**fields))


class _Heartbeat(threading.Thread):
    """Touches the run's heartbeat on its own connection until stopped."""

    def __init__(self, execution: RunExecution, interval: float):
        super().__init__(name=f"run-{execution.run.pk}-heartbeat", daemon=True)
        self.execution = execution
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        alias = progress_db()
        try:
            while not self.stopped.wait(self.interval):
                try:
                    alive = self.execution._mine(alias).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    # The next beat reconnects; a run whose beats keep failing
                    # is eventually failed by the sweep, as a dead worker's is.
                    logger.warning("heartbeat of run %s failed", self.execution.run.pk)
                    connections[alias].close()
                    continue
                if not alive:
                    return  # the run left this attempt's hands; nothing to keep
        finally:
            connections.close_all()  # this thread's connections only

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=self.interval + 10)


def run_start(
    *,
    run: models.Model,
    echo: Echo | None = None,
    startable: Iterable[str] = STARTABLE,
    phases: Phases | None = None,
    reset: dict[str, Any] | None = None,
) -> RunExecution | None:
    """Move a run to running as a new attempt; None if it is not ``startable``.

    By default a run that runs or succeeded already is not; ``reset`` clears
    further fields of the new attempt.
    """
    alias = progress_db()
    now = timezone.now()
    rows = type(run)._default_manager.using(alias)
    with transaction.atomic(using=alias):
        row = (
            rows.select_for_update()
            .filter(pk=run.pk, status__in=list(startable))
            .values_list("attempts", flat=True)
            .first()
        )
        if row is None:
            return None
        attempt = row + 1
        rows.filter(pk=run.pk).update(
            status=ImportRun.Status.RUNNING,
            attempts=attempt,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            error="",
            report=[],
            percent=0,
            rows_read=0,
            rows_written=0,
            **(reset or {}),
        )
    run.status, run.attempts = ImportRun.Status.RUNNING, attempt  # type: ignore[attr-defined]
    return RunExecution(run, attempt, echo, phases=phases)


def run_execute(
    *,
    run: RunT,
    work: Callable[[RunExecution], None],
    echo: Echo | None = None,
    startable: Iterable[str] = STARTABLE,
    phases: Phases | None = None,
    reset: dict[str, Any] | None = None,
) -> RunT:
    """Start the run as a new attempt and do ``work`` under its heartbeat.

    A run that is running elsewhere or done is left alone; either way the run
    comes back refreshed with the recorded outcome.
    """
    execution = run_start(
        run=run, echo=echo, startable=startable, phases=phases, reset=reset
    )
    if execution is not None:
        with execution.heartbeat():
            work(execution)
    run.refresh_from_db()
    return run


def run_requeue(*, run: ImportRun, kind: str | None = None, **reset: Any) -> bool:
    """Queue a run again, its last outcome cleared, and send it after commit.

    ``reset`` clears further fields (also on ``run``, which decides the task);
    ``kind`` restricts which runs qualify. False, and nothing changed, if the
    run is running or succeeded (or of another kind).
    """
    runs = ImportRun.objects.filter(pk=run.pk)
    if kind is not None:
        runs = runs.filter(kind=kind)
    fields: dict[str, Any] = {
        "status": ImportRun.Status.QUEUED,
        "error": "",
        "report": [],
        "percent": 0,
        "phase": "",
        "task_id": "",
        **reset,
    }
    if not runs.exclude(
        status__in=[ImportRun.Status.RUNNING, ImportRun.Status.SUCCEEDED]
    ).update(**fields):
        return False
    for name, value in fields.items():
        setattr(run, name, value)
    run_send_on_commit(run=run)
    return True


def runs_fail_stale(
    *, model: type[models.Model], message: str, now: datetime | None = None
) -> int:
    """Mark runs of ``model`` whose worker went silent as failed, with ``message``."""
    now = now or timezone.now()
    return model._default_manager.filter(
        status=ImportRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    ).update(
        status=ImportRun.Status.FAILED,
        finished_at=now,
        phase="failed",
        error=message,
    )


def import_runs_fail_stale(*, now: datetime | None = None) -> int:
    """Mark runs whose worker went silent as failed; their transaction rolled back."""
    return runs_fail_stale(model=ImportRun, message=STALE_MESSAGE, now=now)


def task_publish(*, task: Any, run_id: int) -> str | None:
    """Hand a run's task to the broker at once; its task id, or None if it is down."""
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
        logger.warning(
            "could not queue %s for run %s", task.name, run_id, exc_info=True
        )
        return None
    return str(result.id or "")


def task_send(
    *,
    task: Any,
    run_id: int,
    model: type[models.Model] = ImportRun,
    unsent_message: str = UNSENT_MESSAGE,
) -> bool:
    """Queue a run's task; if the broker is down the run stays queued, marked unsent.

    The task id is kept where the model has a ``task_id`` field.
    """
    rows = model._default_manager.filter(pk=run_id)
    keeps_task_id = any(f.name == "task_id" for f in model._meta.get_fields())
    task_id = task_publish(task=task, run_id=run_id)
    if task_id is None:
        rows.update(
            error=unsent_message,
            phase=UNSENT,
            **({"task_id": ""} if keeps_task_id else {}),
        )
        return False
    # A worker that already picked the run up has replaced the phase itself.
    rows.filter(phase=UNSENT).update(error="", phase="")
    if keeps_task_id:
        rows.update(task_id=task_id)
    return True


def run_task(run: ImportRun) -> Any:
    """The Celery task that executes the run's next step."""
    # Tasks import the services at their top; services reach the tasks here.
    from ..tasks import (
        conversion_run_execute_task,
        import_run_execute_task,
        import_run_inspect_task,
        indicator_run_execute_task,
    )

    if run.kind == ImportRun.Kind.COMPUTATION:
        return indicator_run_execute_task
    if run.kind == ImportRun.Kind.CONVERSION:
        return conversion_run_execute_task
    if run.awaits_inspection:
        return import_run_inspect_task
    return import_run_execute_task


def run_send_on_commit(
    *, run: models.Model, task: Any = None, unsent_message: str = UNSENT_MESSAGE
) -> None:
    """Hand the run to the worker once the surrounding transaction commits.

    ``task`` defaults to the Datenpool run's next step (``run_task``).
    """
    task = task or run_task(run)  # type: ignore[arg-type]
    model, pk = type(run), run.pk
    transaction.on_commit(
        lambda: task_send(
            task=task, run_id=pk, model=model, unsent_message=unsent_message
        )
    )


def runs_send_queued(
    *,
    model: type[models.Model],
    task_for: Callable[[Any], Any],
    unsent_message: str = UNSENT_MESSAGE,
    only: Iterable[str] = ("pk",),
) -> int:
    """Hand every queued run of ``model`` that never reached the broker to it.

    ``task_for`` gives a run's task; ``only`` the fields it reads. Returns how
    many were sent.
    """
    sent = 0
    with transaction.atomic():
        # Locked rows belong to a concurrent sweep; it sends them.
        runs = list(
            model._default_manager.select_for_update(skip_locked=True)
            .filter(status=ImportRun.Status.QUEUED, phase=UNSENT)
            .order_by("pk")
            .only(*only)
        )
        for run in runs:
            if not task_send(
                task=task_for(run),
                run_id=run.pk,
                model=model,
                unsent_message=unsent_message,
            ):
                break  # the broker is still down; the next sweep tries again
            sent += 1
    return sent


def import_runs_send_queued() -> int:
    """Hand every queued run that never reached the broker to it; returns how many."""
    return runs_send_queued(
        model=ImportRun, task_for=run_task, only=("pk", "kind", "inspection")
    )
