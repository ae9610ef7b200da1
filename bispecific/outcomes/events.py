"""One patient's event times after a simulated course (docs/model.md s.13).

From a run's summary (best response, MRD level, CD19-negative residue, the day treatment
ended) and the patient's blast kinetics, draw: response or not, relapse (extrapolated
regrowth, `regrowth.py`), transplant in remission (a censoring rule), death from the first
day of treatment (`hazards.py`), and administrative censoring at the end of follow-up.
Overall survival (OS) ends at death; event-free survival (EFS) at treatment failure,
relapse or death, whichever is first.

The draws come from a generator seeded by the run's own seed, so a patient's uniforms are
the same in every arm (common random numbers: arms differ by their summaries, not by luck)
and a results table gives the same events every time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .constants import (
    FOLLOW_UP_DAYS,
    RELAPSE_BLAST_FRACTION,
    RESPONSE_WINDOW_DAYS,
    TRANSPLANT_DAYS_AFTER_TREATMENT,
    TRANSPLANT_PROBABILITY_IN_REMISSION,
)
from .hazards import DeathHazards, death_day
from .regrowth import Residual, days_to_relapse, extinction_probability

OUTCOME_SEED = 20_161_013  # the generator's fixed first key (INO-VATE, NEJM 2016)


@dataclass(frozen=True)
class OutcomeRules:
    """The post-treatment model's settings (defaults: `constants.py`)."""

    hazards: DeathHazards = DeathHazards()
    transplant_probability: float = TRANSPLANT_PROBABILITY_IN_REMISSION
    transplant_days: float = TRANSPLANT_DAYS_AFTER_TREATMENT
    follow_up_days: float = FOLLOW_UP_DAYS
    relapse_fraction: float = RELAPSE_BLAST_FRACTION
    response_window_days: float = RESPONSE_WINDOW_DAYS


DEFAULT_RULES = OutcomeRules()


@dataclass(frozen=True)
class PatientEvents:
    """Event days from the start of treatment (infinity: did not happen)."""

    response: bool
    response_day: float
    treatment_end_day: float
    relapse_day: float
    relapse_cd19_negative: bool
    transplant_day: float
    death_day: float
    os_days: float
    os_event: bool
    efs_days: float
    efs_event: bool

    def as_row(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isinf(v) else v)
                for k, v in asdict(self).items()}


def residual(summary: Mapping[str, Any], baseline_fraction: float) -> Residual:
    """The residue at the end of treatment: the MRD level estimate, split into its expected
    CD19-negative part (the patch's expected CD19- blasts over its baseline blasts, times
    the patient's baseline fraction) and the rest."""
    level = float(summary["mrd_level_estimate"])
    initial = max(float(summary["initial_blasts"]), 1e-12)
    negative = baseline_fraction * float(summary["final_blasts_cd19_negative_expected"]) / initial
    negative = min(max(negative, 0.0), level)
    return Residual(positive=level - negative, negative=negative)


def _days_list(value: Any) -> list[float]:
    if isinstance(value, str):  # a list as results.csv writes it
        value = [v for v in value.strip("[] ").split(",") if v.strip()]
    return [float(v) for v in value]


def patient_events(summary: Mapping[str, Any], baseline_fraction: float,
                   division_per_day: float, apoptosis_per_day: float,
                   rules: OutcomeRules = DEFAULT_RULES) -> PatientEvents:
    """Draw one patient's events from a run's summary.

    Args:
        summary: the run's summary (or a results.csv row): `days`, `seed`,
            `p_complete_response`, `mrd_level_estimate`, `initial_blasts`,
            `final_blasts_cd19_negative_expected`, `assessment_days`,
            `marrow_blast_percent_at_assessments`.
        baseline_fraction: the patient's marrow blast fraction before treatment.
        division_per_day, apoptosis_per_day: the patient's blast kinetics (/day).
        rules: hazards, transplant rule and follow-up.
    """
    rng = np.random.default_rng([OUTCOME_SEED, int(summary["seed"])])
    u_response, u_cure, u_transplant = rng.random(3)
    exposure = float(rng.exponential())
    end = treatment_end_day(summary)
    days = _days_list(summary["assessment_days"])
    percents = _days_list(summary["marrow_blast_percent_at_assessments"])
    below = [d for d, p in zip(days, percents, strict=True) if p < 100 * rules.relapse_fraction]
    response_day = below[0] if below else days[0]
    # The stopping rule: no response within the window is a treatment failure.
    responder = (u_response < float(summary["p_complete_response"])
                 and response_day <= rules.response_window_days)
    if not responder:
        death = death_day(end, None, math.inf, exposure, rules.hazards)
        return _censored(False, math.inf, math.inf, False, math.inf, death, end, rules)
    res = residual(summary, baseline_fraction)
    growth = division_per_day - apoptosis_per_day
    last = percents[-1] / 100.0
    if last >= rules.relapse_fraction:  # relapsed before the end of the simulated courses
        best_day = days[percents.index(min(percents))]
        since_best = days_to_relapse(res.level, growth, rules.relapse_fraction)
        relapse = min(end, max(response_day, best_day + since_best))
    else:
        # The residue at the end: the MRD estimate (best assessment), or the patch's own
        # last reading when that is higher (regrowth after the best assessment).
        level = max(res.level, last)
        cured = u_cure < extinction_probability(level, division_per_day, apoptosis_per_day)
        relapse = math.inf if cured else end + days_to_relapse(level, growth,
                                                               rules.relapse_fraction)
    transplant = (end + rules.transplant_days
                  if u_transplant < rules.transplant_probability else math.inf)
    death = death_day(end, response_day, relapse, exposure, rules.hazards)
    if death < response_day:  # died with active disease before the response was seen
        return _censored(False, math.inf, math.inf, False, math.inf, death, end, rules)
    return _censored(True, response_day, relapse, res.cd19_negative, transplant, death, end,
                     rules)


def treatment_end_day(summary: Mapping[str, Any]) -> float:
    """The day treatment ended: where a stopping rule ended it (no response, relapse), else
    the run's last day (summaries from before 0.4.1 carry only `days`)."""
    return float(summary.get("treatment_end_day", summary["days"]))


def _censored(response: bool, response_day: float, relapse: float, negative: bool,
              transplant: float, death: float, end: float,
              rules: OutcomeRules) -> PatientEvents:
    """Apply the censoring rules: transplant (censors OS and EFS on its day, if it comes
    before relapse and death) and the end of follow-up."""
    if transplant >= min(relapse, death):
        transplant = math.inf
    stop = min(transplant, rules.follow_up_days)
    os_days, os_event = (death, True) if death <= stop else (stop, False)
    # Failure without response is dated at the last assessment, or at death before it.
    efs_time = min(relapse, death) if response else min(end, death)
    efs_days, efs_event = (efs_time, True) if efs_time <= stop else (stop, False)
    seen = relapse <= min(stop, death)  # a relapse after death or censoring is not observed
    return PatientEvents(response, response_day, end, relapse if seen else math.inf,
                         negative and seen, transplant, death if os_event else math.inf,
                         os_days, os_event, efs_days, efs_event)
