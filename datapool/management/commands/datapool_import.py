import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from datapool.models import ImportRun
from datapool.parsers.contract import OLD_SCHEME, SCHEME_OPTION
from datapool.parsers.detect import detect_kind
from datapool.services.conversion import (
    conversion_run_create,
    conversion_run_execute,
)
from datapool.services.imports import import_run_create, import_run_enqueue
from datapool.tasks import import_run_execute_task


def _pair(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not sep or not old or not new:
        raise CommandError(f"--map erwartet ALT=NEU, nicht „{text}“")
    return old.strip(), new.strip()


def table_options_from_cli(options: dict[str, str]) -> dict:
    """Turn NAME=VALUE options of the command line into a table mapping.

    ``mapping=FILE.json`` loads a whole mapping (the format of the docstring of
    ``datapool/parsers/table.py``); ``columns=COL:KEY,COL2:KEY2`` maps columns to
    variables of the catalogue; key_column, ref_date, decimal, sheet, supplier,
    source and license are taken as they are and win over the file.
    """
    result: dict = {}
    rest = dict(options)
    mapping_path = rest.pop("mapping", None)
    if mapping_path:
        try:
            loaded = json.loads(Path(mapping_path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(
                f"Zuordnungsdatei {mapping_path} nicht lesbar: {exc}"
            ) from exc
        if not isinstance(loaded, dict):
            raise CommandError(
                f"Zuordnungsdatei {mapping_path}: erwartet wird ein JSON-Objekt"
            )
        result.update(loaded)
    columns_text = rest.pop("columns", None)
    if columns_text:
        columns = dict(result.get("columns") or {})
        for item in columns_text.split(","):
            column, sep, key = item.rpartition(":")
            if not sep or not column.strip() or not key.strip():
                raise CommandError(
                    f"columns erwartet SPALTE:VARIABLE,…, nicht „{item}“"
                )
            columns[column.strip()] = {"variable": key.strip()}
        result["columns"] = columns
    result.update(rest)
    return result


class Command(BaseCommand):
    help = (
        "Import a delivery into the Datenpool (AfS EWR matrix, MSS table, generic "
        "table, point data). Creates an import run executed by the Celery task; "
        "by default in this process, with --queue by the worker. "
        "A table (CSV/XLSX) needs its column mapping: --option key_column=COL "
        "--option ref_date=YYYY-MM-DD, plus --option columns=COL:VARIABLE,... for "
        "variables of the catalogue and/or --option mapping=FILE.json for new "
        "variables (format: see datapool/parsers/table.py); optional "
        "decimal=point|comma, sheet=NAME, supplier=, source=, license=."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--kind", choices=ImportRun.Kind.values)
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="OLD=NEW",
            help="Map an unknown key to a LOR key (e.g. 06200318=06200418).",
        )
        parser.add_argument(
            "--skip",
            action="append",
            default=[],
            metavar="KEY",
            help="Skip the rows of an unknown key.",
        )
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=(
                "Parser option, e.g. ref_date=2024-12-31. Tables: key_column=COL, "
                "ref_date=YYYY-MM-DD, columns=COL:VARIABLE[,COL2:VARIABLE2] "
                "(existing variables), mapping=FILE.json (whole mapping, also new "
                "variables), decimal=point|comma, sheet=NAME."
            ),
        )
        parser.add_argument(
            "--scheme",
            choices=["lor2021", OLD_SCHEME],
            default="lor2021",
            help="The LOR scheme of the file's keys (lor2006: the old units).",
        )
        parser.add_argument(
            "--convert",
            action="store_true",
            help="With --scheme lor2006: convert the values to LOR 2021 afterwards.",
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Hand the run to the Celery worker and wait for it.",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"Datei nicht gefunden: {path}")
        kind = options["kind"] or detect_kind(path, path.name)
        parser_options: dict = dict(_pair(o) for o in options["option"])
        if kind == ImportRun.Kind.TABLE:
            parser_options = table_options_from_cli(parser_options)
        if options["map"]:
            parser_options["key_map"] = dict(_pair(m) for m in options["map"])
        if options["skip"]:
            parser_options["skip_keys"] = options["skip"]
        if options["scheme"] == OLD_SCHEME:
            parser_options[SCHEME_OPTION] = OLD_SCHEME
        elif options["convert"]:
            raise CommandError("--convert gilt nur mit --scheme lor2006.")
        run = import_run_create(
            kind=kind, path=path, original_name=path.name, options=parser_options
        )
        self.stdout.write(f"Import #{run.pk} ({run.get_kind_display()}): {path.name}")
        if options["queue"]:
            import_run_enqueue(import_run=run)
            run = self._wait(run)
        else:
            import_run_execute_task.apply(args=[run.pk])
            run.refresh_from_db()
        self._report(run)
        if options["convert"] and run.status == ImportRun.Status.SUCCEEDED:
            conversion = conversion_run_execute(
                run=conversion_run_create(source_run=run)
            )
            self.stdout.write(
                f"Umrechnung #{conversion.pk} nach LOR 2021: "
                f"{conversion.get_status_display()} {conversion.error}".rstrip()
            )

    def _wait(self, run: ImportRun) -> ImportRun:
        last = None
        while True:
            run.refresh_from_db()
            state = (run.status, run.percent)
            if state != last:
                self.stdout.write(f"  {run.get_status_display()} {run.percent} %")
                last = state
            if run.is_finished or run.status == ImportRun.Status.REVIEW:
                return run
            time.sleep(0.5)

    def _report(self, run: ImportRun) -> None:
        if run.status == ImportRun.Status.SUCCEEDED:
            s = run.summary
            self.stdout.write(
                self.style.SUCCESS(
                    f"Fertig: {s.get('values', 0)} Werte "
                    f"({s.get('suppressed', 0)} gesperrt) "
                    f"für {s.get('variables', 0)} Variablen, "
                    f"{s.get('units', 0)} Räume, "
                    f"Stichtag(e) {', '.join(s.get('ref_dates', []))}; "
                    f"{s.get('aggregates', 0)} Aggregate berechnet; "
                    f"{s.get('replaced', 0)} frühere Werte ersetzt."
                )
            )
            for item in run.report[:20]:
                self.stdout.write(f"  Hinweis: {item['text']}")
            if s.get("incomplete_metadata"):
                self.stdout.write(
                    "  Metadaten unvollständig: " + ", ".join(s["incomplete_metadata"])
                )
            return
        lines = [run.error] + [f"  {item['text']}" for item in run.report[:50]]
        if run.status == ImportRun.Status.REVIEW:
            lines.append(
                "  Zuordnen mit --map ALT=NEU oder überspringen mit --skip SCHLÜSSEL."
            )
        raise CommandError("\n".join(lines))
