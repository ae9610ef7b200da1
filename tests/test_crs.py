"""The CRS readout's thresholds and trial intervals against numbers computed independently:
binomial confidence intervals of published rates, probit closed forms, and the coverage of
the trial interval on a synthetic case whose truth is known (docs/model.md s.10)."""

from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats

from bispecific.readouts.crs import (
    cohort_rate,
    crs_rate_interval,
    fit_threshold,
    probit_threshold_standard_error,
    threshold_standard_error,
)

NORMAL = NormalDist()
SIGMA_U = 0.3


@pytest.mark.parametrize("events, patients", [
    (7, 239),   # grade >= 3, adults [Badar2020]: 3%
    (3, 39),    # CTCAE CRS any grade, children [Gore2014]
    (4, 70),    # grade >= 3, children [vonStackelberg2016]
    (24, 36),   # pyrexia, adults [Topp2012] on MT103-206's 36 patients [Topp2014]
])
def test_a_published_rates_binomial_interval_maps_to_the_thresholds_standard_error(
        events, patients):
    """The Wilson 95% interval of the published rate, carried through the probit link to the
    threshold (theta = mu - sigma Phi^-1(p)), is as wide as +-1.96 of the threshold's SE
    within 10% (3% of 239 patients is 1.4-6.0%, about +-0.1 log10)."""
    ci = stats.binomtest(events, patients).proportion_ci(0.95, method="wilson")
    width = SIGMA_U * (NORMAL.inv_cdf(ci.high) - NORMAL.inv_cdf(ci.low))
    se = probit_threshold_standard_error(events / patients, patients, SIGMA_U)
    assert width / (2 * 1.96 * se) == pytest.approx(1.0, abs=0.10)


def test_a_spread_cohorts_threshold_and_its_se_follow_the_probit_closed_form():
    """Patients whose log10 exposures spread as N(2, 0.4^2) add to the susceptibility
    N(0, 0.3^2): the cohort rate is Phi((2 - theta) / 0.5) and the threshold's SE is the
    probit closed form with spread 0.5, not 0.3."""
    exposures = 2.0 + 0.4 * np.array([NORMAL.inv_cdf((i + 0.5) / 4000) for i in range(4000)])
    spread = (SIGMA_U ** 2 + 0.4 ** 2) ** 0.5
    assert cohort_rate(exposures, SIGMA_U, 2.6) == pytest.approx(
        NORMAL.cdf((2.0 - 2.6) / spread), abs=1e-3)
    theta = fit_threshold(0.03, exposures, SIGMA_U)
    assert theta == pytest.approx(2.0 - spread * NORMAL.inv_cdf(0.03), abs=2e-3)
    se = threshold_standard_error(0.03, 239, exposures, SIGMA_U)
    assert se == pytest.approx(probit_threshold_standard_error(0.03, 239, spread), rel=0.01)


def _coverage(patients: int, rate: float, with_threshold_se: bool, repeats: int,
              rng: np.random.Generator) -> float:
    """How often a new trial of the same size falls in the interval built from a threshold
    fitted to an earlier published trial (identical patients at log10 exposure 2)."""
    exposures = np.full(10, 2.0)
    covered = 0
    for _ in range(repeats):
        published = max(rng.binomial(patients, rate), 0.5) / patients
        theta = 2.0 - SIGMA_U * NORMAL.inv_cdf(published)
        se = probit_threshold_standard_error(published, patients, SIGMA_U)
        new_trial = rng.binomial(patients, rate) / patients
        _, low, high = crs_rate_interval(exposures, SIGMA_U, theta,
                                         se if with_threshold_se else 0.0, patients, rng,
                                         draws=1500)
        covered += low <= new_trial <= high
    return covered / repeats


def test_the_trial_interval_covers_a_new_trial_about_95_percent_of_the_time():
    """Known answer: the threshold is fitted to one binomial trial (10% of 100), and a second
    independent trial is drawn. With the threshold's uncertainty the 95% interval covers the
    second trial's rate about 95% of the time; with the sampling of n patients alone it
    covers too rarely (the two trials' difference has twice the variance: ~83%)."""
    rng = np.random.default_rng(2026)
    assert 0.92 <= _coverage(100, 0.10, True, 300, rng) <= 0.995
    assert _coverage(100, 0.10, False, 300, rng) < 0.90


def test_the_trial_interval_narrows_with_the_trial_size():
    """At a fixed threshold (SE 0) the interval is the binomial one: for a rate of 10%, its
    width shrinks like 1/sqrt(n) (n = 100 -> 400 halves it, within 20%)."""
    exposures = np.full(10, 2.0)
    theta = 2.0 - SIGMA_U * NORMAL.inv_cdf(0.10)
    widths = []
    for n in (100, 400):
        rate, low, high = crs_rate_interval(exposures, SIGMA_U, theta, 0.0, n,
                                            np.random.default_rng(5), draws=4000)
        assert rate == pytest.approx(0.10, abs=1e-9)
        assert low < 0.10 < high
        widths.append(high - low)
    assert widths[1] / widths[0] == pytest.approx(0.5, rel=0.2)
