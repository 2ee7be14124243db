"""Production settings pass Django's deployment checks without warnings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def _environment() -> dict:
    # The test settings allow sync ORM calls beside Playwright's event loop; a
    # deployment must not inherit that.
    return {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def test_check_deploy_with_production_settings_is_clean():
    env = {
        **_environment(),
        "DJANGO_SETTINGS_MODULE": "prisma.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "prisma.berlin.example",
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgis://127.0.0.1:5432/prisma"
        ),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {
        **_environment(),
        "DJANGO_SETTINGS_MODULE": "prisma.settings.production",
        "ALLOWED_HOSTS": "prisma.berlin.example",
        "SECRET_KEY": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
