"""Intervals for a trial of n patients (bispecific/cohorts/trial.py), against closed forms."""

from __future__ import annotations

import numpy as np
from scipy import stats

from bispecific.cohorts.trial import trial_conditional_interval, trial_rate_interval


def test_identical_patients_give_the_binomial_interval():
    """Every patient at 0.3 and a trial of 80: the rate is Binomial(80, 0.3) / 80."""
    rate, low, high = trial_rate_interval(np.full(40, 0.3), 80, np.random.default_rng(1))
    assert rate == 0.3
    assert abs(low - stats.binom.ppf(0.025, 80, 0.3) / 80) <= 1.5 / 80
    assert abs(high - stats.binom.ppf(0.975, 80, 0.3) / 80) <= 1.5 / 80


def test_a_spread_cohort_is_wider_than_its_mean_alone():
    """Half the patients certain, half never: a trial's rate is Binomial(n, 1/2) / n, though
    each patient's outcome is known; an interval over the means alone would have no width."""
    p = np.r_[np.ones(30), np.zeros(30)]
    rate, low, high = trial_rate_interval(p, 100, np.random.default_rng(2))
    assert rate == 0.5
    assert abs(low - stats.binom.ppf(0.025, 100, 0.5) / 100) <= 2 / 100
    assert abs(high - stats.binom.ppf(0.975, 100, 0.5) / 100) <= 2 / 100


def test_none_of_three_is_not_a_certain_zero():
    """0 of 3 patients responding in a cohort at 10% each: the trial interval reaches up."""
    rate, low, high = trial_rate_interval(np.full(3, 0.1), 3, np.random.default_rng(3))
    assert low == 0.0 and high >= 1 / 3


def test_share_among_responders_matches_its_closed_form():
    """CR in 40% of patients, MRD-negative in 3/4 of those: among ~n * 0.4 responders the
    share is near Binomial(k, 0.75) / k; its 95% interval for n = 200 spans about +-0.1."""
    p_cr = np.full(50, 0.4)
    rate, low, high = trial_conditional_interval(p_cr, 0.75 * p_cr, 200,
                                                 np.random.default_rng(4))
    assert abs(rate - 0.75) < 1e-12
    k = 80
    assert abs(low - stats.binom.ppf(0.025, k, 0.75) / k) < 0.03
    assert abs(high - stats.binom.ppf(0.975, k, 0.75) / k) < 0.03
