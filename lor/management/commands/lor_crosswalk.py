import csv
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lor.services import CrosswalkError, crosswalk_compute


def read_population(path: Path, *, key: str, value: str) -> dict[str, int]:
    """Persons per key from a CSV (``;`` or ``,``, quoted or not; empty = 0).

    The MSS 2021 tables leave ``EW`` empty for units without inhabitants (their
    sum is the Berlin total), so an empty cell counts as 0 here.
    """
    with path.open(encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        reader = csv.DictReader(fh, delimiter=";" if ";" in first else ",")
        columns = list(reader.fieldnames or [])
        if key not in columns or value not in columns:
            raise CommandError(f"{path.name}: Spalten {key} und {value} erwartet.")
        population: dict[str, int] = {}
        for line_no, row in enumerate(reader, start=2):
            cell = (row[value] or "").strip()
            if cell and not cell.isdigit():
                raise CommandError(
                    f"{path.name}, Zeile {line_no}, Spalte {value}: „{cell}“ ist "
                    "keine Anzahl."
                )
            population[row[key].strip()] = int(cell or 0)
    return population


class Command(BaseCommand):
    help = (
        "Compute the crosswalk LOR 2006 → LOR 2021 (Planungsräume) in PostGIS: "
        "areal overlay calibrated to the population of 31.12.2020 in both schemes "
        "(docs/crosswalk.md). Idempotent; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--old-population",
            type=Path,
            default=Path(settings.PRISMA_LOR_DATA_DIR)
            / "lor2006"
            / "EWR202012E_Matrix.csv",
            help="EWR matrix 31.12.2020 in LOR 2006 (RAUMID; E_E).",
        )
        parser.add_argument(
            "--new-population",
            type=Path,
            default=Path(settings.BASE_DIR)
            / "datapool"
            / "data"
            / "demo"
            / "mss2021_indizes_plr.csv",
            help="MSS 2021 table with EW (31.12.2020) per LOR 2021 Planungsraum.",
        )

    def handle(self, *args, **options) -> None:
        old = read_population(options["old_population"], key="RAUMID", value="E_E")
        new = read_population(options["new_population"], key="PLR_ID", value="EW")
        try:
            report = crosswalk_compute(
                old_population=old,
                new_population=new,
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except CrosswalkError as exc:
            raise CommandError(
                f"Umschlüsselung abgebrochen, nichts geändert: {exc}"
            ) from exc
        relations = ", ".join(f"{k}: {n}" for k, n in sorted(report.relations.items()))
        self.stdout.write(
            f"Umschlüsselung LOR 2006 → 2021: {report.pieces} Teilflächen; "
            f"neue Planungsräume {relations}; IPF {report.iterations} Schritte, "
            f"größte Randabweichung {report.max_margin_error:.2g} Einwohner."
        )
        if report.area_only_old_units:
            self.stdout.write(
                "  nur Flächengewichte (kein bewohnter Nachfolger): "
                + ", ".join(report.area_only_old_units)
            )
