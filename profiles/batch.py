"""Batch PDFs: every Bezirksregion of a district or of Berlin as one ZIP.

A batch is a directory under ``MEDIA_ROOT/profile-batches/<batch id>/`` (outside
the web root; the download view checks the login). ``manifest.json`` names the
scope, the regions and who asked for the batch (``requested_by``, a user id:
only that user and administrators may see it); each region's PDF is written
there as soon as it is rendered (so that progress is a count of files,
whichever worker wrote them), and the assembled ``<batch id>.zip`` beside the
directory marks the batch done.

Limits (bounded work): who may start a batch of which scope is
``core.access.profile_batch_allowed``; each user has at most one unfinished
batch (``profile_batch_running_for``), checked under a per-user database lock so
that two quick clicks cannot both pass. A batch that showed no progress for
``STALE_SECONDS`` (its worker died) no longer counts as unfinished.

In a worker the regions are rendered by one task each (a Celery chord), so all
worker processes share the work; the chord's final task carries the batch id,
so ``AsyncResult(batch_id)`` gives its state, and the region tasks report
``PROGRESS`` with ``{"done", "total"}`` under the same id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.access import require_profile_batch
from lor.models import LorUnit

logger = logging.getLogger(__name__)

BERLIN_SCOPE = "berlin"
MANIFEST = "manifest.json"
ERROR_FILE = "error.txt"
# Finished or abandoned batches older than this are removed when a new one starts.
KEEP_SECONDS = 24 * 3600
# An unfinished batch without a new PDF for this long is taken as abandoned.
STALE_SECONDS = 30 * 60
# Namespace of the per-user advisory lock taken while a batch starts.
_START_LOCK = 0x5052_4953  # "PRIS"


class BatchError(ValueError):
    """The batch cannot be started; the message says why."""


class BatchRunningError(BatchError):
    """The user has an unfinished batch already; ``batch_id`` names it."""

    def __init__(self, batch_id: str):
        super().__init__(
            _(
                "Your previous batch is still being created. Please wait until it "
                "is finished before starting another one."
            )
        )
        self.batch_id = batch_id


def profile_batch_root() -> Path:
    """Directory of all batches (outside the web root)."""
    return Path(settings.MEDIA_ROOT) / "profile-batches"


def _batch_dir(batch_id: str) -> Path:
    # The id always comes through uuid.UUID, so it can never leave the root.
    return profile_batch_root() / str(uuid.UUID(str(batch_id)))


def profile_batch_zip_path(*, batch_id: str) -> Path:
    return profile_batch_root() / f"{uuid.UUID(str(batch_id))}.zip"


def profile_batch_regions(*, scope: str) -> list[LorUnit]:
    """The Bezirksregionen of a district (2-digit key) or of Berlin, by key."""
    regions = LorUnit.objects.filter(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRKSREGION
    ).order_by("code")
    if scope != BERLIN_SCOPE:
        if not (len(scope) == 2 and scope.isdigit()):
            raise BatchError(f"Unknown scope {scope[:20]!r}.")
        regions = regions.filter(code__startswith=scope)
    found = list(regions)
    if not found:
        raise BatchError(f"No Bezirksregionen for scope {scope[:20]!r}.")
    return found


def _member_name(region: LorUnit) -> str:
    return f"{region.code}_{slugify(region.name) or 'region'}.pdf"


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False))
    os.replace(tmp, path)


def profile_batch_prepare(
    *, scope: str, variant: str = "full", requested_by: int | None = None
) -> tuple[str, list[str]]:
    """Create a batch directory and manifest; returns (batch id, region keys)."""
    regions = profile_batch_regions(scope=scope)
    batch_id = str(uuid.uuid4())
    directory = _batch_dir(batch_id)
    directory.mkdir(parents=True)
    _write_json(
        directory / MANIFEST,
        {
            "scope": scope,
            "variant": variant,
            "requested_by": requested_by,
            "created": time.time(),
            "regions": {r.code: _member_name(r) for r in regions},
        },
    )
    return batch_id, [r.code for r in regions]


def _manifest(batch_id: str) -> dict | None:
    try:
        return json.loads((_batch_dir(batch_id) / MANIFEST).read_text())
    except FileNotFoundError:
        return None


def profile_batch_render_region(*, batch_id: str, code: str) -> tuple[int, int]:
    """Render one region's PDF into the batch; returns (done, total) afterwards."""
    from .rendering import profile_pdf_render
    from .selectors import profile_document_for_region, profile_region_get

    manifest = _manifest(batch_id)
    if manifest is None or code not in manifest["regions"]:
        raise BatchError(f"Region {code[:8]} is not part of batch {batch_id}.")
    region = profile_region_get(code=code)
    document = profile_document_for_region(region=region)
    pdf = profile_pdf_render(document=document, variant=manifest["variant"])
    directory = _batch_dir(batch_id)
    target = directory / manifest["regions"][code]
    tmp = directory / f".{code}.part"
    tmp.write_bytes(pdf)
    os.replace(tmp, target)
    return _count_done(directory, manifest), len(manifest["regions"])


