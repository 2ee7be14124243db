import hashlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from datapool.models import ImportRun
from datapool.parsers.contract import OLD_SCHEME, SCHEME_OPTION
from datapool.parsers.registry import parser_kinds
from datapool.services.conversion import (
    conversion_run_create,
    conversion_run_execute,
)
from datapool.services.imports import import_run_create, import_run_execute

BASE = Path(settings.BASE_DIR)
# The shipped deliveries in keys of the old scheme, imported into LOR 2006 and
# converted to LOR 2021 (datapool.services.conversion). Any format the import
# reads fits: one line per file, (path, import kind, parser options).
MANIFEST: list[tuple[Path, str, dict]] = [
    # Half-yearly population tables 31.12.2017–2019 (open-data-product, from
    # the AfS Statistischer Bericht A I 16), the same format as zeitreihe/.
    *(
        (
            BASE
            / "datapool"
            / "data"
            / "lor2006"
            / f"berlin-lor-population-{year}-02-{table}-planning-areas.csv",
            "population",
            {},
        )
        for year in (2017, 2018, 2019)
        for table in ("t1", "t2")
    ),
    # AfS Einwohnerregister 31.12.2020, the last matrix in old keys.
    (BASE / "lor" / "data" / "lor2006" / "EWR202012E_Matrix.csv", "ewr", {}),
    # Gesundheits- und Sozialstrukturatlas 2022 (indices 2013 and 2022).
    (
        BASE / "datapool" / "data" / "lor2006" / "gssa_2022_planungsraeume.csv",
        "gssa",
        {},
    ),
]


class Command(BaseCommand):
    help = (
        "Load the shipped deliveries in LOR 2006 keys into the old units and "
        "convert them to LOR 2021 (docs/crosswalk.md). Skips files whose import "
        "and conversion succeeded before; idempotent."
    )

    def handle(self, *args, **options) -> None:
        available = parser_kinds()
        for path, kind, parser_options in MANIFEST:
            name = path.name
            if kind not in available:
                self.stdout.write(f"  {name}: Importart {kind} nicht verfügbar")
                continue
            checksum = hashlib.sha256(path.read_bytes()).hexdigest()
            source = (
                ImportRun.objects.filter(
                    checksum=checksum,
                    status=ImportRun.Status.SUCCEEDED,
                    options__scheme=OLD_SCHEME,
                )
                .order_by("-pk")
                .first()
            )
            if source is None:
                run = import_run_create(
                    kind=kind,
                    path=path,
                    original_name=name,
                    options={**parser_options, SCHEME_OPTION: OLD_SCHEME},
                )
                source = import_run_execute(
                    import_run=run, echo=self._echo(f"{name} (LOR 2006)")
                )
                if source.status != ImportRun.Status.SUCCEEDED:
                    self.stderr.write(
                        f"  {name}: {source.get_status_display()} – {source.error}"
                    )
                    continue
                self.stdout.write(
                    f"  {name}: {source.summary.get('values', 0)} "
                    "Werte auf LOR-2006-Planungsräumen"
                )
            if ImportRun.objects.filter(
                kind=ImportRun.Kind.CONVERSION,
                status=ImportRun.Status.SUCCEEDED,
                options__source_run=source.pk,
            ).exists():
                self.stdout.write(f"  {name}: bereits geladen und umgerechnet")
                continue
            conversion = conversion_run_execute(
                run=conversion_run_create(source_run=source),
                echo=self._echo(f"{name} → LOR 2021"),
            )
            if conversion.status != ImportRun.Status.SUCCEEDED:
                self.stderr.write(f"  {name}: Umrechnung – {conversion.error}")
                continue
            summary = conversion.summary
            self.stdout.write(
                f"  {name}: umgerechnet auf {summary['units']} LOR-2021-"
                f"Planungsräume: {summary['ok_same_area']} gleiche Fläche (1:1), "
                f"{summary['estimated']} geschätzt, {summary['missing']} nicht "
                f"umrechenbar/ohne Wert, {summary['suppressed']} gesperrt"
            )

    def _echo(self, label: str):
        last: list[str] = []

        def echo(phase: str, percent: int) -> None:
            # One line per phase and ten per cent: progress without flooding.
            step = f"{phase} {percent // 10 * 10}"
            if not last or last[-1] != step:
                last.append(step)
                self.stdout.write(f"    {label}: {phase} {percent} %")

        return echo
