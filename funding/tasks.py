from celery import shared_task

from funding.models import FundingImport
from funding.services.imports import (
    funding_import_execute,
    funding_imports_fail_stale,
    funding_imports_send_queued,
)


@shared_task(acks_late=False)
def funding_import_execute_task(funding_import_id: int) -> str:
    """Run one project-file import in the worker; its row records the outcome."""
    run = funding_import_execute(run=FundingImport.objects.get(pk=funding_import_id))
    return run.status


@shared_task(acks_late=False, ignore_result=True)
def funding_imports_sweep_task() -> int:
    """Periodic sweep (beat): fail silent imports, send those the broker missed."""
    funding_imports_fail_stale()
    return funding_imports_send_queued()
