"""Per-arm rates of a cohort, with 95% intervals for a trial of that many patients.

Every per-patient readout is a probability (of CR, of MRD below 10^-4, of CRS of each
grade; docs/model.md s.10-11), so an arm's rate is the expected rate: the mean of its
patients' probabilities.

Its interval is a Wilson score interval for a trial of n patients, taken at the expected
number of responders (the sum of the probabilities; `trial_interval`). Why this one: a
patient drawn from the population responds with probability equal to the population rate,
whatever the spread of probabilities between patients, so the responders of a trial of n
such patients are binomial(n, rate), the case the Wilson interval is made for. The mean of
n probabilities varies less than a trial's share of responders does, so the interval
covers the population rate at least 95% of the time (exactly so when every probability is
0 or 1). Unlike a bootstrap over the patients' probabilities, it says how little n patients
show: 0 of 3 is 0% (0%-56%), not 0% (0%-0%).

`mean_interval` (the percentile bootstrap of the mean over patients, the spread of the
mean only) stays for tables that report exactly that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261124
INTERVAL_METHOD = "Wilson score interval for a trial of n patients at the expected responders"

RATES = {
    "cr": "p_complete_response",
    "mrd_negative": "p_mrd_negative",
    "cd19_negative_escape": "p_cd19_negative_escape",
    "fever": "p_fever",
    "crs_grade1": "p_crs_grade1_or_more",
    "crs_grade2": "p_crs_grade2_or_more",
    "crs_grade3": "p_crs_grade3_or_more",
    "crs_grade4": "p_crs_grade4_or_more",
}


@dataclass(frozen=True)
class RateInterval:
    """An expected rate and its interval; `method` says what the interval is."""

    rate: float
    low: float
    high: float
    patients: int
    method: str = INTERVAL_METHOD


def wilson(successes: float | np.ndarray, n: int,
           confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for `successes` of `n` (successes may be fractional: an
    expected count). Returns (low, high), each clipped to [0, 1]."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    k = np.clip(np.asarray(successes, float), 0.0, n)
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * np.sqrt(k * (n - k) / n + z * z / 4)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def trial_interval(probabilities: Sequence[float] | np.ndarray, confidence: float = 0.95,
                   draws: Sequence[float] | np.ndarray | None = None) -> RateInterval:
    """The expected rate of n patients and its interval for a trial of n patients.

    Parameters
    ----------
    probabilities
        Each patient's probability of the event (NaN: not counted).
    confidence
        Coverage of the interval (0.95: a 95% interval).
    draws
        Optional: the rate (mean over the same patients) under each of several draws of
        the model's parameters, for parameter uncertainty. The interval then spans the
        trial intervals of the draws: from the lower `(1 - confidence) / 2` quantile of
        their low ends to the upper quantile of their high ends. None: parameters fixed.

    Returns
    -------
    RateInterval
        NaN rate and bounds when no patient is counted.
    """
    p = np.asarray(probabilities, float)
    p = p[np.isfinite(p)]
    n = int(p.size)
    if n == 0:
        return RateInterval(math.nan, math.nan, math.nan, 0)
    rate = float(p.mean())
    low, high = wilson(rate * n, n, confidence)
    method = INTERVAL_METHOD
    if draws is not None:
        d = np.asarray(draws, float)
        d = d[np.isfinite(d)]
        if d.size:
            lows, highs = wilson(d * n, n, confidence)
            tail = (1 - confidence) / 2
            low = min(low, np.quantile(lows, tail))
            high = max(high, np.quantile(highs, 1 - tail))
            method += f", over {d.size} parameter draws"
    return RateInterval(rate, float(low), float(high), n, method)


def mean_interval(values: np.ndarray, seed: int = BOOTSTRAP_SEED) -> tuple[float, float, float]:
    """Mean of per-patient probabilities and its 95% percentile-bootstrap interval (the
    spread of the mean over patients; no trial sampling: see `trial_interval`)."""
    values = np.asarray(values, float)
    if values.size == 0:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    resampled = values[rng.integers(0, values.size, (BOOTSTRAP_RESAMPLES, values.size))]
    low, high = np.percentile(resampled.mean(axis=1), [2.5, 97.5])
    return float(values.mean()), float(low), float(high)


def arm_table(results: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """One row per arm: patients, expected rates with their 95% trial intervals
    (`trial_interval`), medians."""
    rows = []
    for arm in arms:
        r = results[results["arm"] == arm] if len(results) else results
        row: dict = {"arm": arm, "patients": len(r)}
        if len(r):
            for name, column in RATES.items():
                interval = trial_interval(r[column].to_numpy())
                row[f"{name}_rate"] = interval.rate
                row[f"{name}_rate_low"] = interval.low
                row[f"{name}_rate_high"] = interval.high
            row["median_log10_reduction"] = float(r["blast_log10_reduction"].median())
            row["median_peak_il6_pg_per_ml"] = float(r["peak_il6_pg_per_ml"].median())
            row["median_best_marrow_blast_percent"] = float(
                r["best_marrow_blast_percent"].median())
        rows.append(row)
    return pd.DataFrame(rows)
