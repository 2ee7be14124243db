"""Start-up stays light: heavy libraries are imported where they are used.

mapclassify pulls in numba (about 4 s of imports). Every process would pay that at
start-up (gunicorn and Celery workers, each manage.py command) if a module that
Django loads at set-up or URL loading imported it at module level.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.processes import ROOT

HEAVY = ("mapclassify", "numba")

PROBE = """
import json, sys
import prisma.wsgi  # django.setup() as gunicorn does
from django.urls import get_resolver
from prisma.celery import app

get_resolver().url_patterns  # every URL module, as the first request loads them
app.loader.import_default_modules()  # every tasks module, as a Celery worker does
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_setup_and_url_loading_import_neither_mapclassify_nor_numba():
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    # The probe really loaded the project (else an empty list would pass).
    assert {"django", "explorer", "datapool", "rest_framework"} <= loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_classification_still_finds_mapclassify():
    from explorer.maps.classify import classify

    result = classify([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], ["ok"] * 6, "natural_breaks", 3)
    assert result.k == 3
    assert "mapclassify" in sys.modules
