from django.core.management.base import BaseCommand

from datapool.services.indicators import (
    indicator_definitions_load,
    indicator_run_create,
    indicator_run_execute,
)


class Command(BaseCommand):
    help = "Load the indicator definitions and recompute them for all levels and dates."

    def handle(self, *args, **options) -> None:
        count = indicator_definitions_load()
        run = indicator_run_execute(run=indicator_run_create())
        values = run.summary.get("values", 0)
        self.stdout.write(
            f"{count} Indikatoren definiert; {values} Werte berechnet "
            f"({run.get_status_display()})."
        )
