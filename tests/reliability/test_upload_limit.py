"""An upload over PRISMA_UPLOAD_MAX_BYTES is refused while it streams in: a clear
German message, and nothing of it stored (no temporary file, no run, no file)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext

from datapool.models import ImportRun
from prisma.uploads import MULTIPART_SLACK, LimitedUploadHandler

pytestmark = pytest.mark.django_db

LIMIT = 200_000
TOO_BIG = "The file is %(size)s; at most %(limit)s can be uploaded."
LINE = b"202412;01100101;01;10;01;01;0110;3580;1869;1711\n"


@pytest.fixture
def uploader(client, administrator):
    """A client whose role may upload deliveries."""
    client.force_login(administrator)
    return client


@pytest.fixture
def small_limit(settings, tmp_path):
    settings.PRISMA_UPLOAD_MAX_BYTES = LIMIT
    # Small files would stay in memory; these must take the temporary-file path.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1_000
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "upload-tmp"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    return settings


def _post(client, size: int):
    content = (LINE * (size // len(LINE) + 1))[:size]
    upload = SimpleUploadedFile(
        "EWR_L21_202412E_Matrix.csv", content, content_type="text/csv"
    )
    return client.post(
        "/datapool/imports/new/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="de"
    )


def _message(size: int) -> str:
    with translation.override("de"):
        return gettext(TOO_BIG) % {
            "size": filesizeformat(size),
            "limit": filesizeformat(LIMIT),
        }


def _limit_handler(response) -> LimitedUploadHandler:
    handlers = response.wsgi_request.upload_handlers
    assert isinstance(handlers[0], LimitedUploadHandler)
    return handlers[0]


def _assert_nothing_stored(settings) -> None:
    assert ImportRun.objects.count() == 0
    assert not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*"))
    assert not any(settings.FILE_UPLOAD_TEMP_DIR.iterdir())


@pytest.mark.parametrize(
    ("size", "early"),
    [
        # just over the limit: only the stream tells, after LIMIT bytes
        (LIMIT + 10_000, False),
        # Content-Length alone tells; no byte reaches the storing handlers
        (10 * LIMIT, True),
    ],
)
def test_oversized_upload_is_refused_while_streaming(
    uploader, small_limit, size, early
):
    response = _post(uploader, size)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert f'role="alert">{_message(size)}</div>' in html
    handler = _limit_handler(response)
    assert handler.refused and handler.body_too_large is early
    assert handler.passed_on == (0 if early else handler.passed_on)
    assert handler.passed_on <= LIMIT
    _assert_nothing_stored(small_limit)


def test_upload_within_limit_is_stored_outside_the_web_root(
    uploader, small_limit, django_capture_on_commit_callbacks
):
    size = LIMIT - MULTIPART_SLACK
    with django_capture_on_commit_callbacks(execute=False):
        response = _post(uploader, size)
    assert response.status_code == 302
    run = ImportRun.objects.get()
    stored = small_limit.MEDIA_ROOT / run.file.name
    assert stored.stat().st_size == size
    # MEDIA_ROOT is not under STATIC_ROOT nor served by any URL.
    assert not str(stored).startswith(str(small_limit.BASE_DIR / "static"))
    assert uploader.get("/media/" + run.file.name).status_code == 404
    assert not any(small_limit.FILE_UPLOAD_TEMP_DIR.iterdir())