def _count_done(directory: Path, manifest: dict) -> int:
    return sum((directory / name).exists() for name in manifest["regions"].values())


def profile_batch_assemble(*, batch_id: str) -> Path:
    """Zip the batch's PDFs (all regions must be there) and remove the parts."""
    manifest = _manifest(batch_id)
    if manifest is None:
        raise BatchError(f"Unknown batch {batch_id}.")
    directory = _batch_dir(batch_id)
    missing = [
        code
        for code, name in manifest["regions"].items()
        if not (directory / name).exists()
    ]
    if missing:
        raise BatchError(f"Missing PDFs for {', '.join(missing[:5])}.")
    target = profile_batch_zip_path(batch_id=batch_id)
    tmp = target.with_suffix(".zip.part")
    # PDFs are compressed already: storing them is as small and much faster.
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(manifest["regions"].values()):
            archive.write(directory / name, arcname=name)
    # The summary first: a ZIP in place means done, and its status reads it.
    _write_json(target.with_suffix(".json"), {**manifest, "finished": time.time()})
    os.replace(tmp, target)
    shutil.rmtree(directory, ignore_errors=True)
    return target


def profile_batch_fail(*, batch_id: str, error: str) -> None:
    """Record why a batch failed, for the status page."""
    directory = _batch_dir(batch_id)
    if directory.exists():
        (directory / ERROR_FILE).write_text(error[:2000])


def profile_batch_render(
    *,
    scope: str,
    variant: str = "full",
    progress: Callable[[int, int], None] | None = None,
    requested_by: int | None = None,
) -> Path:
    """All regions of the scope rendered here, one after another, as a ZIP."""
    batch_id, codes = profile_batch_prepare(
        scope=scope, variant=variant, requested_by=requested_by
    )
    for code in codes:
        done, total = profile_batch_render_region(batch_id=batch_id, code=code)
        if progress is not None:
            progress(done, total)
    return profile_batch_assemble(batch_id=batch_id)


def profile_batch_cleanup(*, now: float | None = None) -> int:
    """Remove batches older than a day; returns how many were removed."""
    root = profile_batch_root()
    if not root.exists():
        return 0
    limit = (now or time.time()) - KEEP_SECONDS
    removed = 0
    for entry in root.iterdir():
        if entry.stat().st_mtime >= limit:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


def profile_batch_running_for(*, user_id: int, now: float | None = None) -> str | None:
    """The id of the user's unfinished batch that still makes progress, or ``None``."""
    root = profile_batch_root()
    if not root.exists():
        return None
    now = now or time.time()
    for directory in root.iterdir():
        # Only an unfinished batch is a directory; an assembled one is a ZIP.
        if not directory.is_dir() or now - _last_activity(directory) > STALE_SECONDS:
            continue
        try:
            status = profile_batch_status(batch_id=directory.name)
        except (BatchError, ValueError):
            continue
        if status["requested_by"] == user_id and status["state"] not in (
            "SUCCESS",
            "FAILURE",
        ):
            return directory.name
    return None


