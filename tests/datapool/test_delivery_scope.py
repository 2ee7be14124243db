"""One more delivery touches only its own dates, however many dates are stored.

Adding the EWR matrix of another reference date must not rewrite (or recount) the
values, aggregates, coverage or indicators of the dates already stored: that work
would grow with the history (issue 12, item 8). Proved by rows, not by the clock:
every row of the other date keeps its id, its transaction stamp (``xmin``) and
the run that wrote it.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from datapool.models import Coverage, ImportRun, Indicator, Observation
from datapool.services.indicators import (
    indicator_definitions_load,
    indicator_run_create,
    indicator_run_execute,
)
from tests.profiles.conftest import EWR_FILE, ewr_import, ewr_variant

EARLIER = date(2023, 12, 31)
LATER = date(2024, 12, 31)


def _rows_of(ref_date: date) -> dict[str, list[tuple]]:
    """Every stored row of one date, with what a rewrite would change."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, xmin::text, import_run_id, value, status, incomplete "
            f"FROM {Observation._meta.db_table} WHERE ref_date = %s ORDER BY id",
            [ref_date],
        )
        observations = cursor.fetchall()
        cursor.execute(
            f"SELECT id, xmin::text, variable_id, level, units, values "
            f"FROM {Coverage._meta.db_table} WHERE ref_date = %s ORDER BY id",
            [ref_date],
        )
        coverage = cursor.fetchall()
    return {"observations": observations, "coverage": coverage}


@pytest.mark.django_db
def test_a_new_date_leaves_the_stored_dates_untouched(
    tmp_path, lor_units, django_capture_on_commit_callbacks
):
    indicator_definitions_load()
    earlier = ewr_variant(
        tmp_path, zeit="202312", factor=0.97, name="EWR_L21_202312E_Matrix.csv"
    )
    # The import hands its indicator run over on commit; run it here as well.
    with django_capture_on_commit_callbacks(execute=True):
        ewr_import(earlier)
    before = _rows_of(EARLIER)
    indicator_ids = set(Indicator.objects.values_list("variable_id", flat=True))
    stored = Observation.objects.filter(ref_date=EARLIER)
    # The earlier date really has delivered values, aggregates and indicators.
    assert stored.filter(is_aggregate=False).count() > 20_000
    assert stored.filter(is_aggregate=True, unit__level="bezirk").exists()
    assert stored.filter(variable_id__in=indicator_ids, status="ok").exists()
    assert before["coverage"]

    with django_capture_on_commit_callbacks(execute=True):
        ewr_import(EWR_FILE)
    run = ImportRun.objects.filter(kind=ImportRun.Kind.EWR).latest("pk")
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    computation = ImportRun.objects.filter(kind=ImportRun.Kind.COMPUTATION).latest("pk")
    assert computation.status == ImportRun.Status.SUCCEEDED, computation.error
    assert computation.options["ref_dates"] == [LATER.isoformat()]

    # The new date got everything: values, aggregates, coverage, indicators.
    added = Observation.objects.filter(ref_date=LATER)
    assert added.filter(is_aggregate=True, unit__level="berlin").exists()
    assert added.filter(variable_id__in=indicator_ids, status="ok").exists()
    assert Coverage.objects.filter(ref_date=LATER, level="bezirk").exists()
    # ... and not one row of the earlier date was rewritten or recounted.
    after = _rows_of(EARLIER)
    assert after["observations"] == before["observations"]
    assert after["coverage"] == before["coverage"]


@pytest.mark.django_db
def test_a_full_recomputation_still_covers_every_date(
    tmp_path, lor_units, django_capture_on_commit_callbacks
):
    """Without delivered dates (the button, `indicators_compute`) all dates count."""
    indicator_definitions_load()
    earlier = ewr_variant(
        tmp_path, zeit="202312", factor=0.97, name="EWR_L21_202312E_Matrix.csv"
    )
    ewr_import(earlier)
    ewr_import(EWR_FILE)  # no on-commit execution: no indicators yet
    run = indicator_run_execute(run=indicator_run_create())
    assert run.status == ImportRun.Status.SUCCEEDED, run.error
    assert run.options["ref_dates"] is None
    u18 = Indicator.objects.get(variable__key="KI_ANTEIL_U18").variable_id
    for ref_date in (EARLIER, LATER):
        assert Observation.objects.filter(
            variable_id=u18, ref_date=ref_date, status="ok"
        ).exists()
        assert Coverage.objects.filter(variable_id=u18, ref_date=ref_date).exists()
