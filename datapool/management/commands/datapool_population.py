import hashlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from datapool.models import ImportRun
from datapool.parsers.detect import detect_kind
from datapool.services.harmonisation import variable_components_load
from datapool.services.imports import import_run_create, import_run_execute

ZEITREIHE_DIR = Path(settings.BASE_DIR) / "datapool" / "data" / "zeitreihe"
# The Planungsraum tables are the deliveries; the higher-level tables of
# 31.12.2023 stay unloaded: they are the published figures the aggregation is
# checked against (tests/datapool/test_population_import.py).
PATTERN = "berlin-lor-population-*-planning-areas.csv"


class Command(BaseCommand):
    help = (
        "Load the shipped half-yearly population tables per Planungsraum "
        "(2021–2024; skips files already loaded)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dir", type=Path, default=ZEITREIHE_DIR)

    def handle(self, *args, **options) -> None:
        files = sorted(options["dir"].glob(PATTERN))
        if not files:
            raise CommandError(f"Keine Halbjahrestabellen in {options['dir']}")
        # The harmonised sums first, so that each import derives them.
        variable_components_load()
        for number, path in enumerate(files, start=1):
            prefix = f"  [{number}/{len(files)}] {path.name}"
            checksum = hashlib.sha256(path.read_bytes()).hexdigest()
            if ImportRun.objects.filter(
                checksum=checksum, status=ImportRun.Status.SUCCEEDED
            ).exists():
                self.stdout.write(f"{prefix}: bereits geladen")
                continue
            kind = detect_kind(path, path.name)
            run = import_run_create(kind=kind, path=path, original_name=path.name)
            run = import_run_execute(import_run=run)
            if run.status == ImportRun.Status.SUCCEEDED:
                self.stdout.write(
                    f"{prefix}: {run.summary.get('values', 0)} Werte zum "
                    f"{', '.join(run.summary.get('ref_dates', []))} geladen"
                )
            else:
                self.stderr.write(f"{prefix}: {run.get_status_display()} – {run.error}")
