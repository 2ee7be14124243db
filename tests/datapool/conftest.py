"""Fixtures for Datenpool tests: the real AfS and MSS files from ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from datapool.models import Coverage, Delivery, ImportRun, Observation, Variable
from tests.conftest import SHARED_DATA, ewr_import

EWR_FILE = SHARED_DATA / "EWR_L21_202412E_Matrix.csv"


@pytest.fixture
def ewr_imported(db) -> ImportRun:
    """The run of ``ewr_import`` (without the root fixture's ``lor_units``)."""
    ewr_import()
    return ImportRun.objects.latest("pk")


def ewr_run_created(request) -> ImportRun:
    """A run of the real EWR matrix (the non-LOR key mapped), created, not started.

    The run's stored copy of the file is removed after the test.
    """
    from datapool.services.imports import import_run_create

    run = import_run_create(
        kind=ImportRun.Kind.EWR,
        path=EWR_FILE,
        original_name=EWR_FILE.name,
        options={"key_map": {"06200318": "06200418"}},
    )
    request.addfinalizer(lambda: Path(run.file.path).unlink(missing_ok=True))
    return run


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
