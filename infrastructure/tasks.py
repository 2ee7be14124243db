"""Background work of the facility register (thin: load by id, call a service)."""

from __future__ import annotations

from celery import shared_task

from .maintenance import facility_layer_publish
from .models import FacilityType, FacilityUpload
from .uploads import facility_upload_execute


@shared_task
def facility_upload_execute_task(upload_id: int) -> None:
    upload = FacilityUpload.objects.filter(pk=upload_id).first()
    if upload is not None:
        facility_upload_execute(upload=upload)


@shared_task
def facility_layer_publish_task(facility_type_id: int) -> None:
    facility_type = FacilityType.objects.filter(pk=facility_type_id).first()
    if facility_type is not None:
        facility_layer_publish(facility_type=facility_type)
