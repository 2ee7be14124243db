"""MSS 2021 index classes recomputed from the published indicators (no database)."""

from __future__ import annotations

import pandas as pd
import pytest

from datapool.mss_index import (
    mss_index_agreement,
    mss_index_compute,
    mss_inputs_from_csv,
    mss_published_from_csv,
)
from tests.conftest import SHARED_DATA

INDICATOR_FILE = SHARED_DATA / "mss2021_index_indikatoren_plr.csv"
INDEX_FILE = SHARED_DATA / "mss2021_indizes_plr.csv"
INVALID_PLRS = {"03300515", "03400831", "04400725", "05300838", "06200418", "10100205"}


@pytest.fixture(scope="module")
def computed() -> pd.DataFrame:
    return mss_index_compute(mss_inputs_from_csv(INDICATOR_FILE))


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return mss_published_from_csv(INDEX_FILE)


@pytest.fixture(scope="module")
def agreement(computed, published) -> dict:
    return mss_index_agreement(computed, published)


def test_mss_index_compute_keeps_every_plr_and_marks_536_valid(computed):
    assert len(computed) == 542
    assert computed["VALID"].sum() == 536


@pytest.mark.parametrize("column", ["SI_N", "DI_N", "SDI_N"])
def test_mss_index_agreement_reproduces_published_classes(agreement, column):
    measured = agreement[column]
    assert measured["total"] == 536
    assert measured["percent"] >= 99.0
    # Measured on the MSS 2021 files: every valid Planungsraum agrees.
    assert measured["agree"] == 536
    assert measured["percent"] == 100.0


def test_mss_index_agreement_lists_no_disagreement(agreement):
    assert agreement["disagreements"] == []
    assert agreement["invalid_classified"] == []


def test_mss_index_agreement_keeps_a_margin_to_every_threshold(agreement):
    # Rounding the published inputs to 5 decimals moves an index by < 1e-5 SD.
    assert agreement["min_threshold_distance"]["SI_Z"] > 0.001
    assert agreement["min_threshold_distance"]["DI_Z"] > 0.002


def test_mss_index_compute_gives_invalid_plrs_no_class(computed):
    invalid = computed[~computed["VALID"]]
    assert set(invalid["PLR_ID"]) == INVALID_PLRS
    assert invalid[["SI_Z", "DI_Z", "SI_N", "DI_N", "SDI_N"]].isna().all().all()


@pytest.mark.parametrize(
    ("plr_id", "si_n", "di_n", "sdi_n"),
    [
        ("01100101", 2, 5, 25),  # Stülerstraße
        ("01100102", 1, 3, 13),  # Großer Tiergarten
        ("01100415", 2, 3, 23),  # Invalidenstraße, closest to a status threshold
        ("04200310", 2, 5, 25),  # Fürstenplatz, closest to a dynamics threshold
        ("09501838", 1, 3, 13),  # Rahnsdorf, just below -1 SD
    ],
)
def test_mss_index_compute_matches_published_plr(computed, plr_id, si_n, di_n, sdi_n):
    row = computed.set_index("PLR_ID").loc[plr_id]
    assert (row["SI_N"], row["DI_N"], row["SDI_N"]) == (si_n, di_n, sdi_n)


def test_mss_index_compute_standardises_indices_over_valid_plrs(computed):
    valid = computed[computed["VALID"]]
    for column in ("S1_Z", "D4_Z", "SI_Z", "DI_Z"):
        assert valid[column].mean() == pytest.approx(0.0, abs=1e-12)
        assert valid[column].std(ddof=0) == pytest.approx(1.0)


def test_mss_index_compute_excludes_small_plr_even_if_flagged_valid():
    frame = mss_inputs_from_csv(INDICATOR_FILE)
    baseline = mss_index_compute(frame)
    target = frame.index[frame["PLR_ID"] == "01100101"][0]
    frame.loc[target, "EW"] = 299
    result = mss_index_compute(frame)
    assert not result.loc[target, "VALID"]
    assert pd.isna(result.loc[target, "SI_N"])
    # The remaining PLRs are standardised without it, so their z-values move.
    assert result["S1_Z"].iloc[1] != baseline["S1_Z"].iloc[1]


def test_mss_index_compute_rejects_missing_columns():
    with pytest.raises(ValueError, match="VALID"):
        mss_index_compute(pd.DataFrame({"PLR_ID": ["01100101"], "EW": [3419]}))
