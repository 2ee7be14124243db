from django.core.management.base import BaseCommand

from datapool.services.runs import import_runs_fail_stale, import_runs_send_queued


class Command(BaseCommand):
    help = (
        "Send queued import runs that could not reach the task queue (Redis was "
        "down) and mark runs whose worker went silent as failed. Celery beat does "
        "the same every minute."
    )

    def handle(self, *args, **options):
        stale = import_runs_fail_stale()
        sent = import_runs_send_queued()
        self.stdout.write(f"{sent} Auftrag/Aufträge gesendet, {stale} abgebrochen.")
