"""Per-arm response and CRS rates of a cohort, with 95% intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (better than Wald at small n or
    rates near 0 or 1)."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0 or n successes the bound is exactly 0 or 1; rounding would leave 1e-17 instead.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def _rate(columns: dict, name: str, flags: pd.Series) -> None:
    n, k = int(flags.size), int(flags.sum())
    low, high = wilson_interval(k, n)
    columns[f"{name}_rate"] = k / n if n else math.nan
    columns[f"{name}_rate_low"] = low
    columns[f"{name}_rate_high"] = high


def arm_table(results: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """One row per arm: patients, CR and CRS rates with 95% intervals, medians."""
    rows = []
    for arm in arms:
        r = results[results["arm"] == arm] if len(results) else results
        row: dict = {"arm": arm, "patients": len(r)}
        if len(r):
            _rate(row, "cr", r["complete_response"].astype(bool))
            _rate(row, "crs_any", r["crs_grade_max"] >= 1)
            _rate(row, "crs_grade2", r["crs_grade_max"] >= 2)
            _rate(row, "crs_grade3", r["crs_grade_max"] >= 3)
            row["median_log10_reduction"] = float(r["blast_log10_reduction"].median())
            row["median_peak_il6_pg_per_ml"] = float(r["peak_il6_pg_per_ml"].median())
            row["mean_crs_risk"] = float(r["crs_risk"].mean())
            row["median_final_marrow_blast_percent"] = float(
                r["final_marrow_blast_percent"].median())
        rows.append(row)
    return pd.DataFrame(rows)
