"""Fixtures shared by the explorer's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def ewr_2023(ewr_imported, tmp_path):
    """A second date: the E_E column of the real matrix, 10 residents fewer each."""
    from django.core.management import call_command

    from tests.conftest import SHARED_DATA

    lines = (SHARED_DATA / "EWR_L21_202412E_Matrix.csv").read_text("utf-8").splitlines()
    header = lines[0].split(";")
    keep = header.index("E_E") + 1
    out = [";".join(header[:keep])]
    for line in lines[1:]:
        cells = line.split(";")[:keep]
        cells[0] = "202312"
        if cells[-1].strip().isdigit():
            cells[-1] = str(int(cells[-1]) - 10)
        out.append(";".join(cells))
    path = tmp_path / "EWR_L21_202312E_Matrix.csv"
    path.write_text("\n".join(out) + "\n", "utf-8")
    call_command(
        "datapool_import", str(path), "--map", "06200318=06200418", verbosity=0
    )
