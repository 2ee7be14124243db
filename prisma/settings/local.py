"""Developer and demo machine: `make run`."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

if not SECRET_KEY:  # noqa: F405
    # A per-checkout key under var/ keeps sessions valid across restarts without
    # committing a secret.
    from django.core.management.utils import get_random_secret_key

    _key_file = BASE_DIR / "var" / "secret_key"
    if not _key_file.exists():
        _key_file.parent.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(get_random_secret_key())
    SECRET_KEY = _key_file.read_text().strip()

DEBUG = env.bool("DEBUG", default=True)
PRISMA_DEMO_USER = env("PRISMA_DEMO_USER", default="demo")
PRISMA_DEMO_PASSWORD = env("PRISMA_DEMO_PASSWORD", default="prisma-demo")
