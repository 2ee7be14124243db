from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from datapool.parsers.contract import ImportValidationError
from datapool.services.imports import problem_groups
from infrastructure.services import facilities_import, supply_publish
from infrastructure.types import FORMATS

DATA_DIR = Path(settings.BASE_DIR) / "infrastructure" / "data"
# The real Geoportal exports shipped with the project (SOURCES.md of the data).
DEFAULT_FILES = [
    ("berlin_spielplaetze_Playground.csv", "spielplatz"),
    ("berlin_gruenanlagen_public_parks.csv", "gruenanlage"),
]
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
            help=f"Files to import as TYPE=PATH (types: {', '.join(FORMATS)}); "
            "default: the shipped playground and green-space tables.",
        )
        parser.add_argument(
            "--date",
            default=DEFAULT_DATE,
            help="Day the facility stock counts for (default: %(default)s, the "
            "residents' reference date).",
        )

    def handle(self, *args, **options) -> None:
        files = [(DATA_DIR / name, key) for name, key in DEFAULT_FILES]
        if options["files"]:
            files = []
            for item in options["files"]:
                key, sep, path = item.partition("=")
                if not sep or key not in FORMATS:
                    raise CommandError(
                        f"Erwartet TYPE=PATH mit TYPE aus {list(FORMATS)}"
                    )
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
                for path, key in files:
                    say(f"Lese {path.name} ({key}) …")
                    summary = facilities_import(
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
