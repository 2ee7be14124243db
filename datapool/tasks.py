from celery import shared_task

from datapool.models import ImportRun
from datapool.services.conversion import conversion_run_execute
from datapool.services.imports import import_run_execute
from datapool.services.indicators import indicator_run_execute
from datapool.services.inspection import import_run_inspect
from datapool.services.runs import import_runs_fail_stale, import_runs_send_queued


@shared_task(acks_late=False)
def import_run_execute_task(import_run_id: int) -> str:
    """Run one import in the worker; the run row records progress and outcome."""
    run = import_run_execute(import_run=ImportRun.objects.get(pk=import_run_id))
    return run.status


@shared_task(acks_late=False)
def import_run_inspect_task(import_run_id: int) -> str:
    """Read an uploaded table within the limits; the run stores its preview."""
    return import_run_inspect(import_run=ImportRun.objects.get(pk=import_run_id)).status


@shared_task(acks_late=False)
def indicator_run_execute_task(run_id: int) -> str:
    """Recompute indicators in the worker; the run row records progress and outcome."""
    return indicator_run_execute(run=ImportRun.objects.get(pk=run_id)).status


@shared_task(acks_late=False)
def conversion_run_execute_task(run_id: int) -> str:
    """Convert an import in LOR 2006 keys to LOR 2021 in the worker."""
    return conversion_run_execute(run=ImportRun.objects.get(pk=run_id)).status


@shared_task(acks_late=False, ignore_result=True)
def import_runs_send_queued_task() -> int:
    """Periodic sweep (beat): fail silent runs, send queued runs the broker missed."""
    import_runs_fail_stale()
    return import_runs_send_queued()
