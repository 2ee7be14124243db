"""Fixtures for profile tests: the real EWR matrix 2024 with computed indicators."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import call_command

from datapool.models import ImportRun
from datapool.services.indicators import (
    indicator_definitions_load,
    indicator_run_create,
    indicator_run_execute,
)
from tests.conftest import SHARED_DATA

EWR_FILE = SHARED_DATA / "EWR_L21_202412E_Matrix.csv"
REGION = "011001"


def indicators_compute() -> ImportRun:
    """Recompute every indicator now (imports schedule it on commit, tests do not)."""
    indicator_definitions_load()
    run = indicator_run_execute(run=indicator_run_create())
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    return run


def ewr_import(path: Path) -> ImportRun:
    call_command(
        "datapool_import", str(path), "--map", "06200318=06200418", verbosity=0
    )
    return ImportRun.objects.latest("pk")


def ewr_variant(tmp_path: Path, *, zeit: str, factor: float, name: str) -> Path:
    """A constructed matrix from the real 2024 one: other month, counts scaled.

    Not real data: it stands in for an earlier (or corrected) delivery so that
    changes over time and re-imports can be tested on real structures.
    """
    with EWR_FILE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], rows[1:]
    first_value = header.index("E_E")
    out = [header]
    for row in body:
        new = list(row)
        new[0] = zeit
        for i in range(first_value, len(row)):
            if row[i].strip():
                new[i] = str(round(int(row[i]) * factor))
        out.append(new)
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(out)
    return path


@pytest.fixture
def indicators_2024(ewr_imported) -> ImportRun:
    return indicators_compute()
