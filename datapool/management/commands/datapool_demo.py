import hashlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from datapool.models import ImportRun
from datapool.parsers.registry import parser_kinds
from datapool.services.imports import import_run_create, import_run_execute

DEMO_DIR = Path(settings.BASE_DIR) / "datapool" / "data" / "demo"
# The real Berlin files `make run` loads, with the decisions a data coordinator
# would take for them (the 2024 matrix still carries a pre-2021 key).
MANIFEST = [
    ("EWR_L21_202412E_Matrix.csv", "ewr", {"key_map": {"06200318": "06200418"}}),
    (
        # Statistischer Bericht A I 16, table T1 (derived CSV): migration background
        # and foreigners, which the EWR main matrix does not carry.
        "einwohner_plr_2024-12-31_t1_migrationshintergrund.csv",
        "table",
        {
            "key_column": "id",
            "ref_date": "2024-12-31",
            "supplier": "afs",
            "decimal": "point",
            "source": "Amt für Statistik Berlin-Brandenburg, Statistischer Bericht "
            "A I 16 hj 2/24, Tabelle T1",
            "license": "CC BY 3.0 DE",
            "columns": {
                "inhabitants_with_migration_background": {
                    "variable": "EW_MH",
                    "new": {
                        "name": "Einwohner mit Migrationshintergrund",
                        "theme": "bevoelkerung",
                        "unit": "Personen",
                        "value_type": "count",
                        "aggregation": "sum",
                    },
                },
                "inhabitants_foreigners": {
                    "variable": "E_A",
                    "new": {
                        "name": "Ausländer insgesamt",
                        "theme": "bevoelkerung",
                        "unit": "Personen",
                        "value_type": "count",
                        "aggregation": "sum",
                    },
                },
            },
        },
    ),
    ("mss2021_indizes_plr.csv", "mss", {}),
    ("mss2021_index_indikatoren_plr.csv", "mss", {}),
    ("mss2021_kontext_indikatoren_plr.csv", "mss", {}),
    (
        "infra_kitas_epsg25833.geojson",
        "points",
        {
            "layer": "kitas",
            "layer_name": "Kindertagesstätten",
            "sum_attribute": "e_platz",
            "ref_date": "2022-12-31",
            "source": "Geoportal Berlin / FIS-Broker, WFS Kindertagesstätten",
            "license": "dl-de/by-2-0 (Geoportal Berlin)",
        },
    ),
    (
        "infra_schulen_epsg25833.geojson",
        "points",
        {
            "layer": "schulen",
            "layer_name": "Schulen",
            "ref_date": "2023-10-31",
            "source": "Geoportal Berlin / FIS-Broker, WFS Schulen",
            "license": "dl-de/by-2-0 (Geoportal Berlin)",
        },
    ),
    (
        "infra_jugendfreizeiteinrichtungen_epsg25833.geojson",
        "points",
        {
            "layer": "jfe",
            "layer_name": "Jugendfreizeiteinrichtungen",
            "sum_attribute": "e_platz",
            "ref_date": "2022-12-31",
            "source": "Geoportal Berlin / FIS-Broker, WFS Jugendfreizeiteinrichtungen",
            "license": "dl-de/by-2-0 (Geoportal Berlin)",
        },
    ),
]


class Command(BaseCommand):
    help = "Load the shipped real Berlin demo data (skips files already loaded)."

    def handle(self, *args, **options) -> None:
        available = parser_kinds()
        for name, kind, parser_options in MANIFEST:
            path = DEMO_DIR / name
            checksum = hashlib.sha256(path.read_bytes()).hexdigest()
            if ImportRun.objects.filter(
                checksum=checksum, status=ImportRun.Status.SUCCEEDED
            ).exists():
                self.stdout.write(f"  {name}: bereits geladen")
                continue
            if kind not in available:
                self.stdout.write(
                    f"  {name}: Importart {kind} nicht verfügbar, übersprungen"
                )
                continue
            run = import_run_create(
                kind=kind, path=path, original_name=name, options=parser_options
            )
            run = import_run_execute(import_run=run)
            if run.status == ImportRun.Status.SUCCEEDED:
                self.stdout.write(
                    f"  {name}: {run.summary.get('values', 0)} Werte geladen"
                )
            else:
                self.stderr.write(f"  {name}: {run.get_status_display()} – {run.error}")
