"""The project template import: all or nothing, every problem located and grouped."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEvent
from funding.models import FundingImport, Project, ProjectAmount
from funding.services.imports import funding_import_upload
from lor.models import LorUnit

from .conftest import GOOD_LINES, HEADER, csv_bytes

pytestmark = pytest.mark.django_db


def _mitte() -> LorUnit:
    return LorUnit.objects.get(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code="01"
    )


def _upload(user, content: bytes, name: str, capture) -> FundingImport:
    with capture(execute=True):
        run = funding_import_upload(
            user=user,
            upload=SimpleUploadedFile(name, content),
            district=_mitte(),
            source="QM-Koordination Mitte",
        )
    run.refresh_from_db()
    return run


def test_bad_line_names_line_column_value_and_nothing_is_written(
    funding_examples, coordinator01, django_capture_on_commit_callbacks
):
    before = (Project.objects.count(), ProjectAmount.objects.count())
    bad = [*GOOD_LINES]
    # Line 3 of the file (header is line 1): a letter o instead of a zero.
    bad[1] = bad[1].replace("2.500,50", "2.5oo,50")
    run = _upload(
        coordinator01,
        csv_bytes(bad),
        "massnahmen.csv",
        django_capture_on_commit_callbacks,
    )

    assert run.status == FundingImport.Status.FAILED
    assert (Project.objects.count(), ProjectAmount.objects.count()) == before
    groups = run.summary["problem_groups"]
    assert [g["kind"] for g in groups] == ["number"]
    example = groups[0]["examples"][0]
    assert example["line"] == 3
    assert example["column"] == "Bewilligt (EUR)"
    assert example["value"] == "2.5oo,50"
    assert "massnahmen.csv, Zeile 3, Spalte „Bewilligt (EUR)“" in example["text"]
    assert "nichts" in run.error


def test_fixed_file_imports_projects_and_amounts(
    funding_examples, coordinator01, django_capture_on_commit_callbacks
):
    run = _upload(
        coordinator01,
        csv_bytes(GOOD_LINES),
        "massnahmen.csv",
        django_capture_on_commit_callbacks,
    )

    assert run.status == FundingImport.Status.SUCCEEDED, run.summary
    assert run.summary["created"] == 2
    first = Project.objects.get(district__code="01", number="T-001")
    assert first.unit.code == "01100101"
    assert first.status == Project.Status.RUNNING
    assert first.source == "QM-Koordination Mitte"
    assert not first.is_example
    assert {a.year: (a.approved, a.paid) for a in first.amounts.all()} == {
        2023: (Decimal("10000.00"), Decimal("4000.00")),
        2024: (Decimal("2500.50"), Decimal("8500.50")),
    }
    second = Project.objects.get(district__code="01", number="T-002")
    assert second.area.key == "qm-soldiner-strasse"
    assert second.amounts.get().paid == 0
    assert AuditEvent.objects.filter(
        action="import", object_type="funding.fundingimport", object_id=str(run.pk)
    ).exists()


def test_all_problems_of_a_file_at_once_grouped_with_counts(
    funding_examples, coordinator01, django_capture_on_commit_callbacks
):
    lines = [
        # unknown programme, bad date, Planungsraum of another district
        "X-1;A;gibt-es-nicht;;02100102;;;;;32.13.2024;;;2024;100;",
        # two bad amounts, unknown status
        "X-2;B;efre;;01100101;;;;;;;vielleicht;2024;abc;-5",
        # no place at all, year missing
        "X-3;C;efre;;;;;;;;;;;100;",
        # the same project number with another programme (conflict)
        "X-2;B;benn;;01100101;;;;;;;;2025;100;",
    ]
    run = _upload(
        coordinator01,
        csv_bytes(lines),
        "fehler.csv",
        django_capture_on_commit_callbacks,
    )

    assert run.status == FundingImport.Status.FAILED
    counts = {g["kind"]: g["count"] for g in run.summary["problem_groups"]}
    assert counts == {
        "required": 1,
        "number": 2,
        "date": 1,
        "status": 1,
        "unknown_programme": 1,
        "foreign": 1,
        "place": 1,
        "conflict": 1,
    }
    titles = [g["title"] for g in run.summary["problem_groups"]]
    assert "2 Beträge sind keine gültigen Zahlen" in titles
    assert not Project.objects.filter(number__startswith="X-").exists()


def test_missing_column_is_reported_on_line_1(
    funding_examples, coordinator01, django_capture_on_commit_callbacks
):
    content = ("Projektnummer;Maßnahme;Jahr\nA;B;2024\n").encode()
    run = _upload(
        coordinator01, content, "kurz.csv", django_capture_on_commit_callbacks
    )
    columns = {
        e["column"] for g in run.summary["problem_groups"] for e in g["examples"]
    }
    assert {"Programm", "Bewilligt (EUR)"} <= columns
    assert run.summary["problem_groups"][0]["examples"][0]["line"] == 1


def test_reimport_of_the_same_file_changes_nothing(
    funding_examples, coordinator01, django_capture_on_commit_callbacks
):
    _upload(
        coordinator01,
        csv_bytes(GOOD_LINES),
        "a.csv",
        django_capture_on_commit_callbacks,
    )
    stamps = dict(Project.objects.values_list("number", "updated_at"))
    amount_ids = set(ProjectAmount.objects.values_list("pk", flat=True))

    run = _upload(
        coordinator01,
        csv_bytes(GOOD_LINES),
        "a.csv",
        django_capture_on_commit_callbacks,
    )

    assert run.summary["unchanged"] == 2
    assert dict(Project.objects.values_list("number", "updated_at")) == stamps
    assert set(ProjectAmount.objects.values_list("pk", flat=True)) == amount_ids


def test_xlsx_template_file_imports(
    funding_examples, coordinator01, django_capture_on_commit_callbacks
):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(";"))
    for line in GOOD_LINES:
        cells = line.split(";")
        cells[12] = int(cells[12])  # Excel stores the year as a number
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    run = _upload(
        coordinator01,
        out.getvalue(),
        "massnahmen.xlsx",
        django_capture_on_commit_callbacks,
    )
    assert run.status == FundingImport.Status.SUCCEEDED, run.summary
    assert ProjectAmount.objects.filter(project__number="T-001").count() == 2


def test_coordinator_of_another_district_may_not_upload(funding_examples, lor_units):
    from core.access import Role
    from tests.support.login import user_with_role

    other = user_with_role("koordination03", Role.COORDINATOR, "03")
    with pytest.raises(PermissionDenied):
        funding_import_upload(
            user=other,
            upload=SimpleUploadedFile("a.csv", csv_bytes(GOOD_LINES)),
            district=_mitte(),
        )
    assert not FundingImport.objects.exists()


def test_example_loader_is_idempotent(funding_examples):
    from funding.services.examples import funding_examples_load

    stamps = dict(Project.objects.values_list("number", "updated_at"))
    amount_ids = set(ProjectAmount.objects.values_list("pk", flat=True))
    funding_examples_load()
    assert dict(Project.objects.values_list("number", "updated_at")) == stamps
    assert set(ProjectAmount.objects.values_list("pk", flat=True)) == amount_ids
    assert Project.objects.filter(is_example=False).count() == 0


def test_sweep_fails_an_import_whose_worker_went_silent(
    funding_examples, coordinator01
):
    from datetime import timedelta

    from django.utils import timezone

    from funding.services.imports import funding_imports_fail_stale

    run = FundingImport.objects.create(
        file="funding/x.csv",
        original_name="x.csv",
        district=_mitte(),
        created_by=coordinator01,
        status=FundingImport.Status.RUNNING,
        heartbeat_at=timezone.now() - timedelta(minutes=6),
    )
    fresh = FundingImport.objects.create(
        file="funding/y.csv",
        original_name="y.csv",
        district=_mitte(),
        status=FundingImport.Status.RUNNING,
        heartbeat_at=timezone.now(),
    )
    assert funding_imports_fail_stale() == 1
    run.refresh_from_db()
    fresh.refresh_from_db()
    assert run.status == FundingImport.Status.FAILED
    assert "nichts" in run.error
    assert fresh.status == FundingImport.Status.RUNNING


def test_funding_imports_share_the_datapool_run_states():
    # datapool/services/runs.py drives FundingImport by ImportRun's state names.
    from datapool.models import ImportRun

    for name in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED"):
        assert getattr(FundingImport.Status, name) == getattr(ImportRun.Status, name)


def test_an_import_failed_by_the_sweep_while_running_rolls_back_and_stays_failed(
    funding_examples, coordinator01, django_capture_on_commit_callbacks, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from funding.services import imports

    before = (Project.objects.count(), ProjectAmount.objects.count())
    read = imports.projects_read

    def swept_while_reading(**kwargs):
        # The sweep declares the worker dead while the import still reads; the
        # attempt goes on to write and must not succeed.
        assert imports.funding_imports_fail_stale(
            now=timezone.now() + timedelta(hours=1)
        )
        return read(**kwargs)

    monkeypatch.setattr(imports, "projects_read", swept_while_reading)
    run = _upload(
        coordinator01,
        csv_bytes(GOOD_LINES),
        "massnahmen.csv",
        django_capture_on_commit_callbacks,
    )
    assert run.status == FundingImport.Status.FAILED
    assert run.error == imports.STALE_MESSAGE
    assert run.attempts == 1
    assert (Project.objects.count(), ProjectAmount.objects.count()) == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()


def test_an_import_the_broker_missed_stays_queued_and_the_sweep_sends_it(
    funding_examples, coordinator01, django_capture_on_commit_callbacks, monkeypatch
):
    from funding.services.imports import UNSENT_MESSAGE
    from funding.tasks import funding_import_execute_task, funding_imports_sweep_task

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(funding_import_execute_task, "apply_async", broker_down)
    run = _upload(
        coordinator01,
        csv_bytes(GOOD_LINES),
        "massnahmen.csv",
        django_capture_on_commit_callbacks,
    )
    assert (run.status, run.phase, run.error) == (
        FundingImport.Status.QUEUED,
        "unsent",
        UNSENT_MESSAGE,
    )
    assert funding_imports_sweep_task() == 0  # still down: it stays queued
    run.refresh_from_db()
    assert (run.status, run.phase) == (FundingImport.Status.QUEUED, "unsent")

    monkeypatch.undo()
    assert funding_imports_sweep_task() == 1  # what Celery beat runs every minute
    run.refresh_from_db()
    assert run.status == FundingImport.Status.SUCCEEDED, run.summary
    assert (run.error, run.phase, run.percent) == ("", "done", 100)
    assert Project.objects.filter(number="T-001").exists()


def test_a_point_finds_its_planungsraum_and_a_point_elsewhere_is_refused(
    funding_examples, coordinator01, django_capture_on_commit_callbacks
):
    inside = LorUnit.objects.get(code="01100101").geom.point_on_surface
    kreuzberg = LorUnit.objects.get(code="02100102").geom.point_on_surface
    line = "P-1;Punkt;efre;;;{x};{y};;;;;;2024;100;"
    ok = _upload(
        coordinator01,
        csv_bytes([line.format(x=f"{inside.x:.1f}", y=f"{inside.y:.1f}")]),
        "punkt.csv",
        django_capture_on_commit_callbacks,
    )
    assert ok.status == FundingImport.Status.SUCCEEDED, ok.summary
    project = Project.objects.get(number="P-1")
    assert project.unit.code == "01100101"
    assert project.location.distance(inside) < 1

    refused = _upload(
        coordinator01,
        csv_bytes([line.format(x=f"{kreuzberg.x:.1f}", y=f"{kreuzberg.y:.1f}")]),
        "punkt2.csv",
        django_capture_on_commit_callbacks,
    )
    groups = refused.summary["problem_groups"]
    assert [g["kind"] for g in groups] == ["foreign"]
    assert groups[0]["examples"][0]["column"] == "Rechtswert"


def test_a_polygon_area_covers_the_planungsraeume_at_least_half_inside(
    funding_examples,
):
    from django.contrib.gis.geos import MultiPolygon

    from funding.models import FundingArea, Programme
    from funding.services.examples import funding_area_units_from_geom

    a, b = LorUnit.objects.get(code="01100101"), LorUnit.objects.get(code="01100102")
    # Both Planungsräume, slightly shrunk: each still lies almost wholly inside,
    # their neighbours only touch the edge.
    union = a.geom.union(b.geom).buffer(-5)
    geom = union if isinstance(union, MultiPolygon) else MultiPolygon(union)
    area = FundingArea.objects.create(
        key="polygon",
        name="Polygon",
        programme=Programme.objects.get(key="efre"),
        district=_mitte(),
        geom=geom,
    )
    assert funding_area_units_from_geom(area=area) == 2
    assert set(area.units.values_list("code", flat=True)) == {"01100101", "01100102"}


def test_a_year_outside_the_areas_validity_is_refused(
    funding_examples, coordinator01, django_capture_on_commit_callbacks
):
    # QM Soldiner Straße (example) is valid from 01.01.2020.
    line = "V-1;Vorher;sozialer-zusammenhalt;qm-soldiner-strasse;;;;;;;;;2019;100;"
    run = _upload(
        coordinator01, csv_bytes([line]), "alt.csv", django_capture_on_commit_callbacks
    )
    example = run.summary["problem_groups"][0]["examples"][0]
    assert (example["line"], example["column"], example["value"]) == (2, "Jahr", "2019")
    assert "gültig 01.01.2020" in example["message"]
    assert not Project.objects.filter(number="V-1").exists()
