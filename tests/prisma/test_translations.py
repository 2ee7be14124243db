"""German and English complete: the German catalogue translates every string the
code marks, and the English UI shows English, not hard-coded German."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# What makemessages must not scan: environments, generated files, tests.
NOT_SOURCE = [".git", ".venv", "var", "tests", "bench", "node_modules", "build"]


def _msgattrib(po: Path, flag: str) -> list[str]:
    """The msgids msgattrib selects with flag (--untranslated, --only-fuzzy)."""
    out = subprocess.run(
        ["msgattrib", flag, "--no-wrap", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [m for m in re.findall(r'^msgid "(.*)"$', out, re.M) if m]


@pytest.fixture(scope="module")
def fresh_catalogue(tmp_path_factory) -> Path:
    """The German catalogue after makemessages in a copy of the tree."""
    if shutil.which("msgattrib") is None:
        pytest.fail("gettext is missing; `make test` installs it.")
    copy = tmp_path_factory.mktemp("tree") / "prisma"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(*NOT_SOURCE, "__pycache__", "*.mo"),
        symlinks=True,
    )
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "de",
            "--no-obsolete",
            "-v",
            "0",
            *(f"--ignore={name}" for name in NOT_SOURCE),
        ],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    return copy / "locale" / "de" / "LC_MESSAGES" / "django.po"


def test_german_catalogue_has_no_untranslated_entry(fresh_catalogue):
    missing = _msgattrib(fresh_catalogue, "--untranslated")
    assert not missing, f"{len(missing)} strings without German: {missing[:40]}"


def test_german_catalogue_has_no_fuzzy_entry(fresh_catalogue):
    fuzzy = _msgattrib(fresh_catalogue, "--only-fuzzy")
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries: {fuzzy[:40]}"


def _english(client):
    from django.conf import settings as django_settings

    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.django_db
def test_english_cookie_shows_english_pages(client_logged_in):
    client = _english(client_logged_in)
    explorer = client.get("/analysis/explorer/").content.decode()
    assert '<html lang="en">' in explorer
    assert "Skip to content" in explorer and "Zum Inhalt springen" not in explorer
    assert "Natural breaks (Fisher-Jenks)" in explorer
    assert '"key": "Key"' in explorer and "Schlüssel" not in explorer
    analyse = client.get("/analysis/analyse/").content.decode()
    assert '"key": "Key"' in analyse


@pytest.mark.django_db
def test_english_cookie_gives_english_export_metadata_and_headers(client_logged_in):
    import json

    from tests.factories.datapool import ObservationFactory

    observation = ObservationFactory()
    selection = {"level": "planungsraum", "columns": [observation.variable.key]}
    client = _english(client_logged_in)
    response = client.get(
        "/analysis/export/",
        {"format": "csv", "selection": json.dumps(selection), "title": "Test"},
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    firsts = [line.split(";")[0] for line in text.splitlines()]
    assert firsts[:5] == ["Title", "Source", "License", "Reference date", "Created"]
    assert "Key;Name;" in text and ";no data" in text
    assert "Schlüssel" not in text and "keine Daten" not in text
    # German stays the default without the cookie.
    client.cookies.pop("django_language")
    german = client.get(
        "/analysis/export/",
        {"format": "csv", "selection": json.dumps(selection), "title": "Test"},
    ).content.decode("utf-8-sig")
    assert german.startswith("Titel;") and "Schlüssel;Name;" in german
    assert ";keine Daten" in german
