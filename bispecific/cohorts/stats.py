"""Per-arm rates of a cohort, with 95% intervals.

Every per-patient readout is a probability (of CR, of MRD below 10^-4, of CRS of each
grade; docs/model.md s.10-11), so an arm's rate is the mean of its patients' probabilities,
and its interval comes from resampling the patients (a percentile bootstrap with a fixed
seed, so the table is reproducible).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261124

RATES = {
    "cr": "p_complete_response",
    "mrd_negative": "p_mrd_negative",
    "fever": "p_fever",
    "crs_grade1": "p_crs_grade1_or_more",
    "crs_grade2": "p_crs_grade2_or_more",
    "crs_grade3": "p_crs_grade3_or_more",
    "crs_grade4": "p_crs_grade4_or_more",
}


def mean_interval(values: np.ndarray, seed: int = BOOTSTRAP_SEED) -> tuple[float, float, float]:
    """Mean of per-patient probabilities and its 95% percentile-bootstrap interval."""
    values = np.asarray(values, float)
    if values.size == 0:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    resampled = values[rng.integers(0, values.size, (BOOTSTRAP_RESAMPLES, values.size))]
    low, high = np.percentile(resampled.mean(axis=1), [2.5, 97.5])
    return float(values.mean()), float(low), float(high)


def arm_table(results: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """One row per arm: patients, mean probabilities with 95% intervals, medians."""
    rows = []
    for arm in arms:
        r = results[results["arm"] == arm] if len(results) else results
        row: dict = {"arm": arm, "patients": len(r)}
        if len(r):
            for name, column in RATES.items():
                rate, low, high = mean_interval(r[column].to_numpy())
                row[f"{name}_rate"] = rate
                row[f"{name}_rate_low"] = low
                row[f"{name}_rate_high"] = high
            row["median_log10_reduction"] = float(r["blast_log10_reduction"].median())
            row["median_peak_il6_pg_per_ml"] = float(r["peak_il6_pg_per_ml"].median())
            row["median_best_marrow_blast_percent"] = float(
                r["best_marrow_blast_percent"].median())
        rows.append(row)
    return pd.DataFrame(rows)
