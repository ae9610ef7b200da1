"""Cytokine release syndrome as a clinical event: an ordinal latent-severity model on a smoothed
cytokine exposure (docs/model.md s.10).

Clinical grades are set by fever, hypotension and hypoxia ([ASTCT2019]); cytokines predict
severity probabilistically ([Teachey2016], [Lee2015], [Hay2017]). A patient's severity is
`S = log10 X_peak + u`: `X` is a CRP-like exposure, plasma IL-6 averaged by a turnover state
with the 19 h half-life of C-reactive protein ([Vigushin1993]); `u ~ N(0, sigma_u^2)` is the
patient's susceptibility. Grade >= k when S reaches theta_k; fever, reported apart as the
trials did, when S reaches theta_fever. Runs report expected values, never one draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine.model import BispecificModel

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
    # Thresholds on log10 exposure (pg/mL): calibrated to CRS and fever rates of the
    # calibration trials on the approved regimen with premedication (docs/calibration.md).
    theta_fever: float = 1.80
    theta_grade1: float = 2.40
    theta_grade2: float = 2.50  # no calibration number: halfway between grades 1 and 3
    theta_grade3: float = 2.60
    theta_grade4: float = 2.75

    def thresholds(self) -> tuple[float, float, float, float]:
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
        """Columns of the time series: exposure, and P(grade >= k) and P(fever) at each time
        (the chance that the patient is at that grade then)."""
        p = self.params
        columns: dict[str, Callable[[BispecificModel], float]] = {
            "crs_exposure_pg_per_ml": lambda _m: self.exposure_pg_per_ml,
            "crs_p_fever": lambda _m: probability_at_least(self.exposure_pg_per_ml,
                                                           p.theta_fever, p),
        }
        for k, theta in zip(GRADES, p.thresholds(), strict=True):
            columns[f"crs_p_grade{k}"] = (
                lambda _m, theta=theta: probability_at_least(self.exposure_pg_per_ml, theta, p))
        return columns

    def summary(self) -> dict[str, float]:
        """Expected readouts of the run: P(grade >= k) and P(fever) at the peak exposure, when
        the risk peaked, the expected hours at grade >= 2, and the IL-6 peak."""
        p = self.params
        peak = self.peak_exposure_pg_per_ml
        out: dict[str, float] = {
            f"p_crs_grade{k}_or_more": prob for k, prob in grade_probabilities(peak, p).items()}
        out.update({
            "p_fever": probability_at_least(peak, p.theta_fever, p),
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
