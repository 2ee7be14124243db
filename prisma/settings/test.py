"""Test run: the same PostGIS and Redis as production, tasks run in-process."""

import os

from .base import *  # noqa: F403

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# One connection in tests: each test's transaction must see the progress rows.
del DATABASES["progress"]  # noqa: F405
PRISMA_PROGRESS_DB = "default"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
SECRET_KEY = "test-only-not-secret"  # noqa: S105
STATIC_ROOT = None  # tests serve nothing from collectstatic
