import hashlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from datapool.models import ImportRun
from datapool.services.imports import import_run_create, import_run_execute

DEMO_DIR = Path(settings.BASE_DIR) / "datapool" / "data" / "demo"
# The real Berlin files `make run` loads, with the decisions a data coordinator
# would take for them (the 2024 matrix still carries a pre-2021 key).
MANIFEST = [
    ("EWR_L21_202412E_Matrix.csv", "ewr", {"key_map": {"06200318": "06200418"}}),
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
        },
    ),
    (
        "infra_schulen_epsg25833.geojson",
        "points",
        {"layer": "schulen", "layer_name": "Schulen"},
    ),
    (
        "infra_jugendfreizeiteinrichtungen_epsg25833.geojson",
        "points",
        {"layer": "jfe", "layer_name": "Jugendfreizeiteinrichtungen"},
    ),
]


class Command(BaseCommand):
    help = "Load the shipped real Berlin demo data (skips files already loaded)."

    def handle(self, *args, **options) -> None:
        from datapool.services.imports import _parsers

        available = set(_parsers())
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
