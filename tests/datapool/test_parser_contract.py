"""The shared parser contract: rows and the collector pause around building them."""

import gc
from datetime import date

import pytest

from datapool.parsers.contract import ObservationRow, rows_building


def test_observation_row_is_a_tuple_in_write_order():
    row = ObservationRow("E_E", "01100101", date(2024, 12, 31), 3.0, "ok", "")
    assert isinstance(row, tuple)
    assert row == ("E_E", "01100101", date(2024, 12, 31), 3.0, "ok", "")
    assert (row.unit_code, row.value) == ("01100101", 3.0)


def test_rows_building_pauses_the_collector_and_restores_it_after_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), rows_building():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()


def test_rows_building_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with rows_building():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
