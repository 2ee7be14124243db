from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from datapool.parsers.contract import ImportValidationError
from datapool.services.imports import problem_groups
from infrastructure.layer_import import (
    facilities_import_gis,
    facility_import_unchanged,
)
from infrastructure.maintenance import facility_layer_publish
from infrastructure.models import FacilityType
from infrastructure.services import facilities_import, supply_publish
from infrastructure.types import FORMATS, GIS_FORMATS

DATA_DIR = Path(settings.BASE_DIR) / "infrastructure" / "data"
DEMO_DIR = Path(settings.BASE_DIR) / "datapool" / "data" / "demo"
# The real Geoportal exports shipped with the project (SOURCES.md of the data);
# the FIS-Broker point layers are the ones the Datenpool demo loads as well.
DEFAULT_FILES = [
    (DATA_DIR / "berlin_spielplaetze_Playground.csv", "spielplatz"),
    (DATA_DIR / "berlin_gruenanlagen_public_parks.csv", "gruenanlage"),
    (DEMO_DIR / "infra_kitas_epsg25833.geojson", "kita"),
    (DEMO_DIR / "infra_schulen_epsg25833.geojson", "schule"),
    (DEMO_DIR / "infra_jugendfreizeiteinrichtungen_epsg25833.geojson", "jfe"),
]
TYPES = {**FORMATS, **GIS_FORMATS}
# The facility stock is taken as valid on the reference date of the residents
# (EWR 31.12.2024), so that supply and denominator describe the same day.
DEFAULT_DATE = "2024-12-31"


class Command(BaseCommand):
    help = (
        "Import facility tables into the register (replacing each file's earlier "
        "import) and write the supply per Planungsraum into the Datenpool."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "files",
            nargs="*",
            metavar="TYPE=PATH",
            help=f"Files to import as TYPE=PATH (types: {', '.join(TYPES)}); "
            "default: the shipped playground and green-space tables and the "
            "Kita, school and youth-centre layers.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Import a file again even if this very file was imported before "
            "(replaces its facilities, including edits made in the browser).",
        )
        parser.add_argument(
            "--date",
            default=DEFAULT_DATE,
            help="Day the facility stock counts for (default: %(default)s, the "
            "residents' reference date).",
        )

    def handle(self, *args, **options) -> None:
        files = list(DEFAULT_FILES)
        if options["files"]:
            files = []
            for item in options["files"]:
                key, sep, path = item.partition("=")
                if not sep or key not in TYPES:
                    raise CommandError(f"Erwartet TYPE=PATH mit TYPE aus {list(TYPES)}")
                files.append((Path(path), key))
        try:
            on = date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError(f"Ungültiges Datum: {options['date']}") from exc
        verbose = options["verbosity"] >= 1

        def say(text: str) -> None:
            if verbose:
                self.stdout.write(text)

        try:
            with transaction.atomic():
                for number, (path, key) in enumerate(files, start=1):
                    step = f"[{number}/{len(files)}]"
                    if not options["replace"] and facility_import_unchanged(
                        path=path, type_key=key
                    ):
                        say(f"{step} {path.name} ({key}): unverändert, übersprungen")
                        continue
                    say(f"{step} Lese {path.name} ({key}) …")
                    importer = (
                        facilities_import_gis
                        if key in GIS_FORMATS
                        else (facilities_import)
                    )
                    summary = importer(
                        path=path,
                        type_key=key,
                        progress=lambda n: say(f"  {n} Zeilen gelesen"),
                    )
                    say(
                        f"  {summary['facilities']} Einrichtungen gespeichert "
                        f"({summary['replaced']} ersetzt); Kapazität nicht erfasst "
                        f"(„-“): {summary['capacity_not_recorded']}; ohne "
                        f"Planungsraum: {summary['without_planungsraum']}"
                        + (
                            f" (unbekannte Schlüssel: "
                            f"{', '.join(summary['unknown_planungsraum'])})"
                            if summary["unknown_planungsraum"]
                            else ""
                        )
                    )
                    if key in GIS_FORMATS:
                        published = facility_layer_publish(
                            facility_type=FacilityType.objects.get(key=key)
                        )
                        say(
                            f"  Kartenebene veröffentlicht: "
                            f"{published['facilities']} Punkte"
                        )
                result = supply_publish(on=on)
        except ImportValidationError as exc:
            lines = ["Nichts importiert; die Datei hat Probleme:"]
            for group in problem_groups(exc.problems, exc.counts):
                lines.append(f"- {group['title']}")
                lines.extend(f"    {example['text']}" for example in group["examples"])
            raise CommandError("\n".join(lines)) from exc
        say(
            f"Versorgung am {on:%d.%m.%Y}: {result['values']} Werte "
            f"({result['variables']} Variablen), Indikatoren neu berechnet: "
            f"{', '.join(result.get('indicators', [])) or 'keine'}."
        )
