"""Pharmacokinetics: the published one-compartment linear population model, solved exactly.

Population PK of blinatumomab (Clin Pharmacokinet 2020, doi 10.1007/s40262-019-00823-8;
[PopPK2020] in docs/references.md, R): one compartment, first-order elimination, CL 2.22 L/h
and V 5.98 L for a typical adult. Body surface area (BSA) acts on clearance: the smallest BSA
in the data (0.37 m^2) had a 63% lower CL than the median adult (1.88 m^2). A power law through that
point gives CL = 2.22 x (BSA / 1.88)^0.612 (D; within the adult range 1.5-2.3 m^2 it moves CL
by at most 13%, matching the paper's "25% or less"). V is not scaled: the source reports no
BSA effect on V (assumption).

Between dose events the solution is closed-form: with k = CL / V and a constant infusion
rate R over [T, t), C(t) = C(T) e^{-k (t - T)} + (R / CL)(1 - e^{-k (t - T)}); a bolus D
adds D / V at once. No time stepping.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import units
from .dosing import DosingSchedule, total_rate_steps


def _pk(default: float, lo: float, hi: float) -> Any:
    """A parameter with the range the model runs with (scenario files are checked against it;
    clearance and volume divide, so neither may be 0)."""
    return field(default=default, metadata={"range": (lo, hi)})


@dataclass(frozen=True)
class PKParameters:
    """One-compartment population PK parameters (docs/references.md [PopPK2020])."""

    clearance_l_per_h: float = _pk(2.22, 1e-3, 1e3)  # typical adult CL, pop-PK 2020 (R)
    volume_l: float = _pk(5.98, 0.01, 1e3)  # central volume, pop-PK 2020 (R)
    reference_bsa_m2: float = _pk(1.88, 0.1, 3.5)  # median adult BSA in the pop-PK data (R)
    # D: (0.37/1.88)^x = 0.37, see module docstring. Allometric exponents lie well below 3;
    # above it, (BSA / reference)^x overflows for extreme BSAs.
    bsa_exponent_on_clearance: float = _pk(0.612, 0.0, 3.0)

    def clearance_for(self, bsa_m2: float) -> float:
        """Clearance in L/h for a patient of the given body surface area."""
        return self.clearance_l_per_h * (bsa_m2 / self.reference_bsa_m2) ** (
            self.bsa_exponent_on_clearance)

    def elimination_per_h(self, bsa_m2: float) -> float:
        return self.clearance_for(bsa_m2) / self.volume_l

    def half_life_h(self, bsa_m2: float) -> float:
        return math.log(2.0) / self.elimination_per_h(bsa_m2)

    def steady_state_pg_per_ml(self, rate_ug_per_day: float, bsa_m2: float) -> float:
        """Css = rate / CL, in pg/mL."""
        css_ug_per_l = units.ug_per_day_to_ug_per_h(rate_ug_per_day) / self.clearance_for(bsa_m2)
        return units.ug_per_l_to_pg_per_ml(css_ug_per_l)



class PlasmaCurve:
    """Plasma concentration over time for one patient and schedule: `curve(t_h)` in pg/mL.

    Exact at any time: the state is stored just after each event (a rate change or a
    bolus); between events the closed form applies.
    """

    def __init__(
        self,
        schedule: DosingSchedule,
        run_days: float,
        bsa_m2: float = 1.88,
        pk: PKParameters | None = None,
    ) -> None:
        self.pk = pk or PKParameters()
        self.bsa_m2 = bsa_m2
        self.clearance_l_per_h = self.pk.clearance_for(bsa_m2)
        self.k_per_h = self.clearance_l_per_h / self.pk.volume_l
        segments, boluses = schedule.expand(run_days, bsa_m2)
        rates = total_rate_steps(segments)
        bolus_at: dict[float, float] = {}
        for e in boluses:
            bolus_at[e.time_h] = bolus_at.get(e.time_h, 0.0) + e.dose_ug
        times = sorted({0.0} | {t for t, _ in rates} | set(bolus_at))
        self._times: list[float] = []
        self._rates: list[float] = []  # ug/h from this event on
        self._conc: list[float] = []  # ug/L just after this event
        conc = 0.0
        rate = 0.0
        last = 0.0
        rate_times = [t for t, _ in rates]
        for t in times:
            conc = self._evolve(conc, rate, t - last)
            i = bisect.bisect_right(rate_times, t) - 1
            rate = rates[i][1] if i >= 0 else 0.0
            conc += bolus_at.get(t, 0.0) / self.pk.volume_l
            self._times.append(t)
            self._rates.append(rate)
            self._conc.append(conc)
            last = t

    def _evolve(self, conc_ug_per_l: float, rate_ug_per_h: float, dt_h: float) -> float:
        decay = math.exp(-self.k_per_h * dt_h)
        return conc_ug_per_l * decay + rate_ug_per_h / self.clearance_l_per_h * (1.0 - decay)

    def __call__(self, t_h: float) -> float:
        """Plasma concentration in pg/mL at `t_h` hours (0 before treatment)."""
        if t_h < 0.0:
            return 0.0
        i = bisect.bisect_right(self._times, t_h) - 1
        c = self._evolve(self._conc[i], self._rates[i], t_h - self._times[i])
        return units.ug_per_l_to_pg_per_ml(c)

    def sample(self, times_h: np.ndarray) -> np.ndarray:
        """The curve at many times (for plots and tables)."""
        return np.array([self(float(t)) for t in np.asarray(times_h)])
