"""Upload through the web form, decide on an unknown key, see the result."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datapool.models import ImportRun, Observation
from tests.datapool.conftest import EWR_FILE

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(administrator):
    """Berlin-wide deliveries are uploaded by administrators (issue 7 roles)."""
    return administrator


def _upload(post, path, **extra):
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
    return post("/datapool/imports/new/", {"file": upload, **extra})


def test_ewr_upload_asks_about_unknown_key_then_imports(client_logged_in, post):
    response = _upload(post, EWR_FILE)
    assert response.status_code == 302
    run = ImportRun.objects.latest("pk")
    assert run.kind == ImportRun.Kind.EWR
    assert run.status == ImportRun.Status.REVIEW  # tasks run eagerly in tests
    assert not Observation.objects.exists()

    html = client_logged_in.get(response["Location"]).content.decode()
    assert "06200318" in html and "06200418" in html and "Landweg" in html

    response = post(
        f"/datapool/imports/{run.pk}/resolve/", {"decision_06200318": "map:06200418"}
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.options["key_map"] == {"06200318": "06200418"}
    assert Observation.objects.filter(
        variable__key="E_E", unit__code="06200418", status="suppressed"
    ).exists()


def test_resolve_with_invalid_other_key_shows_error_not_500(client_logged_in, post):
    _upload(post, EWR_FILE)
    run = ImportRun.objects.latest("pk")
    response = post(
        f"/datapool/imports/{run.pk}/resolve/",
        {"decision_06200318": "other", "other_06200318": "99999999"},
    )
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.status == ImportRun.Status.REVIEW


def test_failed_run_can_be_retried(client_logged_in, post, tmp_path):
    bad = tmp_path / "EWR_L21_202412E_Matrix.csv"
    bad.write_text(EWR_FILE.read_text().replace(";3580;", ";3x80;", 1))
    _upload(post, bad)
    run = ImportRun.objects.latest("pk")
    assert run.status == ImportRun.Status.FAILED
    assert any("Zeile 2" in r["text"] and "E_E" in r["text"] for r in run.report)
    html = client_logged_in.get(f"/datapool/imports/{run.pk}/").content.decode()
    assert "3x80" in html
    response = post(f"/datapool/imports/{run.pk}/retry/", {})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and run.attempts == 2


def test_upload_of_unsupported_type_is_refused_clearly(
    client_logged_in, post, tmp_path
):
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ\x00\x00")
    response = _upload(post, exe)
    assert response.status_code == 200
    assert ImportRun.objects.count() == 0


def test_status_api_reports_progress(client_logged_in, post):
    _upload(post, EWR_FILE)
    run = ImportRun.objects.latest("pk")
    data = client_logged_in.get(f"/api/imports/{run.pk}/").json()
    assert data["status"] == "review"
    assert data["report"][0]["line"] == 262


def test_skip_all_skips_every_unknown_key_and_imports(client_logged_in, post):
    _upload(post, EWR_FILE)
    run = ImportRun.objects.latest("pk")
    html = client_logged_in.get(f"/datapool/imports/{run.pk}/").content.decode()
    assert 'data-testid="skip-all"' in html
    response = post(f"/datapool/imports/{run.pk}/resolve/", {"action": "skip_all"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.options["skip_keys"] == ["06200318"]
    assert not Observation.objects.filter(unit__code="06200418").exists()
