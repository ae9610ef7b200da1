"""What a real trial of n patients would report, given a virtual cohort's probabilities.

A virtual cohort gives each patient a probability (of CR, of MRD negativity). The mean is
the expected rate; a published rate is one trial's count out of n. To put the two side by
side, the interval must include the sampling of n patients: draw n patients from the
virtual cohort (a bootstrap, so the cohort's own spread counts), draw each one's outcome
from its probability, and read the rate as the trial would. 95% of such trials fall inside.
"""

from __future__ import annotations

import numpy as np

DRAWS = 4000  # virtual trials behind an interval


def trial_rate_interval(probabilities: np.ndarray, n_trial: int, rng: np.random.Generator,
                        level: float = 0.95) -> tuple[float, float, float]:
    """The expected rate and the central `level` interval of the rate a trial of `n_trial`
    patients drawn from this cohort would report."""
    p = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    picks = rng.integers(0, len(p), (DRAWS, n_trial))
    rates = (rng.random((DRAWS, n_trial)) < p[picks]).mean(axis=1)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(rates, [tail, 100.0 - tail])
    return float(p.mean()), float(low), float(high)


def trial_conditional_interval(p_event: np.ndarray, p_both: np.ndarray, n_trial: int,
                               rng: np.random.Generator, level: float = 0.95
                               ) -> tuple[float, float, float]:
    """The share of responders with a second outcome (e.g. MRD-negative among CR) as a
    trial of `n_trial` would report it: each drawn patient responds with `p_event` and,
    responding, has the second outcome with `p_both / p_event` (`p_both` is the chance of
    both). The point value is the ratio of the cohort's means."""
    a = np.clip(np.asarray(p_event, dtype=float), 0.0, 1.0)
    both = np.clip(np.asarray(p_both, dtype=float), 0.0, 1.0)
    given = np.where(a > 0, np.minimum(both / np.maximum(a, 1e-300), 1.0), 0.0)
    picks = rng.integers(0, len(a), (DRAWS, n_trial))
    responds = rng.random((DRAWS, n_trial)) < a[picks]
    second = responds & (rng.random((DRAWS, n_trial)) < given[picks])
    shares = second.sum(axis=1) / np.maximum(responds.sum(axis=1), 1)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(shares, [tail, 100.0 - tail])
    return float(both.sum() / max(a.sum(), 1e-12)), float(low), float(high)
