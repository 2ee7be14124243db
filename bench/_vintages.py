"""Bench setup: "all vintages" simulated by the real EWR matrix under many dates.

The real EWR matrix of 31.12.2024 (``datapool/data/demo/``) is written again for
each earlier half-yearly reference date (ZEIT and file name changed, counts scaled
by a few per cent per step so that dates differ) and imported through
``datapool_import`` like a delivery. Constructed bench data, never committed and
never shown outside a bench database: it only gives the Datenpool the number of
dates that all real vintages (2017–2024) will give it.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EWR = ROOT / "datapool" / "data" / "demo" / "EWR_L21_202412E_Matrix.csv"


def half_years(count: int, newest: str = "202412") -> list[str]:
    """``count`` half-yearly months (JJJJMM) ending with ``newest``, oldest first."""
    months, year, month = [], int(newest[:4]), int(newest[4:])
    for _ in range(count):
        months.append(f"{year}{month:02d}")
        year, month = (year, 6) if month == 12 else (year - 1, 12)
    return sorted(months)


def ewr_for_month(directory: Path, month: str, factor: float) -> Path:
    """The real matrix under another reference month, counts scaled by factor."""
    with EWR.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], rows[1:]
    first_value = header.index("E_E")
    out = [header]
    for row in body:
        new = [month, *row[1:]]
        for i in range(first_value, len(row)):
            if row[i].strip() and row[i].strip() != "NA":
                new[i] = str(round(int(row[i]) * factor))
        out.append(new)
    path = directory / f"EWR_L21_{month}E_Matrix.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(out)
    return path


def vintages_load(count: int, *, manage, env: dict[str, str]) -> list[str]:
    """Import the matrix for the ``count - 1`` dates before 31.12.2024 that are
    missing (the demo data has 31.12.2024); returns the months now stored."""
    import django

    django.setup()
    from datapool.models import Observation

    months = half_years(count)
    stored = {
        d.strftime("%Y%m")
        for d in Observation.objects.filter(variable__key="E_E")
        .values_list("ref_date", flat=True)
        .distinct()
    }
    with tempfile.TemporaryDirectory(prefix="prisma-vintages-") as tmp:
        for step, month in enumerate(reversed(months)):
            if month in stored:
                continue
            path = ewr_for_month(Path(tmp), month, factor=1 - 0.004 * step)
            print(f"  importing {path.name} (bench data)", flush=True)
            manage("datapool_import", str(path), "--map", "06200318=06200418", env=env)
    return months
