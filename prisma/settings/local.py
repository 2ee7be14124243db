"""Developer and demo machine: `make run`."""

import os

# `make run` exports the URL it found or started; plain `manage.py` calls on a
# developer machine fall back to the local server.
os.environ.setdefault("DATABASE_URL", "postgis://127.0.0.1:5432/prisma")

from .base import *  # noqa: E402, F403
from .base import BASE_DIR, env  # noqa: E402

if not SECRET_KEY:  # noqa: F405
    # A per-checkout key under var/ keeps sessions valid across restarts without
    # committing a secret.
    from django.core.management.utils import get_random_secret_key

    _key_file = BASE_DIR / "var" / "secret_key"
    if not _key_file.exists():
        _key_file.parent.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(get_random_secret_key())
    SECRET_KEY = _key_file.read_text().strip()

# Debug pages show code, settings and local variables to whoever reaches the
# server: only when asked for (DEBUG=1). Without DEBUG, WhiteNoise still serves
# the static files, straight from the apps' directories.
DEBUG = env.bool("DEBUG", default=False)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
PRISMA_DEMO_USER = env("PRISMA_DEMO_USER", default="demo")
PRISMA_DEMO_PASSWORD = env("PRISMA_DEMO_PASSWORD", default="prisma-demo")
