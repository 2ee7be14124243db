import hashlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from datapool.models import ImportRun
from datapool.parsers.crime_atlas import CASES, FILE_NAME, shipped_dir
from datapool.services.imports import import_run_create, import_run_execute


class Command(BaseCommand):
    help = (
        "Load the Kriminalitätsatlas case numbers per Bezirksregion (one run per "
        "year; the frequency file beside each is read for the residents). Files "
        "already loaded are skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "directory",
            nargs="?",
            help="Folder with the atlas files (default: the shipped ones).",
        )

    def handle(self, *args, **options) -> None:
        folder = Path(options["directory"] or shipped_dir())
        files = sorted(
            path
            for path in folder.glob("*.csv")
            if (match := FILE_NAME.search(path.name)) and match["kind"] == CASES
        )
        if not files:
            raise CommandError(f"Keine Fallzahlen des Kriminalitätsatlas in {folder}.")
        for n, path in enumerate(files, start=1):
            prefix = f"  [{n}/{len(files)}] {path.name}"
            checksum = hashlib.sha256(path.read_bytes()).hexdigest()
            if ImportRun.objects.filter(
                checksum=checksum,
                kind=ImportRun.Kind.CRIME_ATLAS,
                status=ImportRun.Status.SUCCEEDED,
            ).exists():
                self.stdout.write(f"{prefix}: bereits geladen")
                continue
            run = import_run_create(
                kind=ImportRun.Kind.CRIME_ATLAS,
                path=path,
                original_name=path.name,
                # The stored copy of the file has no neighbours: name the folder
                # whose frequency file of the same year gives the residents.
                options={"frequency_dir": str(folder.resolve())},
            )

            def echo(phase: str, percent: int, prefix: str = prefix) -> None:
                self.stdout.write(f"{prefix}: {phase} {percent} %", ending="\r")
                self.stdout.flush()

            run = import_run_execute(import_run=run, echo=echo)
            if run.status != ImportRun.Status.SUCCEEDED:
                raise CommandError(
                    f"{prefix}: {run.get_status_display()} – {run.error}"
                )
            warnings = len(run.report or [])
            self.stdout.write(
                f"{prefix}: {run.summary.get('values', 0)} Werte geladen"
                + (f", {warnings} Hinweis(e)" if warnings else "")
            )
