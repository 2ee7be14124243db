"""Background work of the facility register (thin: load by id, call a service)."""

from __future__ import annotations

from celery import shared_task

from .models import FacilityUpload
from .uploads import facility_upload_execute


@shared_task
def facility_upload_execute_task(upload_id: int) -> None:
    upload = FacilityUpload.objects.filter(pk=upload_id).first()
    if upload is not None:
        facility_upload_execute(upload=upload)
