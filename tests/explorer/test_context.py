"""The one ranking of units, shared by the explorer table and the profiles."""

from __future__ import annotations

from explorer.context import unit_ranks


def test_unit_ranks_put_the_highest_first_share_ties_and_skip_missing():
    ranks = unit_ranks({"01": 5.0, "02": 7.5, "03": 5.0, "04": None, "05": 1.0})
    assert ranks == {"02": 1, "01": 2, "03": 2, "05": 4}
