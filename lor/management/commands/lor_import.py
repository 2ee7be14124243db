from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lor.services import LorImportError, LorSource, lor_import


class Command(BaseCommand):
    help = (
        "Load or refresh the LOR 2021 units (Bezirk, Prognoseraum, Bezirksregion, "
        "Planungsraum) from the official key table and geometries. Idempotent; "
        "validated; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory",
            nargs="?",
            type=Path,
            help="Folder holding the four source files (default: the shipped data).",
        )
        parser.add_argument(
            "--keys", type=Path, help="Key table CSV (all four levels)."
        )
        parser.add_argument(
            "--planungsraeume", type=Path, help="Planungsraum polygons."
        )
        parser.add_argument(
            "--prognoseraeume", type=Path, help="Official Prognoseraum polygons."
        )
        parser.add_argument("--bezirke", type=Path, help="Official Bezirk polygons.")

    def handle(self, *args, **options) -> None:
        directory = options["directory"] or Path(settings.PRISMA_LOR_DATA_DIR)
        source = LorSource.from_directory(directory)
        overrides = {
            name: options[name]
            for name in ("keys", "planungsraeume", "prognoseraeume", "bezirke")
            if options[name]
        }
        source = LorSource(**{**source.__dict__, **overrides})
        try:
            report = lor_import(source=source)
        except LorImportError as exc:
            raise CommandError(
                f"LOR-Import abgebrochen, nichts geändert: {exc}"
            ) from exc
        for line in report.summary(label="LOR 2021"):
            self.stdout.write(line)
