"""Celery tasks of the profiles: batch PDFs, one task per Bezirksregion."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=False)
def profile_batch_region_task(self, batch_id: str, code: str) -> str:
    """Render one region's PDF of a batch and report the batch's progress."""
    from .batch import profile_batch_fail, profile_batch_render_region

    try:
        done, total = profile_batch_render_region(batch_id=batch_id, code=code)
    except Exception as exc:
        logger.exception("batch %s: region %s failed", batch_id, code)
        profile_batch_fail(batch_id=batch_id, error=f"{code}: {exc}")
        raise
    if not self.request.is_eager:
        # Under the batch id, which the chord's final task will carry.
        self.update_state(
            task_id=batch_id, state="PROGRESS", meta={"done": done, "total": total}
        )
    return code


@shared_task(acks_late=False)
def profile_batch_assemble_task(batch_id: str) -> dict:
    """Zip a batch whose regions are all rendered."""
    from .batch import profile_batch_assemble, profile_batch_status

    profile_batch_assemble(batch_id=batch_id)
    return profile_batch_status(batch_id=batch_id)
