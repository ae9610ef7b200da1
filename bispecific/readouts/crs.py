"""Cytokine release syndrome as a clinical event: an ordinal latent-severity model on a smoothed
cytokine exposure (docs/model.md s.10).

Clinical grades are set by fever, hypotension and hypoxia ([ASTCT2019]); cytokines predict
severity probabilistically ([Teachey2016], [Lee2015], [Hay2017]). A patient's severity is
`S = log10 X_peak + u`: `X` is a CRP-like exposure, plasma IL-6 averaged by a turnover state
with the 19 h half-life of C-reactive protein ([Vigushin1993]); `u ~ N(0, sigma_u^2)` is the
patient's susceptibility. Grade >= k when S reaches theta_k. Under ASTCT grade 1 *is* fever
(>= 38 C), so there is no separate fever threshold: `p_fever` is P(grade >= 1) by definition,
kept as a name for outputs that report it. Runs report expected values, never one draw.

A cohort's CRS rate for a virtual trial of n patients, with the thresholds' own uncertainty
(each calibrated on a trial of finite size), is `crs_rate_interval` (docs/model.md s.10).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel

GRADES = (1, 2, 3, 4)


@dataclass(frozen=True)
class CrsParameters:
    """The CRS readout's exposure, susceptibility and thresholds (docs/model.md s.10)."""

    # Exposure: IL-6 averaged like C-reactive protein, whose plasma half-life is 19 h
    # [Vigushin1993] (R); assumption that severity integrates IL-6 the same way.
    exposure_half_life_h: float = 19.0
    # Patient susceptibility, SD of u in log10 units (assumption: at one exposure, severity
    # differs about two-fold per SD between patients).
    susceptibility_sd_log10: float = 0.3
    # Thresholds on log10 exposure (pg/mL), ASTCT grades, calibrated on the calibration
    # trials' published rates (docs/calibrate.py, docs/model.md s.10): grade >= 1 = fever
    # (pyrexia 67%, [Topp2012]); grade >= 2 = CTCAE-reported CRS of any grade (3/39 children,
    # [Gore2014]; the mapping is an assumption stated in s.10); grade >= 3 (3% of 239 adults,
    # [Badar2020]; 4/70 children, [vonStackelberg2016]); grade 4 (1/70 children, same).
    # Solved by `docs/calibrate.py --fit` at version 0.3.0 (docs/calibration.md).
    theta_grade1: float = 2.07
    theta_grade2: float = 2.78
    theta_grade3: float = 2.83
    theta_grade4: float = 3.07

    def thresholds(self) -> tuple[float, float, float, float]:
        """theta_1..theta_4 (log10 pg/mL), lowest first."""
        return (self.theta_grade1, self.theta_grade2, self.theta_grade3, self.theta_grade4)


def normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def probability_at_least(exposure_pg_per_ml: float, threshold_log10: float,
                         p: CrsParameters) -> float:
    """P(S >= threshold) for a patient whose exposure is `exposure_pg_per_ml`."""
    z = (math.log10(max(exposure_pg_per_ml, 1e-12)) - threshold_log10) / max(
        p.susceptibility_sd_log10, 1e-12)
    return normal_cdf(z)


def grade_probabilities(exposure_pg_per_ml: float, p: CrsParameters) -> dict[int, float]:
    """P(grade >= k), k = 1..4, at this exposure."""
    return {k: probability_at_least(exposure_pg_per_ml, theta, p)
            for k, theta in zip(GRADES, p.thresholds(), strict=True)}


