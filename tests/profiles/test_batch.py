"""Batch PDFs of all Bezirksregionen of a district, as a ZIP, with progress."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest

from lor.models import LorUnit
from profiles.batch import (
    BatchError,
    profile_batch_regions,
    profile_batch_render,
    profile_batch_status,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _district_codes(prefix: str) -> list[str]:
    return list(
        LorUnit.objects.filter(
            level=LorUnit.Level.BEZIRKSREGION, code__startswith=prefix
        )
        .order_by("code")
        .values_list("code", flat=True)
    )


def test_batch_for_a_district_zips_one_pdf_per_region_with_progress(
    indicators_2024, media_root
):
    progress: list[tuple[int, int]] = []

    path = profile_batch_render(
        scope="02", progress=lambda done, total: progress.append((done, total))
    )

    codes = _district_codes("02")
    assert len(codes) == 8  # Friedrichshain-Kreuzberg
    assert progress == [(i, len(codes)) for i in range(1, len(codes) + 1)]
    assert path.is_relative_to(media_root)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert [name[:6] for name in names] == codes
        assert all(archive.read(name).startswith(b"%PDF") for name in names)
    assert all(name.endswith(".pdf") and name[6] == "_" for name in names)


def test_batch_page_runs_eagerly_reports_done_and_serves_the_zip(
    indicators_2024, client_logged_in
):
    response = client_logged_in.post("/profiles/batch/", {"scope": "06"})

    assert response.status_code == 302
    status_url = response["Location"]
    batch_id = status_url.rstrip("/").split("/")[-1]
    page = client_logged_in.get(status_url)
    assert page.status_code == 200
    assert b"profiles_batch.js" in page.content
    status = client_logged_in.get(f"{status_url}status.json").json()
    assert status["state"] == "SUCCESS"
    assert status["done"] == status["total"] == 8 and status["percent"] == 100
    download = client_logged_in.get(f"/profiles/batch/{batch_id}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert [n[:6] for n in archive.namelist()] == _district_codes("06")


def test_batch_form_offers_berlin_and_the_districts(client_logged_in):
    page = client_logged_in.get("/profiles/batch/")

    assert page.status_code == 200
    assert b'value="berlin"' in page.content and b'value="12"' in page.content


def test_batch_rejects_unknown_scope(client_logged_in):
    response = client_logged_in.post("/profiles/batch/", {"scope": "99"})

    assert response.status_code == 400
    with pytest.raises(BatchError):
        profile_batch_regions(scope="../x")


def test_unknown_batch_is_404(client_logged_in):
    batch_id = uuid.uuid4()
    for url in (
        f"/profiles/batch/{batch_id}/",
        f"/profiles/batch/{batch_id}/status.json",
        f"/profiles/batch/{batch_id}/download/",
        "/profiles/batch/not-a-uuid/",
    ):
        assert client_logged_in.get(url).status_code == 404
    with pytest.raises(BatchError):
        profile_batch_status(batch_id=str(batch_id))


def test_batch_pages_require_login(client):
    assert client.get("/profiles/batch/").status_code == 302
    assert client.post("/profiles/batch/", {"scope": "01"}).status_code == 302


def test_only_the_requester_and_administrators_see_a_batch(
    client, user, coordinator, administrator, lor_units
):
    from profiles.batch import (
        MANIFEST,
        _batch_dir,
        profile_batch_assemble,
        profile_batch_prepare,
    )

    batch_id, _codes = profile_batch_prepare(scope="06", requested_by=user.pk)
    pending = [
        f"/profiles/batch/{batch_id}/",
        f"/profiles/batch/{batch_id}/status.json",
    ]
    client.force_login(coordinator)
    assert [client.get(url).status_code for url in pending] == [404, 404]
    client.force_login(user)
    assert [client.get(url).status_code for url in pending] == [200, 200]
    assert "requested_by" not in client.get(pending[1]).json()

    # Stand-ins for the PDFs the worker writes: only the access is tested here.
    directory = _batch_dir(batch_id)
    manifest = json.loads((directory / MANIFEST).read_text())
    for name in manifest["regions"].values():
        (directory / name).write_bytes(b"%PDF-1.7 stand-in")
    profile_batch_assemble(batch_id=batch_id)
    done = [*pending, f"/profiles/batch/{batch_id}/download/"]
    assert profile_batch_status(batch_id=batch_id)["requested_by"] == user.pk

    client.force_login(coordinator)
    assert [client.get(url).status_code for url in done] == [404, 404, 404]
    client.force_login(administrator)
    assert [client.get(url).status_code for url in done] == [200, 200, 200]
    client.force_login(user)
    download = client.get(done[2])
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert [n[:6] for n in archive.namelist()] == _district_codes("06")


def test_a_batch_without_requester_is_for_administrators_only(
    client, user, administrator, lor_units
):
    from profiles.batch import profile_batch_prepare

    batch_id, _codes = profile_batch_prepare(scope="06")
    url = f"/profiles/batch/{batch_id}/status.json"
    client.force_login(user)
    assert client.get(url).status_code == 404
    client.force_login(administrator)
    assert client.get(url).status_code == 200


# --- limits: who may start which batch, one at a time (security finding 8) ------


@pytest.fixture
def guest(django_user_model, lor_units):
    from core.access import Role
    from tests.conftest import make_user

    return make_user(django_user_model, "gast", Role.GUEST, None)


def _batches(media_root) -> list:
    root = media_root / "profile-batches"
    return list(root.iterdir()) if root.exists() else []


def test_guests_start_no_batch_not_even_three_berlin_wide(client, guest, media_root):
    client.force_login(guest)

    page = client.get("/profiles/batch/")
    posts = [client.post("/profiles/batch/", {"scope": "berlin"}) for _ in range(3)]

    assert page.status_code == 403
    assert [p.status_code for p in posts] == [403, 403, 403]
    html = posts[0].content.decode()
    assert 'class="topbar"' in html  # the site layout
    assert "Gastbegutachtende können keine PDF-Stapel erstellen" in html
    assert _batches(media_root) == []


def test_berlin_wide_batches_are_for_administrators_only(
    client, user, coordinator, media_root
):
    from django.core.exceptions import PermissionDenied

    from profiles.batch import profile_batch_start

    for person in (user, coordinator):
        client.force_login(person)
        form = client.get("/profiles/batch/").content.decode()
        response = client.post("/profiles/batch/", {"scope": "berlin"})
        assert response.status_code == 403
        assert "Nur die Administration" in response.content.decode()
        # Offered, but disabled, with the user's district preselected.
        assert '<option value="berlin" disabled>' in form
        assert '<option value="01" selected>' in form
        with pytest.raises(PermissionDenied):
            profile_batch_start(scope="berlin", user=person)
    assert _batches(media_root) == []


def test_the_batch_rule_per_role(user, coordinator, administrator, guest):
    from core.access import profile_batch_allowed

    allowed = {
        name: (
            profile_batch_allowed(user=person, berlin_wide=False),
            profile_batch_allowed(user=person, berlin_wide=True),
        )
        for name, person in [
            ("guest", guest),
            ("planner", user),
            ("coordinator", coordinator),
            ("admin", administrator),
        ]
    }

    assert allowed == {
        "guest": (False, False),
        "planner": (True, False),
        "coordinator": (True, False),
        "admin": (True, True),
    }


def test_a_second_batch_waits_for_the_first_with_a_link_to_it(
    client_logged_in, user, media_root
):
    from profiles.batch import (
        BatchRunningError,
        profile_batch_prepare,
        profile_batch_start,
    )

    running, _codes = profile_batch_prepare(scope="06", requested_by=user.pk)

    response = client_logged_in.post("/profiles/batch/", {"scope": "01"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Ihr vorheriger Stapel wird noch erstellt" in html
    assert f'href="/profiles/batch/{running}/"' in html
    assert len(_batches(media_root)) == 1
    with pytest.raises(BatchRunningError) as refused:
        profile_batch_start(scope="01", user=user)
    assert refused.value.batch_id == running


def test_only_the_users_own_live_batches_count(user, coordinator, media_root):
    import os
    import time

    from profiles.batch import (
        STALE_SECONDS,
        _batch_dir,
        profile_batch_fail,
        profile_batch_prepare,
        profile_batch_running_for,
    )

    others, _codes = profile_batch_prepare(scope="06", requested_by=coordinator.pk)
    assert profile_batch_running_for(user_id=user.pk) is None
    assert profile_batch_running_for(user_id=coordinator.pk) == others

    failed, _codes = profile_batch_prepare(scope="06", requested_by=user.pk)
    profile_batch_fail(batch_id=failed, error="060101: kaputt")
    assert profile_batch_running_for(user_id=user.pk) is None

    # A batch whose worker died shows no progress; after a while it is ignored.
    abandoned, _codes = profile_batch_prepare(scope="06", requested_by=user.pk)
    assert profile_batch_running_for(user_id=user.pk) == abandoned
    old = time.time() - STALE_SECONDS - 60
    os.utime(_batch_dir(abandoned), (old, old))
    assert profile_batch_running_for(user_id=user.pk) is None


def test_a_finished_batch_does_not_block_the_next(indicators_2024, client_logged_in):
    first = client_logged_in.post("/profiles/batch/", {"scope": "06"})
    second = client_logged_in.post("/profiles/batch/", {"scope": "06"})

    assert first.status_code == second.status_code == 302
    assert first["Location"] != second["Location"]
