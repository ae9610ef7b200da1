"""The schedule family the optimiser searches: schedules a clinic can give, bounded by a file.

A schedule starts at a first dose for some days, steps up monotonically through at most
three levels to a target dose, and stays there to the end of the run. It is given as a
continuous infusion or as a daily IV bolus of the day's dose, and in ug/day for every
patient or per m^2 of body surface (a dose D ug/day becomes D / reference_bsa_m2 ug/m^2/day,
so the reference patient gets D and others get it scaled by their BSA). Doses are whole
multiples of `dose_step_ug_per_day` and durations whole days, so the search space is what
a pharmacy can make up, and two trials that propose the same schedule share their runs.

`steps` counts the step-ups: 0 is a flat schedule at the target from day 0, 1 a first dose
then the target (the approved 9 -> 28 ug/day), 2 and 3 add intermediate levels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

DELIVERIES = ("continuous", "bolus")
UNITS = ("flat", "per_m2")
MAX_STEPS = 3


@dataclass(frozen=True)
class Schedule:
    """One schedule of the family: (start day, dose in ug/day) levels, each running until
    the next starts, the last to the end of the run."""

    delivery: str
    units: str
    levels: tuple[tuple[int, float], ...]

    @property
    def steps(self) -> int:
        return len(self.levels) - 1

    @property
    def first_dose(self) -> float:
        return self.levels[0][1]

    @property
    def target_dose(self) -> float:
        return self.levels[-1][1]

    @property
    def first_days(self) -> int:
        return self.levels[1][0] if self.steps else 0

    def family(self) -> str:
        """How the figure groups it: bolus, or continuous flat or step-up."""
        if self.delivery == "bolus":
            return "bolus"
        return "continuous, flat" if self.steps == 0 else "continuous, step-up"

    def describe(self, end_day: float) -> str:
        """'continuous, flat dose: 9 ug/day d0-7 -> 28 ug/day d7-28'."""
        edges = [day for day, _ in self.levels] + [end_day]
        parts = [f"{dose:g} ug/day d{a:g}-{b:g}" for (a, dose), b
                 in zip(self.levels, edges[1:], strict=True)]
        how = "daily bolus" if self.delivery == "bolus" else "continuous"
        per = "per m^2 (as at the reference BSA)" if self.units == "per_m2" else "flat dose"
        return f"{how}, {per}: " + " -> ".join(parts)

    def doses(self, end_day: float, reference_bsa_m2: float,
              max_ug_per_day: float | None = None) -> tuple[dict[str, Any], ...]:
        """The schedule as [[dose]] tables of a scenario running to `end_day`."""
        edges = [day for day, _ in self.levels] + [end_day]
        out = []
        for (start, dose), end in zip(self.levels, edges[1:], strict=True):
            # Per-m^2 amounts are rounded as a pharmacy would label them (3 significant
            # figures); the exact figure would only carry float noise into the file.
            per_m2 = float(f"{dose / reference_bsa_m2:.3g}")
            if self.delivery == "continuous":
                entry: dict[str, Any] = {"kind": "infusion", "start_day": float(start),
                                         "end_day": float(end)}
                if self.units == "flat":
                    entry["rate_ug_per_day"] = dose
                else:
                    entry["rate_ug_per_m2_per_day"] = per_m2
                    if max_ug_per_day is not None:
                        entry["max_ug_per_day"] = max_ug_per_day
            else:
                entry = {"kind": "bolus", "day": float(start), "every_days": 1.0,
                         "until_day": float(end)}
                entry["dose_ug" if self.units == "flat" else "dose_ug_per_m2"] = (
                    dose if self.units == "flat" else per_m2)
            out.append(entry)
        return tuple(out)


@dataclass(frozen=True)
class Family:
    """The bounds of the search, as the file gives them."""

    deliveries: tuple[str, ...]
    units: tuple[str, ...]
    steps: tuple[int, int]
    first_dose: tuple[float, float]
    first_days: tuple[int, int]
    step_days: tuple[int, int]
    target_dose: tuple[float, float]
    dose_step: float
    reference_bsa_m2: float
    max_ug_per_day: float | None

    def round_dose(self, dose: float) -> float:
        """To the nearest whole multiple of the dose step, written without float noise."""
        k = round(dose / self.dose_step)
        return float(f"{k * self.dose_step:.10g}")

    def suggest(self, trial: Any) -> Schedule:
        """A schedule from an optuna trial's suggestions. The first dose is drawn over its
        own bounds and given at most at the target (a first dose above the target is a flat
        schedule); intermediate levels are sorted fractions of the way from first to
        target, so every schedule steps up monotonically."""
        delivery = _choose(trial, "delivery", self.deliveries)
        units = _choose(trial, "units", self.units)
        target = self.round_dose(trial.suggest_float(
            "target_dose_ug_per_day", *self.target_dose, step=self.dose_step))
        lo, hi = self.steps
        steps = trial.suggest_int("steps", lo, hi) if hi > lo else lo
        if steps == 0:
            return Schedule(delivery, units, ((0, target),))
        first = min(self.round_dose(trial.suggest_float(
            "first_dose_ug_per_day", *self.first_dose, step=self.dose_step)), target)
        day = trial.suggest_int("first_days", *self.first_days)
        levels = [(0, first)]
        fractions = sorted(trial.suggest_float(f"step{i}_fraction", 0.0, 1.0)
                           for i in range(1, steps))
        for i, u in enumerate(fractions, start=1):
            levels.append((day, self.round_dose(first + u * (target - first))))
            day += trial.suggest_int(f"step{i}_days", *self.step_days)
        levels.append((day, target))
        return Schedule(delivery, units, _merge(levels))

    def start_params(self, start: dict[str, Any]) -> dict[str, Any]:
        """The optuna parameters that `suggest` turns into the schedule a [[start]] table
        describes (to enqueue it as a trial)."""
        params: dict[str, Any] = {"target_dose_ug_per_day": start["target_dose_ug_per_day"]}
        if len(self.deliveries) > 1:
            params["delivery"] = start["delivery"]
        if len(self.units) > 1:
            params["units"] = start["units"]
        middle = start["step_doses_ug_per_day"]
        steps = 0 if start["first_dose_ug_per_day"] is None else len(middle) + 1
        if self.steps[1] > self.steps[0]:
            params["steps"] = steps
        if steps:
            first, target = start["first_dose_ug_per_day"], start["target_dose_ug_per_day"]
            params["first_dose_ug_per_day"] = first
            params["first_days"] = start["first_days"]
            for i, (dose, days) in enumerate(zip(middle, start["step_days"], strict=True),
                                             start=1):
                params[f"step{i}_fraction"] = (dose - first) / (target - first)
                params[f"step{i}_days"] = days
        return params

    def longest_start(self) -> int:
        """The latest day the target can start."""
        if self.steps[1] == 0:
            return 0
        return self.first_days[1] + (self.steps[1] - 1) * self.step_days[1]


def _choose(trial: Any, name: str, options: tuple[str, ...]) -> str:
    return trial.suggest_categorical(name, list(options)) if len(options) > 1 else options[0]


def _merge(levels: list[tuple[int, float]]) -> tuple[tuple[int, float], ...]:
    """Consecutive levels of one dose become one: the same schedule, written once."""
    out: list[tuple[int, float]] = []
    for day, dose in levels:
        if out and math.isclose(out[-1][1], dose):
            continue
        out.append((day, dose))
    return tuple(out)