@dataclass
class CrsReadout:
    """The exposure over a run, and the expected CRS readouts (a step observer of IL-6).

    Pass `observe` as the cytokine readout's `on_il6`; add `reporters()` to the time series.
    """

    params: CrsParameters = field(default_factory=CrsParameters)
    baseline_pg_per_ml: float = 10.0
    exposure_pg_per_ml: float = field(default=float("nan"))
    peak_exposure_pg_per_ml: float = 0.0
    time_of_peak_risk_h: float = 0.0
    peak_il6_pg_per_ml: float = 0.0
    time_of_peak_il6_h: float = 0.0
    expected_hours_grade_2_or_more: float = 0.0

    def __post_init__(self) -> None:
        if math.isnan(self.exposure_pg_per_ml):
            self.exposure_pg_per_ml = self.baseline_pg_per_ml
        self.peak_exposure_pg_per_ml = self.exposure_pg_per_ml
        self.peak_il6_pg_per_ml = self.baseline_pg_per_ml
        self._k_per_h = math.log(2.0) / self.params.exposure_half_life_h

    def observe(self, time_h: float, il6_pg_per_ml: float, dt_h: float) -> None:
        """One step: the exposure relaxes towards IL-6 (exact for IL-6 held over the step)."""
        x = il6_pg_per_ml + (self.exposure_pg_per_ml - il6_pg_per_ml) * math.exp(
            -self._k_per_h * dt_h)
        self.exposure_pg_per_ml = x
        if x > self.peak_exposure_pg_per_ml:
            self.peak_exposure_pg_per_ml = x
            self.time_of_peak_risk_h = time_h
        if il6_pg_per_ml > self.peak_il6_pg_per_ml:
            self.peak_il6_pg_per_ml = il6_pg_per_ml
            self.time_of_peak_il6_h = time_h
        self.expected_hours_grade_2_or_more += dt_h * probability_at_least(
            x, self.params.theta_grade2, self.params)

    def reporters(self) -> dict[str, Callable[[BispecificModel], float]]:
        """Columns of the time series: exposure, and P(grade >= k) at each time (the chance
        that the patient is at that grade then); `crs_p_fever` is `crs_p_grade1` (ASTCT)."""
        p = self.params
        columns: dict[str, Callable[[BispecificModel], float]] = {
            "crs_exposure_pg_per_ml": lambda _m: self.exposure_pg_per_ml,
            "crs_p_fever": lambda _m: probability_at_least(self.exposure_pg_per_ml,
                                                           p.theta_grade1, p),
        }
        for k, theta in zip(GRADES, p.thresholds(), strict=True):
            columns[f"crs_p_grade{k}"] = (
                lambda _m, theta=theta: probability_at_least(self.exposure_pg_per_ml, theta, p))
        return columns

    def summary(self) -> dict[str, float]:
        """Expected readouts of the run: P(grade >= k) at the peak exposure (`p_fever` is
        P(grade >= 1), ASTCT), when the risk peaked, the expected hours at grade >= 2, and the
        IL-6 peak."""
        p = self.params
        peak = self.peak_exposure_pg_per_ml
        out: dict[str, float] = {
            f"p_crs_grade{k}_or_more": prob for k, prob in grade_probabilities(peak, p).items()}
        out.update({
            "p_fever": out["p_crs_grade1_or_more"],
            "peak_crs_exposure_pg_per_ml": peak,
            "time_of_peak_crs_risk_h": self.time_of_peak_risk_h,
            "expected_hours_crs_grade_2_or_more": self.expected_hours_grade_2_or_more,
            "peak_il6_pg_per_ml": self.peak_il6_pg_per_ml,
            "time_of_peak_il6_h": self.time_of_peak_il6_h,
        })
        return out

    def state_dict(self) -> dict[str, float]:
        """Everything tracked so far (for checkpoints)."""
        return {name: getattr(self, name) for name in (
            "exposure_pg_per_ml", "peak_exposure_pg_per_ml", "time_of_peak_risk_h",
            "peak_il6_pg_per_ml", "time_of_peak_il6_h", "expected_hours_grade_2_or_more")}

    def load_state_dict(self, state: dict[str, float]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    # The readout is a step observer too (no per-step work of its own; `observe` does it).
    def start(self, model: BispecificModel) -> None:
        """Nothing to do: the exposure starts at baseline."""

    def update(self, model: BispecificModel) -> None:
        """Nothing to do: the cytokine readout calls `observe` after every step."""


# --- A cohort's CRS rate as a trial of n patients would read it (docs/model.md s.10) ---

_NORMAL = NormalDist()


def cohort_rate(exposures_log10: np.ndarray, sigma_u: float, theta: float) -> float:
    """Mean P(S >= theta) over patients whose peak exposures are `exposures_log10`.

    Parameters
    ----------
    exposures_log10 : array of log10 peak exposure (pg/mL), one per patient.
    sigma_u : patient susceptibility SD (log10).
    theta : grade threshold (log10 pg/mL).
    """
    z = (np.asarray(exposures_log10, float) - theta) / sigma_u
    return float(np.mean([_NORMAL.cdf(v) for v in z]))


def fit_threshold(rate: float, exposures_log10: np.ndarray, sigma_u: float) -> float:
    """The threshold at which the cohort's mean probability equals `rate` (bisection; the
    rate falls monotonically as the threshold rises)."""
    x = np.asarray(exposures_log10, float)
    low, high = float(x.min()) - 10.0 * sigma_u, float(x.max()) + 10.0 * sigma_u
    for _ in range(80):
        mid = 0.5 * (low + high)
        if cohort_rate(x, sigma_u, mid) > rate:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def probit_threshold_standard_error(rate: float, n_trial: int, spread_log10: float) -> float:
    """SE of a threshold fitted to a published rate of a trial of `n_trial` patients, when
    every patient's severity is `N(mu, spread^2)`: closed form through the probit link.

    `theta = mu - spread * Phi^-1(rate)`, so by the delta method
    `SE(theta) = spread * sqrt(rate (1 - rate) / n) / phi(Phi^-1(rate))`. For 3% of 239
    patients and spread 0.3 log10: 0.049 log10.
    """
    z = _NORMAL.inv_cdf(rate)
    return spread_log10 * math.sqrt(rate * (1.0 - rate) / n_trial) / _NORMAL.pdf(z)


def threshold_standard_error(rate: float, n_trial: int, exposures_log10: np.ndarray,
                             sigma_u: float) -> float:
    """SE (log10) of a threshold calibrated so that the cohort's mean probability equals a
    published `rate` observed in `n_trial` patients.

    The published rate is a binomial sample, `SE(rate) = sqrt(rate (1 - rate) / n)`; the
    delta method carries it to the threshold through the slope of the cohort's rate,
    `d rate / d theta = -mean(phi((x_i - theta) / sigma_u)) / sigma_u`. With identical
    patients this is `probit_threshold_standard_error(rate, n, sigma_u)`.
    """
    x = np.asarray(exposures_log10, float)
    theta = fit_threshold(rate, x, sigma_u)
    slope = float(np.mean([_NORMAL.pdf(v) for v in (x - theta) / sigma_u])) / sigma_u
    return math.sqrt(rate * (1.0 - rate) / n_trial) / max(slope, 1e-12)


def pooled_standard_error(standard_errors: list[float]) -> float:
    """SE of a threshold calibrated on several independent trials (inverse-variance pool)."""
    return 1.0 / math.sqrt(sum(1.0 / se ** 2 for se in standard_errors))


def crs_rate_interval(exposures_log10: np.ndarray, sigma_u: float, theta: float,
                      theta_se: float, n_trial: int, rng: np.random.Generator,
                      draws: int = 4000, level: float = 0.95) -> tuple[float, float, float]:
    """A cohort's CRS rate (P(grade >= k) for the grade whose threshold is `theta`) and the
    interval within which a trial of `n_trial` such patients would report it.

    Each draw takes (b) a threshold from its sampling distribution, `N(theta, theta_se^2)`,
    and (a) `n_trial` patients from the cohort (with replacement), each of whom has the event
    with its probability `Phi((x_i - theta) / sigma_u)` (drawn as the latent severity
    `x_i + u_i >= theta`, `u_i ~ N(0, sigma_u^2)`); the interval holds the central `level`
    of the draws' event rates.

    Parameters
    ----------
    exposures_log10 : log10 peak exposures (pg/mL) of the virtual cohort's patients.
    sigma_u : patient susceptibility SD (log10).
    theta, theta_se : the grade's threshold and its standard error (log10).
    n_trial : patients in the trial compared with (the published trial's size).
    rng : numpy random generator (seed it for a reproducible table).
    draws : virtual trials drawn.
    level : coverage of the interval.

    Returns
    -------
    (rate, low, high) : the cohort's expected rate at `theta`, and the interval.
    """
    x = np.asarray(exposures_log10, float)
    thetas = theta + theta_se * rng.standard_normal(draws)
    severity = x[rng.integers(0, x.size, (draws, n_trial))] + sigma_u * rng.standard_normal(
        (draws, n_trial))
    rates = (severity >= thetas[:, None]).mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(rates, [tail, 1.0 - tail])
    return cohort_rate(x, sigma_u, theta), float(low), float(high)
