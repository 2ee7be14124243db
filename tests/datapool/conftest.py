"""Fixtures for Datenpool tests: the real AfS and MSS files from ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from datapool.models import Coverage, Delivery, ImportRun, Observation, Variable
from tests.conftest import SHARED_DATA

EWR_FILE = SHARED_DATA / "EWR_L21_202412E_Matrix.csv"


@pytest.fixture
def ewr_imported(db) -> ImportRun:
    """The real EWR matrix of 31.12.2024, with the one non-LOR key mapped."""
    call_command(
        "datapool_import", str(EWR_FILE), "--map", "06200318=06200418", verbosity=0
    )
    return ImportRun.objects.latest("pk")


def db_state() -> tuple:
    """A fingerprint of everything an import may write."""
    return (
        list(Variable.objects.order_by("key").values_list("key", "name")),
        list(
            Observation.objects.order_by("id").values_list(
                "variable_id", "unit_id", "ref_date", "value", "status", "import_run_id"
            )
        ),
        Delivery.objects.count(),
        Coverage.objects.count(),
    )


def write_text(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path
