"""What every benchmark sets before Django starts.

The project on ``sys.path``, local settings without the query log, by default a
throwaway database of the benchmark's own, and (``eager``) tasks that an import
schedules after its commit run in place, never through a broker.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_environment(*, database: str | None = None, eager: bool = False) -> Path:
    """Set the environment (what is set already wins); returns the project root."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prisma.settings.local")
    os.environ.setdefault("DEBUG", "false")  # DEBUG would record every query
    if eager:
        os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    if database:
        os.environ.setdefault("DATABASE_URL", f"postgis://127.0.0.1:5432/{database}")
    return ROOT
