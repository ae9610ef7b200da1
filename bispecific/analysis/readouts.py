"""The cohort readouts an analysis compares: one number per candidate from its patients' runs.

Each patient's response and CRS are probabilities (docs/model.md s.10-11), so a rate is the
mean over patients, as in a cohort's arms.csv; IL-6 and log reduction are skewed across
patients, so they are summarised by the median.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

# A rate below this (half a percent) is no signal: no trial could tell it from 0, and
# differences between rates smaller than it are not told apart (`analysis.signal`).
RATE_FLOOR = 0.005


@dataclass(frozen=True)
class Readout:
    name: str
    label: str  # for tables and figures, with its unit
    column: str  # the per-run summary value it is made from
    aggregate: Callable[[np.ndarray], float]
    floor: float | None = None  # values below it are no signal (None: no floor)


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if x.size else float("nan")


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if x.size else float("nan")


READOUTS: dict[str, Readout] = {r.name: r for r in (
    Readout("cr_rate", "CR rate", "p_complete_response", _mean, RATE_FLOOR),
    Readout("crs_grade2_rate", "CRS grade >= 2 rate", "p_crs_grade2_or_more", _mean,
            RATE_FLOOR),
    Readout("median_peak_il6_pg_per_ml", "median peak IL-6 (pg/mL)", "peak_il6_pg_per_ml",
            _median),
    Readout("median_log10_reduction", "median log10 blast reduction", "blast_log10_reduction",
            _median),
)}


def cohort_readouts(runs: pd.DataFrame, names: tuple[str, ...] = tuple(READOUTS)
                    ) -> dict[str, float]:
    """The readouts `names` of one candidate from its runs (one row per patient)."""
    out = {}
    for name in names:
        r = READOUTS[name]
        values = runs[r.column].to_numpy(float) if len(runs) else np.empty(0)
        out[name] = r.aggregate(values)
    return out
