"""Celery application: imports and computations run here, fed through Redis.

Queues and time limits are settings (``CELERY_TASK_ROUTES``,
``CELERY_TASK_ANNOTATIONS``); docs/operations.md lists them.
"""

import os
import signal

from billiard.exceptions import SoftTimeLimitExceeded
from billiard.pool import soft_timeout_sighandler
from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prisma.settings.local")

app = Celery("prisma")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def queue_names() -> list[str]:
    """Every queue a task is routed to; a worker consuming all of them does all work."""
    routes = app.conf.task_routes or {}
    names = {route["queue"] for route in routes.values()}
    return sorted(names | {app.conf.task_default_queue})


class TaskTimeLimitExceeded(SoftTimeLimitExceeded):
    """The soft time limit, worded for the run's error message a user reads."""

    def __init__(self, seconds: float | None = None):
        super().__init__(seconds)
        self.seconds = seconds

    def __str__(self) -> str:
        after = f" nach {round(self.seconds)} Sekunden" if self.seconds else ""
        return f"Zeitlimit überschritten: die Verarbeitung wurde{after} abgebrochen."


@task_prerun.connect(dispatch_uid="prisma_readable_soft_time_limit")
def _readable_soft_time_limit(task=None, **kwargs) -> None:
    # Services record str(exception) in the run they fail; billiard's own
    # exception reads "SoftTimeLimitExceeded()". Only in a prefork child, where
    # billiard's handler is installed and the task runs in the main thread.
    current = signal.getsignal(signal.SIGUSR1)
    if current is not soft_timeout_sighandler and not getattr(current, "prisma", 0):
        return
    limits = getattr(task.request, "timelimit", None) or (None, None)
    seconds = limits[1] or task.soft_time_limit

    def handler(signum, frame):
        raise TaskTimeLimitExceeded(seconds)

    handler.prisma = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGUSR1, handler)
