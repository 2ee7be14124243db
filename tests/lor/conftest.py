"""The LOR 2006 scheme (and its crosswalk) for the tests that need it.

Loaded once per test module and removed afterwards, so the other tests see the
database they always saw (LOR 2021 only) and a reused test database does not
keep the old scheme.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

CORRECTIONS = Path(settings.PRISMA_LOR_DATA_DIR) / "lor2006" / "korrekturen.csv"


def drop_lor2006() -> None:
    """Remove the old units, finest level first (parents are protected)."""
    from lor import hierarchy
    from lor.models import CrosswalkPiece, LorUnit

    CrosswalkPiece.objects.all().delete()
    for level in reversed(hierarchy.LEVELS):
        LorUnit.objects.filter(scheme=LorUnit.Scheme.LOR_2006, level=level).delete()


@pytest.fixture(scope="module")
def lor2006_scheme(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The old scheme as `make run` loads it (with the documented correction)."""
    with django_db_blocker.unblock():
        call_command("lor2006_import", "--corrections", str(CORRECTIONS), verbosity=0)
    yield
    with django_db_blocker.unblock():
        drop_lor2006()


@pytest.fixture(scope="module")
def crosswalk(lor2006_scheme, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        call_command("lor_crosswalk", verbosity=0)
    yield
