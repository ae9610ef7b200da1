"""Cohort rates: the expected rate with a 95% interval for a trial of n patients, which
covers the population's rate as often as it says (issue 25)."""

import numpy as np
import pandas as pd
import pytest

from bispecific.cohorts.stats import RATES, arm_table, trial_interval

TRIALS = 4000


def _coverage(draw_patients, true_rate: float, n: int, seed: int) -> float:
    """How often the interval from n patients drawn from a population covers its rate."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(TRIALS):
        interval = trial_interval(draw_patients(rng, n))
        hits += interval.low <= true_rate <= interval.high
    return hits / TRIALS


def test_patients_whose_outcome_is_certain_are_a_trial_and_coverage_is_95_percent():
    # Every probability 0 or 1: the cohort is a trial of n Bernoulli(0.3) patients, and a
    # 95% interval for its rate must cover 0.3 in about 95% of such trials.
    coverage = _coverage(lambda rng, n: (rng.random(n) < 0.3).astype(float), 0.3, 40, 1)
    assert 0.93 <= coverage <= 0.975


@pytest.mark.parametrize("n", [3, 10])
def test_heterogeneous_patients_are_covered_at_least_95_percent_even_when_few(n):
    # Probabilities spread as Beta(2, 3) (population rate 0.4). The bootstrap over patients'
    # probabilities covered 0.4 in only ~75% of 3-patient cohorts.
    coverage = _coverage(lambda rng, k: rng.beta(2.0, 3.0, k), 0.4, n, 2)
    assert coverage >= 0.95


def test_none_of_three_is_not_zero_to_zero():
    interval = trial_interval([1e-208, 1e-26, 0.0])
    assert interval.rate == pytest.approx(0.0, abs=1e-20)
    assert interval.low == 0.0
    # Three patients without a response do not rule out a rate of a half (the Wilson upper
    # bound for 0 of 3 is z^2 / (3 + z^2) = 0.56).
    assert interval.high == pytest.approx(1.96**2 / (3 + 1.96**2), abs=1e-3)
    assert "Wilson" in interval.method


def test_two_of_three_is_not_zero_to_hundred():
    interval = trial_interval([1.0, 1.0, 0.0])
    assert 0.1 < interval.low < 0.25 and 0.85 < interval.high < 0.97


def test_parameter_draws_widen_the_interval_and_identical_draws_do_not():
    p = np.full(20, 0.5)
    plain = trial_interval(p)
    same = trial_interval(p, draws=np.full(50, 0.5))
    spread = trial_interval(p, draws=np.linspace(0.2, 0.8, 50))
    assert (same.low, same.high) == pytest.approx((plain.low, plain.high))
    assert spread.low < plain.low and spread.high > plain.high
    assert "parameter draws" in spread.method


def test_arm_table_reports_trial_intervals():
    results = pd.DataFrame({"arm": ["a"] * 3, "blast_log10_reduction": [1.0] * 3,
                            "peak_il6_pg_per_ml": [10.0] * 3,
                            "best_marrow_blast_percent": [50.0] * 3,
                            **{c: [0.0, 0.0, 0.0] for c in RATES.values()}})
    row = arm_table(results, ["a"]).iloc[0]
    assert row["cr_rate"] == 0.0 and row["cr_rate_high"] > 0.5
