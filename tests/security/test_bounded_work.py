"""Security issue 15, finding 6: no unbounded work inside a request.

A table uploaded for mapping used to be parsed in the request of the mapping
page, on every reload: a 10 MB CSV with a million columns or a workbook that
unpacks to gigabytes cost minutes and a killed worker. Now a Celery task reads
it once, within ``PRISMA_TABLE_MAX_*`` (datapool/parsers/limits.py), and stores
what the page shows; the page only reads that. The hostile files are built
here: small, over lowered limits, except the million columns and a workbook
that declares gigabytes, which are refused under the default limits.
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from datapool.models import ImportRun
from datapool.services.imports import import_run_create, import_run_execute
from datapool.services.runs import import_runs_fail_stale, run_start
from datapool.tasks import import_run_inspect_task
from lor.models import LorUnit
from tests.datapool.conftest import db_state

pytestmark = pytest.mark.django_db

GIGABYTES_3 = 3_000_000_000


@pytest.fixture
def user(administrator):
    """Berlin-wide tables are uploaded by administrators."""
    return administrator


def _plr_codes(n: int) -> list[str]:
    return list(
        LorUnit.objects.filter(level=LorUnit.Level.PLANUNGSRAUM)
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )


def _csv(rows: int, columns: int) -> bytes:
    header = ["PLR"] + [f"Wert{i}" for i in range(1, columns)]
    lines = [";".join(header)]
    for code in _plr_codes(rows):
        lines.append(";".join([code] + [str(i) for i in range(1, columns)]))
    return ("\n".join(lines) + "\n").encode()


def _xlsx(rows: int, columns: int) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["PLR"] + [f"Wert{i}" for i in range(1, columns)])
    for code in _plr_codes(rows):
        sheet.append([code] + list(range(1, columns)))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _declare_size(workbook: bytes, part: str, declared: int) -> bytes:
    """The workbook with ``part`` claiming ``declared`` bytes unpacked (a zip bomb's
    header): in the central directory, which zipfile trusts, and the local header."""
    data = bytearray(workbook)
    name = part.encode()
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name:
            struct.pack_into("<I", data, at + 24, declared)
            local = struct.unpack_from("<I", data, at + 42)[0]
            struct.pack_into("<I", data, local + 22, declared)
            return bytes(data)
        at += 46
    raise AssertionError(f"{part} not in the workbook")


def _upload(client, name: str, content: bytes) -> ImportRun:
    """Upload as the browser does; the queued inspection is not run (no commit)."""
    response = client.post(
        "/datapool/imports/new/", {"file": SimpleUploadedFile(name, content)}
    )
    run = ImportRun.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == f"/datapool/imports/{run.pk}/mapping/"
    return run


def _mapping_page(client, run: ImportRun) -> tuple[str, float]:
    started = time.monotonic()
    response = client.get(f"/datapool/imports/{run.pk}/mapping/")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    return response.content.decode(), elapsed


def _problems(run: ImportRun) -> str:
    return " ".join(item["text"] for item in run.report)


def test_million_columns_are_not_parsed_in_the_request_and_refused_in_the_task(
    client_logged_in,
):
    content = (
        ";".join(["x"] * 1_000_000) + "\n" + ";".join(["1"] * 1_000_000)
    ).encode()
    before = db_state()
    run = _upload(client_logged_in, "breit.csv", content)
    assert run.status == ImportRun.Status.QUEUED and run.inspection == {}

    # The page waits for the task (polling the run) instead of reading the file.
    html, elapsed = _mapping_page(client_logged_in, run)
    assert 'data-testid="inspection-pending"' in html
    assert 'data-testid="preview-table"' not in html
    assert "import_progress.js" in html
    # Parsing it in the request took minutes; a generous bound, not a benchmark.
    assert elapsed < 60, elapsed
    run.refresh_from_db()
    assert run.status == ImportRun.Status.QUEUED and run.inspection == {}

    started = time.monotonic()
    import_run_inspect_task.delay(run.pk)
    assert time.monotonic() - started < 60  # refused before parsing the columns
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.inspection == {}
    message = (
        "Die Tabelle hat 1.000.000 Spalten; PRISMA liest höchstens 2.000 Spalten "
        "je Datei."
    )
    assert message in _problems(run)
    assert db_state() == before

    # The failure is explained in the site layout, without a mapping form, and
    # a reload shows the stored outcome again.
    for _reload in range(2):
        html, _elapsed = _mapping_page(client_logged_in, run)
        assert message in html
        assert 'data-testid="preview-problems"' in html
        assert 'data-testid="mapping-form"' not in html
        assert 'class="topbar"' in html  # the site layout


@pytest.mark.parametrize(
    ("limits", "name", "build", "message"),
    [
        (
            {"PRISMA_TABLE_MAX_ROWS": 5},
            "lang.csv",
            lambda: _csv(rows=8, columns=3),
            "Die Tabelle hat 8 Zeilen; PRISMA liest höchstens 5 Zeilen je Datei.",
        ),
        (
            {"PRISMA_TABLE_MAX_COLUMNS": 10},
            "breit.csv",
            lambda: _csv(rows=3, columns=12),
            "Die Tabelle hat 12 Spalten; PRISMA liest höchstens 10 Spalten je Datei.",
        ),
        (
            {"PRISMA_TABLE_MAX_CELLS": 30},
            "gross.csv",
            lambda: _csv(rows=8, columns=5),
            "Die Tabelle hat 40 Zellen; PRISMA liest höchstens 30 Zellen je Datei.",
        ),
        (
            {"PRISMA_TABLE_MAX_ROWS": 5},
            "lang.xlsx",
            lambda: _xlsx(rows=8, columns=3),
            "Die Tabelle hat mehr als 5 Zeilen; PRISMA liest höchstens 5 Zeilen je "
            "Datei.",
        ),
        (
            {"PRISMA_TABLE_MAX_COLUMNS": 10},
            "breit.xlsx",
            lambda: _xlsx(rows=3, columns=12),
            "Die Tabelle hat 12 Spalten; PRISMA liest höchstens 10 Spalten je Datei.",
        ),
        (
            {"PRISMA_TABLE_MAX_CELLS": 30},
            "gross.xlsx",
            lambda: _xlsx(rows=8, columns=5),
            "Die Tabelle hat mehr als 30 Zellen; PRISMA liest höchstens 30 Zellen je "
            "Datei.",
        ),
        (
            {"PRISMA_TABLE_MAX_UNPACKED_BYTES": 4096},
            "gepackt.xlsx",
            lambda: _xlsx(rows=3, columns=3),
            "PRISMA liest höchstens 4 KB je Datei.",
        ),
    ],
)
def test_inspection_refuses_a_table_beyond_a_limit_naming_it(
    client_logged_in, settings, limits, name, build, message
):
    for setting, value in limits.items():
        setattr(settings, setting, value)
    before = db_state()
    run = _upload(client_logged_in, name, build())
    import_run_inspect_task.delay(run.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert message in _problems(run), run.report
    assert db_state() == before
    html, _elapsed = _mapping_page(client_logged_in, run)
    assert message in html


def test_workbook_declaring_gigabytes_is_refused_before_it_is_opened(
    client_logged_in,
):
    bomb = _declare_size(_xlsx(3, 3), "xl/worksheets/sheet1.xml", GIGABYTES_3)
    assert (
        zipfile.ZipFile(io.BytesIO(bomb)).getinfo("xl/worksheets/sheet1.xml").file_size
        == GIGABYTES_3
    )
    before = db_state()
    run = _upload(client_logged_in, "bombe.xlsx", bomb)
    import_run_inspect_task.delay(run.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert (
        "Die Arbeitsmappe ist entpackt 2,8 GB groß (Tabellenblatt "
        "xl/worksheets/sheet1.xml: 2,8 GB); PRISMA liest höchstens 100 MB je Datei."
    ) in _problems(run)
    assert db_state() == before


def test_the_import_after_mapping_enforces_the_same_limits(settings, tmp_path):
    settings.PRISMA_TABLE_MAX_ROWS = 5
    path = tmp_path / "lang.csv"
    path.write_bytes(_csv(rows=8, columns=3))
    before = db_state()
    run = import_run_create(
        kind=ImportRun.Kind.TABLE,
        path=path,
        original_name=path.name,
        options={
            "key_column": "PLR",
            "ref_date": "2024-12-31",
            "columns": {"Wert1": {"variable": "LANG", "new": {"name": "Lang"}}},
        },
    )
    run = import_run_execute(import_run=run)
    assert run.status == ImportRun.Status.FAILED
    assert "Die Tabelle hat 8 Zeilen" in _problems(run)
    assert db_state() == before


def test_mapping_page_is_rendered_from_the_stored_inspection(client_logged_in, post):
    response = post(
        "/datapool/imports/new/",
        {"file": SimpleUploadedFile("klein.csv", _csv(rows=4, columns=3))},
    )
    run = ImportRun.objects.latest("pk")
    assert response.status_code == 302
    assert run.status == ImportRun.Status.DRAFT  # inspected as the commit ran
    assert run.inspection["key_column"] == "PLR"
    assert run.inspection["rows_total"] == 4
    # Without the file, reading it again would fail: the page does not read it.
    Path(run.file.path).unlink()
    for _reload in range(2):
        html, _elapsed = _mapping_page(client_logged_in, run)
        assert 'data-testid="preview-table"' in html
        assert 'data-testid="mapping-form"' in html
        assert _plr_codes(1)[0] in html


def test_an_inspection_that_lost_its_run_changes_nothing(client_logged_in):
    run = _upload(client_logged_in, "klein.csv", _csv(rows=4, columns=3))
    execution = run_start(run=run)
    assert execution is not None
    # The sweep declares the worker dead meanwhile; the late result is dropped.
    import_runs_fail_stale(now=timezone.now() + timedelta(hours=1))
    assert not execution.inspected(inspection={"columns": []})
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and run.inspection == {}
    # A retry inspects again (a new attempt), and only then is the run a draft.
    import_run_inspect_task.delay(run.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DRAFT and run.attempts == 2


def test_inspection_runs_on_the_imports_queue_with_time_limits(settings):
    name = "datapool.tasks.import_run_inspect_task"
    assert settings.CELERY_TASK_ROUTES[name] == {"queue": "imports"}
    limits = settings.CELERY_TASK_ANNOTATIONS[name]
    assert 0 < limits["soft_time_limit"] < limits["time_limit"]


def test_run_page_of_an_inspected_table_leads_to_the_mapping(client_logged_in, post):
    post(
        "/datapool/imports/new/",
        {"file": SimpleUploadedFile("klein.csv", _csv(rows=4, columns=3))},
    )
    run = ImportRun.objects.latest("pk")
    html = client_logged_in.get(run.get_absolute_url()).content.decode()
    assert f'href="/datapool/imports/{run.pk}/mapping/"' in html
