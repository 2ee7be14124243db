"""Status and dynamics index of the Monitoring Soziale Stadtentwicklung (MSS) 2021.

Pure pandas, no Django ORM: a caller feeds one row per Planungsraum, from the
published CSV (`mss_inputs_from_csv`) or from Datenpool observations. The method
and the measured agreement with the published classes are in docs/mss_index.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

STATUS_INDICATORS = ("S1", "S3", "S4")
DYNAMICS_INDICATORS = ("D1", "D3", "D4")
INDICATORS = STATUS_INDICATORS + DYNAMICS_INDICATORS
MIN_RESIDENTS = 300
VALID = "gültig"
SENTINEL = -9999  # "Planungsraum ohne Zuordnung" in the published files

# Class bounds on the re-standardised index, in standard deviations. Upper bounds
# are inclusive: hoch < -1 <= mittel <= 1 < niedrig <= 1.5 < sehr niedrig.
STATUS_THRESHOLDS = (-1.0, 1.0, 1.5)
STATUS_CLASSES = (1, 2, 3, 4)  # hoch, mittel, niedrig, sehr niedrig
DYNAMICS_THRESHOLDS = (-1.0, 1.0)
DYNAMICS_CLASSES = (1, 3, 5)  # positiv, stabil, negativ

INPUT_COLUMNS = ("PLR_ID", "EW", *INDICATORS, "VALID")
CLASS_COLUMNS = ("SI_N", "DI_N", "SDI_N")


def _standardise(values: pd.Series, mask: pd.Series) -> pd.Series:
    # Population SD (ddof=0): with it the published per-indicator SD groups
    # (`*_SD_GR`) come out right for two more PLRs than with the sample SD.
    basis = values[mask]
    z = (values - basis.mean()) / basis.std(ddof=0)
    return z.where(mask)


def _classify(
    z: pd.Series, thresholds: tuple[float, ...], classes: tuple[int, ...]
) -> pd.Series:
    conditions = [z <= t for t in thresholds[1:]]
    conditions.insert(0, z < thresholds[0])
    labels = np.select(conditions, classes[:-1], default=classes[-1])
    return pd.Series(labels, index=z.index, dtype="Int64").where(z.notna())


def mss_index_compute(frame: pd.DataFrame) -> pd.DataFrame:
    """Z-values, status/dynamics index and MSS classes per PLR; invalid PLRs: NA.

    Method (MSS 2021, SenSBW; reproduced against the published classes):
    1. Valid are PLRs flagged valid, with at least 300 residents and all six
       indicators present; only they enter means, SDs and classes.
    2. S1, S3, S4, D1, D3, D4 are z-standardised over the valid PLRs.
    3. Status index SI = S1_Z + S3_Z + S4_Z, dynamics index DI = D1_Z + D3_Z + D4_Z.
    4. Both indices are z-standardised again (SI_Z, DI_Z) and classified:
       SI_N 1 hoch (< -1), 2 mittel (-1..1), 3 niedrig (1..1.5), 4 sehr niedrig
       (> 1.5); DI_N 1 positiv (< -1), 3 stabil (-1..1), 5 negativ (> 1).
    5. SDI_N = 10 * SI_N + DI_N.

    `frame` needs the columns PLR_ID, EW, S1, S3, S4, D1, D3, D4 and VALID
    (bool); PLR_NAME is passed through when present. The row order is kept.
    """
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"MSS input lacks columns: {', '.join(missing)}")
    values = frame[list(INDICATORS)].apply(pd.to_numeric, errors="coerce")
    residents = pd.to_numeric(frame["EW"], errors="coerce")
    # The validity flag carries what cannot be derived from the six values
    # (the outlier verdict); the residents floor and completeness are enforced
    # here as well, so a caller cannot let a tiny PLR distort the means.
    valid = (
        frame["VALID"].fillna(False).astype(bool)
        & (residents >= MIN_RESIDENTS)
        & values.notna().all(axis=1)
    )

    out = frame[[c for c in ("PLR_ID", "PLR_NAME") if c in frame.columns]].copy()
    out["VALID"] = valid
    for column in INDICATORS:
        out[f"{column}_Z"] = _standardise(values[column], valid)
    # The sum and the mean of the z-values give identical classes, because the
    # index is standardised again before classification; the sum is kept as SI/DI.
    out["SI"] = out[[f"{c}_Z" for c in STATUS_INDICATORS]].sum(axis=1, min_count=3)
    out["DI"] = out[[f"{c}_Z" for c in DYNAMICS_INDICATORS]].sum(axis=1, min_count=3)
    # Re-standardising is required: the thresholds are SDs of the index, not of
    # a single indicator (the unstandardised mean of z-values misclassifies).
    out["SI_Z"] = _standardise(out["SI"], valid)
    out["DI_Z"] = _standardise(out["DI"], valid)
    out["SI_N"] = _classify(out["SI_Z"], STATUS_THRESHOLDS, STATUS_CLASSES)
    out["DI_N"] = _classify(out["DI_Z"], DYNAMICS_THRESHOLDS, DYNAMICS_CLASSES)
    out["SDI_N"] = out["SI_N"] * 10 + out["DI_N"]
    return out


def _numeric(series: pd.Series) -> pd.Series:
    # Invalid PLRs carry -9999 or an empty field in the published files.
    values = pd.to_numeric(series, errors="coerce")
    return values.where(values != SENTINEL)


def mss_inputs_from_csv(path: Path | str) -> pd.DataFrame:
    """Input frame for `mss_index_compute` from the published index-indicator CSV."""
    raw = pd.read_csv(path, dtype={"PLR_ID": str, "BEZ_ID": str}, encoding="utf-8")
    frame = raw[["PLR_ID", "PLR_NAME"]].copy()
    frame["EW"] = _numeric(raw["EW"])
    for column in INDICATORS:
        frame[column] = _numeric(raw[column])
    frame["VALID"] = raw["KOM"].astype(str).str.strip() == VALID
    return frame


def mss_published_from_csv(path: Path | str) -> pd.DataFrame:
    """Published SI_N, DI_N, SDI_N per PLR (NA without class) and the KOM flag."""
    raw = pd.read_csv(path, dtype={"PLR_ID": str, "BEZ_ID": str}, encoding="utf-8")
    frame = raw[["PLR_ID", "PLR_NAME"]].copy()
    for column in CLASS_COLUMNS:
        frame[column] = _numeric(raw[column]).astype("Int64")
    frame["VALID"] = raw["KOM"].astype(str).str.strip() == VALID
    return frame


def _threshold_distance(value: float, thresholds: tuple[float, ...]) -> float | None:
    if pd.isna(value):
        return None
    return float(min(abs(value - t) for t in thresholds))


def _as_int(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def mss_index_agreement(computed: pd.DataFrame, published: pd.DataFrame) -> dict:
    """Agreement of computed with published classes over the published valid PLRs.

    Returns per class column the count and percentage of agreeing PLRs, the
    smallest distance of any valid PLR's index to a class threshold, the invalid
    PLRs that wrongly received a class, and one record per disagreement with the
    index value behind it and its distance to the nearest threshold.
    """
    merged = published.merge(
        computed.drop(columns="PLR_NAME", errors="ignore"),
        on="PLR_ID",
        how="left",
        suffixes=("_pub", ""),
        validate="1:1",
    )
    valid = merged["VALID_pub"].astype(bool)
    n_valid = int(valid.sum())
    result: dict[str, Any] = {"valid": n_valid}
    disagreements: list[dict[str, Any]] = []
    index_of = {"SI_N": "SI_Z", "DI_N": "DI_Z"}
    thresholds_of = {"SI_Z": STATUS_THRESHOLDS, "DI_Z": DYNAMICS_THRESHOLDS}
    for column in CLASS_COLUMNS:
        same = (merged[column] == merged[f"{column}_pub"]).fillna(False) & valid
        agree = int(same.sum())
        result[column] = {
            "agree": agree,
            "total": n_valid,
            "percent": 100.0 * agree / n_valid if n_valid else 0.0,
        }
        for _, row in merged[valid & ~same].iterrows():
            if column == "SDI_N":
                # A combined class differs because one of its parts does.
                status_differs = _as_int(row["SI_N"]) != _as_int(row["SI_N_pub"])
                part = "SI_N" if status_differs else "DI_N"
            else:
                part = column
            index = index_of[part]
            disagreements.append(
                {
                    "PLR_ID": row["PLR_ID"],
                    "PLR_NAME": row["PLR_NAME"],
                    "column": column,
                    "computed": _as_int(row[column]),
                    "published": _as_int(row[f"{column}_pub"]),
                    "index": index,
                    "index_value": None if pd.isna(row[index]) else row[index],
                    "threshold_distance": _threshold_distance(
                        row[index], thresholds_of[index]
                    ),
                }
            )
    result["min_threshold_distance"] = {
        index: min(
            (
                d
                for d in (
                    _threshold_distance(v, thresholds_of[index])
                    for v in merged.loc[valid, index]
                )
                if d is not None
            ),
            default=None,
        )
        for index in ("SI_Z", "DI_Z")
    }
    classified = merged[list(CLASS_COLUMNS)].notna().any(axis=1)
    result["invalid_classified"] = merged.loc[~valid & classified, "PLR_ID"].tolist()
    result["disagreements"] = disagreements
    return result
