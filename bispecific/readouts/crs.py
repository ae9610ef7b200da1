"""Cytokine release syndrome (CRS): grade bands on plasma IL-6, and a risk.

The mapping from cytokines to a clinical grade is a modelling choice. Clinical CRS grades
(Lee 2014; ASTCT 2019; CTCAE in the blinatumomab trials) are defined by fever, hypotension
and hypoxia, not by IL-6. The model has no physiology, so it uses plasma IL-6, which rises
with CRS severity, as the surrogate. docs/model.md s.10 sets the bands beside the clinical
scales and says how they were calibrated.

`crs_risk` is the probability that a patient's IL-6 peak reaches the grade-2 band. The model
gives the typical patient's peak; patients spread log-normally around it, with the standard
deviation of log10 IL-6 in the digitised patient data (0.62: science.md V9 data, day 0-0.75,
n = 25).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

# Lower IL-6 bound (pg/mL) of grades 1-4. Grade 0 lies below 40 pg/mL, the top of the
# "near baseline" range in V8.
GRADE_BANDS_PG_PER_ML = (40.0, 250.0, 1500.0, 8000.0)
PATIENT_SD_LOG10 = 0.62
RISK_GRADE = 2


def crs_grade(il6_pg_per_ml: float) -> int:
    """CRS grade (0-4) for a plasma IL-6 concentration, by the bands above."""
    return sum(il6_pg_per_ml >= lower for lower in GRADE_BANDS_PG_PER_ML)


def crs_risk(peak_il6_pg_per_ml: float, sd_log10: float = PATIENT_SD_LOG10) -> float:
    """Probability that a patient's IL-6 peak reaches grade >= 2, given the typical peak."""
    threshold = GRADE_BANDS_PG_PER_ML[RISK_GRADE - 1]
    z = (math.log10(max(peak_il6_pg_per_ml, 1e-9)) - math.log10(threshold)) / sd_log10
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@dataclass
class CrsTracker:
    """Peak IL-6, its time and the hours at grade >= 2, tracked at every step."""

    peak_il6_pg_per_ml: float = 0.0
    time_of_peak_il6_h: float = 0.0
    hours_at_grade_2_or_more: float = 0.0
    grade_max: int = 0
    _seen: bool = field(default=False, repr=False)

    def __call__(self, time_h: float, il6_pg_per_ml: float, dt_h: float) -> None:
        if not self._seen or il6_pg_per_ml > self.peak_il6_pg_per_ml:
            self.peak_il6_pg_per_ml = il6_pg_per_ml
            self.time_of_peak_il6_h = time_h
            self._seen = True
        grade = crs_grade(il6_pg_per_ml)
        self.grade_max = max(self.grade_max, grade)
        if grade >= 2:
            self.hours_at_grade_2_or_more += dt_h

    def state_dict(self) -> dict[str, float | int | bool]:
        """Everything tracked so far (for checkpoints)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def load_state_dict(self, state: dict[str, float | int | bool]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def summary(self) -> dict[str, float | int]:
        return {
            "peak_il6_pg_per_ml": self.peak_il6_pg_per_ml,
            "time_of_peak_il6_h": self.time_of_peak_il6_h,
            "crs_grade_max": self.grade_max,
            "hours_at_crs_grade_2_or_more": self.hours_at_grade_2_or_more,
            "crs_risk": crs_risk(self.peak_il6_pg_per_ml),
        }
