from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lor.services import (
    KeyCorrection,
    Lor2006Source,
    LorImportError,
    lor2006_import,
)


class Command(BaseCommand):
    help = (
        "Load or refresh the old LOR 2006 units (until 31.12.2020) beside LOR 2021. "
        "Keys used twice in the source stop the import until an explicit correction "
        "(--correct or --corrections) says which polygon gets which key. Idempotent; "
        "validated; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        data = Path(settings.PRISMA_LOR_DATA_DIR)
        parser.add_argument(
            "--planungsraeume",
            type=Path,
            default=data / "lor2006" / "berlin-lor-planning-areas-until-2020.geojson",
            help="Planungsraum polygons of the 2006 scheme (GeoJSON).",
        )
        parser.add_argument(
            "--bezirksregionen",
            type=Path,
            default=data / "lor2006" / "lor2006_bezirksregionen.csv",
            help="Names of the old Bezirksregionen (schluessel,name).",
        )
        parser.add_argument(
            "--corrections",
            type=Path,
            help="Correction table (schluessel,laenge,breite,richtig,grund), e.g. "
            "lor/data/lor2006/korrekturen.csv.",
        )
        parser.add_argument(
            "--correct",
            action="append",
            default=[],
            metavar="KEY@LON,LAT=KEY",
            help="Re-key the polygon with KEY at LON,LAT (WGS 84), e.g. "
            "06010102@13.299,52.515=04030417. Repeatable.",
        )

    def handle(self, *args, **options) -> None:
        source = Lor2006Source(
            planungsraeume=options["planungsraeume"],
            bezirksregionen=options["bezirksregionen"],
            bezirke=Path(settings.PRISMA_LOR_DATA_DIR) / "lor_bezirke_wgs84.geojson",
            corrections=options["corrections"],
        )
        try:
            corrections = [KeyCorrection.parse(text) for text in options["correct"]]
            report = lor2006_import(source=source, corrections=corrections)
        except LorImportError as exc:
            raise CommandError(
                f"LOR-2006-Import abgebrochen, nichts geändert: {exc}"
            ) from exc
        for line in report.corrections:
            self.stdout.write(f"  Korrektur: {line}")
        for line in report.summary(label="LOR 2006"):
            self.stdout.write(line)
