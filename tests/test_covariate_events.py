"""A covariate can be an event: present in a share of patients only (cohorts/spec.py), as a
CD19-negative clone is in ~15% of r/r patients (docs/model.md s.11)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from bispecific.cohorts.spec import Covariate


def test_the_share_present_is_binomial_around_the_stated_probability():
    c = Covariate("cd19_negative_fraction", "lognormal", {"median": 0.002, "sigma_log": 1.0},
                  None, 0.1, present_probability=0.15)
    x = c.sample(np.random.default_rng(7), 2000)
    present = int(np.count_nonzero(x > 0))
    low, high = stats.binom.ppf([0.0005, 0.9995], 2000, 0.15)
    assert low <= present <= high
    assert np.all(x[x > 0] <= 0.1)  # the clip still applies to those present


def test_present_values_are_those_of_the_plain_covariate():
    """The event's draw comes after the value's, so a patient who has the clone has the size
    the plain covariate would have given (cohorts without events keep their draws)."""
    plain = Covariate("cd19_negative_fraction", "lognormal", {"median": 0.002,
                                                              "sigma_log": 1.0})
    event = Covariate("cd19_negative_fraction", "lognormal", {"median": 0.002,
                                                              "sigma_log": 1.0},
                      present_probability=0.5, absent_value=0.0)
    a = plain.sample(np.random.default_rng(3), 500)
    b = event.sample(np.random.default_rng(3), 500)
    kept = b > 0
    assert 0 < kept.sum() < 500
    np.testing.assert_array_equal(a[kept], b[kept])
