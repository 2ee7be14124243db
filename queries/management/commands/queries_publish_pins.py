"""Record the published cells of every pinned saved query (idempotent)."""

from django.core.management.base import BaseCommand

from queries.services import saved_query_pins_publish


class Command(BaseCommand):
    help = (
        "Records the confidential values every pinned saved query shows, so that "
        "later corrections never difference against them. Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        queries, offered = saved_query_pins_publish()
        self.stdout.write(f"{queries} pinned queries, {offered} values offered.")
