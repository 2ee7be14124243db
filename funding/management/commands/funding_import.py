from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from datapool.parsers.contract import ImportValidationError
from funding.services.examples import DATA_DIR, funding_examples_load
from funding.services.imports import problem_groups


class Command(BaseCommand):
    help = (
        "Load the funding example data (programmes, funding areas as sets of "
        "Planungsräume, projects with amounts per year), marked as example data. "
        "Idempotent: records are matched by key and project number."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--data-dir",
            default=str(DATA_DIR),
            help="Folder with beispiel_*.csv (default: %(default)s).",
        )

    def handle(self, *args, **options) -> None:
        verbose = options["verbosity"] >= 1

        def say(text: str) -> None:
            if verbose:
                self.stdout.write(text)

        say("Lade Fördermittel-Beispieldaten (keine amtlichen Zahlen) …")
        try:
            result = funding_examples_load(data_dir=Path(options["data_dir"]), say=say)
        except ImportValidationError as exc:
            lines = ["Nichts importiert; die Datei hat Probleme:"]
            for group in problem_groups(exc.problems, exc.counts):
                lines.append(f"- {group['title']}")
                lines.extend(f"    {e['text']}" for e in group["examples"])
            raise CommandError("\n".join(lines)) from exc
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        say(
            f"Fertig: {result['programmes']} Programme, {result['areas']} Gebiete, "
            f"{result['projects']} Maßnahmen, {result['amounts']} Jahresbeträge "
            "geschrieben."
        )
