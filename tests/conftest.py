"""Shared fixtures: the real LOR 2021 units in the test database, users, data, and
the browser (Debian's Chromium)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

SHARED_DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "berlin"
ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"


def _ensure_lor_units() -> None:
    from lor.models import LorUnit

    if (
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
        ).count()
        != 542
    ):
        call_command("lor_import", verbosity=0)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the shipped LOR data once per run; tests roll back on top of it."""
    with django_db_blocker.unblock():
        _ensure_lor_units()


@pytest.fixture(autouse=True)
def _datapool_memo_forgotten():
    """Each test starts without catalogue answers memoised by an earlier one
    (datapool/memo.py; a rolled-back test's version may come again)."""
    from datapool.memo import forget_all

    forget_all()


@pytest.fixture
def lor_units(django_db_blocker):
    """The LOR units, also after a transactional test flushed the tables."""
    with django_db_blocker.unblock():
        _ensure_lor_units()


def ewr_import() -> None:
    """The real EWR matrix of 31.12.2024, with the one non-LOR key mapped."""
    call_command(
        "datapool_import",
        str(SHARED_DATA / "EWR_L21_202412E_Matrix.csv"),
        "--map",
        "06200318=06200418",
        verbosity=0,
    )


@pytest.fixture
def ewr_imported(db, lor_units):
    """The run of ``ewr_import``."""
    from datapool.models import ImportRun

    ewr_import()
    return ImportRun.objects.latest("pk")


def jfe_import(
    *,
    layer_name: str = "Jugendfreizeiteinrichtungen",
    ref_date: str = "2022-12-31",
    **options: str,
) -> None:
    """The real youth centres (407 points) as facility layer "jfe", 31.12.2022.

    Keywords name the layer, date it or add import options (source, license).
    """
    extra = [
        arg
        for name, value in options.items()
        for arg in ("--option", f"{name}={value}")
    ]
    call_command(
        "datapool_import",
        str(SHARED_DATA / "infra_jugendfreizeiteinrichtungen_epsg25833.geojson"),
        "--option",
        "layer=jfe",
        "--option",
        f"layer_name={layer_name}",
        *extra,
        "--option",
        f"ref_date={ref_date}",
        verbosity=0,
    )


def make_user(django_user_model, username: str, role, bezirk_code: str | None):
    """A user with exactly one PRISMA role (and district), like the admin assigns."""
    from tests.support.login import user_with_role

    return user_with_role(username, role, bezirk_code)


@pytest.fixture
def user(django_user_model, lor_units):
    """The everyday user of the tests: a planner of Bezirk 01 (Mitte)."""
    from core.access import Role

    return make_user(django_user_model, "planerin", Role.PLANNER, "01")


@pytest.fixture
def coordinator(django_user_model, lor_units):
    """A data coordinator of Bezirk 01, who may upload and edit Mitte's data."""
    from core.access import Role

    return make_user(django_user_model, "koordination01", Role.COORDINATOR, "01")


@pytest.fixture
def administrator(django_user_model, lor_units):
    """An administrator (PRISMA group, no superuser flag)."""
    from core.access import Role

    return make_user(django_user_model, "verwaltung", Role.ADMIN, None)


@pytest.fixture
def client_logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def post(client_logged_in, django_capture_on_commit_callbacks):
    """POST as a logged-in planner; tasks queued on commit run before it returns."""

    def _post(url, data):
        # The test's transaction never commits; run the queued tasks as a commit would.
        with django_capture_on_commit_callbacks(execute=True):
            return client_logged_in.post(url, data)

    return _post


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# One browser for the whole run, in the root conftest: a second session fixture
# (e.g. one conftest importing another's) would start a second Playwright while
# the first one's event loop still runs, which the sync API refuses.
@pytest.fixture(scope="session")
def browser():
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing; `make test` installs Debian's chromium.")
    with playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
