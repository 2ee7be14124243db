"""Test run: the same PostGIS and Redis as production, tasks run in-process."""

import os
import uuid

os.environ.setdefault("DATABASE_URL", "postgis://127.0.0.1:5432/prisma")

from .base import *  # noqa: E402, F403

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The worker tests (tests/datapool/test_worker.py) start a real Celery worker on
# these settings with eager mode and the shared connection turned off.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)  # noqa: F405
if not env.bool("PRISMA_SEPARATE_PROGRESS_DB", default=False):  # noqa: F405
    # One connection in tests: each test's transaction must see the progress rows.
    del DATABASES["progress"]  # noqa: F405
    PRISMA_PROGRESS_DB = "default"
# Shared answers are keyed by the data version, which repeats between test runs
# (a fresh test database starts its ids again): each test process has keys of its own.
CACHES["answers"]["KEY_PREFIX"] = f"prisma-answers-test-{uuid.uuid4().hex}"  # noqa: F405
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
SECRET_KEY = "test-only-not-secret"  # noqa: S105
STATIC_ROOT = None  # tests serve nothing from collectstatic
