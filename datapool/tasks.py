from celery import shared_task


@shared_task(acks_late=False)
def import_run_execute_task(import_run_id: int) -> str:
    """Run one import in the worker; the run row records progress and outcome."""
    from datapool.models import ImportRun
    from datapool.services.imports import import_run_execute

    run = import_run_execute(import_run=ImportRun.objects.get(pk=import_run_id))
    return run.status


@shared_task(acks_late=False)
def indicator_run_execute_task(run_id: int) -> str:
    """Recompute indicators in the worker; the run row records progress and outcome."""
    from datapool.models import ImportRun
    from datapool.services.indicators import indicator_run_execute

    return indicator_run_execute(run=ImportRun.objects.get(pk=run_id)).status