def _last_activity(directory: Path) -> float:
    # Writing a region's PDF into the directory updates its mtime.
    try:
        return directory.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def profile_batch_start(*, scope: str, variant: str = "full", user=None) -> str:
    """Start rendering the scope's PDFs as Celery tasks; returns the batch id.

    ``user`` is who asks (``None``: a script, whose batch is the
    administrators'); they must be allowed the scope and have no unfinished
    batch (``BatchRunningError``). Only they and administrators may see the
    batch. With eager tasks (no broker) everything has run when this returns.
    """
    from celery import chord

    from .tasks import profile_batch_assemble_task, profile_batch_region_task

    requested_by = user.pk if user is not None else None
    if user is not None:
        require_profile_batch(user=user, berlin_wide=scope == BERLIN_SCOPE)
    profile_batch_cleanup()
    with transaction.atomic():
        if requested_by is not None:
            # Held until the new batch's manifest is written: a second request of
            # the same user waits here and then sees the first batch.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [_START_LOCK, requested_by]
                )
            running = profile_batch_running_for(user_id=requested_by)
            if running is not None:
                raise BatchRunningError(running)
        batch_id, codes = profile_batch_prepare(
            scope=scope, variant=variant, requested_by=requested_by
        )
    header = [profile_batch_region_task.si(batch_id, code) for code in codes]
    body = profile_batch_assemble_task.si(batch_id).set(task_id=batch_id)
    chord(header, body).apply_async()
    return batch_id


def profile_batch_status(*, batch_id: str) -> dict:
    """{"state", "done", "total", "ready", "error", "scope", "size",
    "requested_by"} of a batch.

    The files are the truth (they work with eager tasks and without a result
    backend); the Celery state adds failures the files cannot show.
    """
    zip_path = profile_batch_zip_path(batch_id=batch_id)
    if zip_path.exists():
        info = {}
        with contextlib.suppress(FileNotFoundError, ValueError):
            info = json.loads(zip_path.with_suffix(".json").read_text())
        total = len(info.get("regions", {}))
        return {
            "state": "SUCCESS",
            "done": total,
            "total": total,
            "ready": True,
            "error": "",
            "scope": info.get("scope", ""),
            "size": zip_path.stat().st_size,
            "requested_by": info.get("requested_by"),
        }
    manifest = _manifest(batch_id)
    if manifest is None:
        raise BatchError(f"Unknown batch {batch_id}.")
    directory = _batch_dir(batch_id)
    done, total = _count_done(directory, manifest), len(manifest["regions"])
    error = ""
    if (directory / ERROR_FILE).exists():
        error = (directory / ERROR_FILE).read_text()
    state = "PROGRESS" if done else "PENDING"
    if not error and not settings.CELERY_TASK_ALWAYS_EAGER:
        state, error = _celery_state(batch_id, state)
    if error:
        state = "FAILURE"
    return {
        "state": state,
        "done": done,
        "total": total,
        "ready": False,
        "error": error,
        "scope": manifest["scope"],
        "size": None,
        "requested_by": manifest.get("requested_by"),
    }


def profile_batch_visible(*, status: dict, user) -> bool:
    """Whether ``user`` may see the batch: the one who asked, or an administrator.

    Batches without a requester (started by a script) are the administrators'.
    """
    from core.access import Role, user_role

    if user is None or not user.is_authenticated:
        return False
    if user_role(user) == Role.ADMIN:
        return True
    requested_by = status.get("requested_by")
    return requested_by is not None and requested_by == user.pk


def _celery_state(batch_id: str, fallback: str) -> tuple[str, str]:
    from celery.result import AsyncResult

    try:
        result = AsyncResult(batch_id)
        state = result.state
    except Exception:  # noqa: BLE001 - a broken backend must not break the page
        logger.warning("batch %s: result backend not reachable", batch_id)
        return fallback, ""
    if state == "FAILURE":
        return state, str(result.info)[:500]
    return (fallback if state == "PENDING" else state), ""
