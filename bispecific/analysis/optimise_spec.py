"""Optimiser files: the schedule family and its bounds, the objective, the search; validated
before anything runs.

```toml
[optimise]
name = "step_up"
objective = "max_cr"           # CR rate, subject to CRS grade >= 2 rate <= the limit;
max_crs_grade2_rate = 0.10     # or "pareto": the front of CR rate against CRS >= 2 rate
trials = 40                    # schedules tried; more trials later extend the same search
batch = 4                      # trials evaluated together (on every worker)
sampler = "tpe"                # optuna's TPE; "nsga2"; "random"
startup_trials = 10            # TPE: random trials before it models the results
seed = 1
best = 3                       # best schedules written as scenario files

[schedule]                     # the family (`schedules`), bounded
delivery = ["continuous", "bolus"]
units = ["flat", "per_m2"]
steps = [0, 3]
first_dose_ug_per_day = [3, 28]
first_days = [1, 14]
step_days = [1, 7]
target_dose_ug_per_day = [9, 60]
dose_step_ug_per_day = 1
reference_bsa_m2 = 1.88        # per-m^2 schedules: D ug/day is D / 1.88 ug/m^2/day
max_ug_per_day = 60            # optional cap on per-m^2 infusions

[[start]]                      # optional: schedules tried first, e.g. the approved one
first_dose_ug_per_day = 9
first_days = 7
target_dose_ug_per_day = 28

[cohort] ...                   # the virtual patients; the first [[arm]] is the base scenario
                               # (patients, run length, premedication) and every arm is
                               # evaluated as a reference and marked on the figure
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cohorts.identity import definition as cohort_definition
from ..cohorts.spec import Cohort
from ..scenario.validation import Failer, Key, Name, check_keys, number, shorten
from .files import library_version, read_analysis_file
from .schedules import DELIVERIES, MAX_STEPS, UNITS, Family

OBJECTIVES = ("max_cr", "pareto")
SAMPLERS = ("tpe", "nsga2", "random")
HEAD_KEYS: dict[str, Key] = {
    "name": Key(Name, required=True),
    "description": Key(str, ""),
    "objective": Key(str, required=True, choices=OBJECTIVES),
    "max_crs_grade2_rate": Key(float, None, 0.0, 1.0),
    "trials": Key(int, required=True, lo=1, hi=100_000),
    "batch": Key(int, 4, 1, 1000),
    "sampler": Key(str, "tpe", choices=SAMPLERS),
    "startup_trials": Key(int, 10, 0, 100_000),
    "seed": Key(int, required=True, lo=0, hi=2**32 - 1),
    "best": Key(int, 3, 1, 100),
}
DOSE_HI = 1e5  # the largest daily dose a [[dose]] table accepts
SCHEDULE_KEYS: dict[str, Key] = {
    "delivery": Key(list, list(DELIVERIES)),
    "units": Key(list, ["flat"]),
    "steps": Key(list, [0, MAX_STEPS]),
    "first_dose_ug_per_day": Key(list, None),
    "first_days": Key(list, [1, 14]),
    "step_days": Key(list, [1, 7]),
    "target_dose_ug_per_day": Key(list, required=True),
    "dose_step_ug_per_day": Key(float, 1.0, 0.0, DOSE_HI, lo_open=True),
    "reference_bsa_m2": Key(float, 1.88, 0.1, 3.5),
    "max_ug_per_day": Key(float, None, 0.0, DOSE_HI, lo_open=True),
}
START_KEYS: dict[str, Key] = {
    "delivery": Key(str, "continuous", choices=DELIVERIES),
    "units": Key(str, "flat", choices=UNITS),
    "first_dose_ug_per_day": Key(float, None, 0.0, DOSE_HI, lo_open=True),
    "first_days": Key(int, None, 1, 3650),
    "step_doses_ug_per_day": Key(list, []),
    "step_days": Key(list, []),
    "target_dose_ug_per_day": Key(float, required=True, lo=0.0, hi=DOSE_HI, lo_open=True),
}
TABLES = ("optimise", "schedule", "start")


@dataclass(frozen=True)
class OptimiseSpec:
    name: str
    description: str
    objective: str
    max_crs_grade2_rate: float | None
    trials: int
    batch: int
    sampler: str
    startup_trials: int
    seed: int
    best: int
    family: Family
    starts: tuple[dict[str, Any], ...]
    cohort: Cohort
    source: Path
    text: str

    @property
    def days(self) -> float:
        """The run length: the base arm's (the cohort's days, when it sets them)."""
        return self.cohort.arms[0].scenario.days

    def definition(self) -> dict[str, Any]:
        """Everything the trials depend on, as the output folder records it. Not the number
        of trials: the same search with more trials extends it (its first trials are the
        same), as a cohort with more patients does."""
        settings = {k: getattr(self, k) for k in HEAD_KEYS
                    if k not in ("name", "description", "trials", "best")}
        family = {k: list(v) if isinstance(v, tuple) else v
                  for k, v in self.family.__dict__.items()}
        return {"name": self.name, "settings": settings, "schedule": family,
                "start": list(self.starts), "patients": self.cohort.patients,
                "cohort": cohort_definition(self.cohort),
                # A seeded search replays exactly only under the optuna that began it.
                "optuna": library_version("optuna")}


def load_optimise(path: str | Path) -> OptimiseSpec:
    """Read and validate an optimiser file; raises ScenarioError with one clear line."""
    f = read_analysis_file(path, "optimise", TABLES)
    fail = f.fail
    head = check_keys(f.data["optimise"], HEAD_KEYS, "[optimise]", fail)
    if head["objective"] == "max_cr" and head["max_crs_grade2_rate"] is None:
        fail("[optimise] objective = 'max_cr' needs max_crs_grade2_rate (the largest CRS "
             "grade >= 2 rate allowed, from 0 to 1)")
    days = f.cohort.arms[0].scenario.days
    family = _family(f.data.get("schedule"), days, fail)
    raw_starts = f.data.get("start", [])
    if not isinstance(raw_starts, list):
        fail("'start' must be an array of tables: write each as [[start]]")
    starts = tuple(_start(raw, n, family, fail) for n, raw in enumerate(raw_starts, start=1))
    return OptimiseSpec(
        head["name"], head["description"], head["objective"], head["max_crs_grade2_rate"],
        head["trials"], head["batch"], head["sampler"], head["startup_trials"], head["seed"],
        head["best"], family, starts, f.cohort, f.path, f.text)


def _pair(v: dict[str, Any], key: str, lo: float, hi: float, integer: bool,
          fail: Failer) -> tuple[Any, Any]:
    """A [low, high] bound: two numbers in [lo, hi], low <= high."""
    value = v[key]
    what = "whole numbers" if integer else "numbers"
    allowed = f"[low, high], two {what} from {number(lo)} to {number(hi)}, low <= high"
    ok = (isinstance(value, list) and len(value) == 2
          and all(isinstance(x, int if integer else int | float)
                  and not isinstance(x, bool) for x in value))
    if ok:
        ok = all(math.isfinite(x) and lo <= x <= hi for x in value) and value[0] <= value[1]
    if not ok:
        fail(f"[schedule] {key} = {shorten(value)}: expected {allowed}")
    return (int(value[0]), int(value[1])) if integer else (float(value[0]), float(value[1]))


def _choices(v: dict[str, Any], key: str, allowed: tuple[str, ...], fail: Failer) -> tuple:
    value = v[key]
    if (not isinstance(value, list) or not value or any(x not in allowed for x in value)
            or len(set(value)) < len(value)):
        fail(f"[schedule] {key} = {shorten(value)}: expected a list of one or both of "
             + ", ".join(f'"{a}"' for a in allowed))
    return tuple(value)


def _family(raw: Any, days: float, fail: Failer) -> Family:
    if raw is None:
        fail("missing the [schedule] table (the bounds of the schedules searched)")
    v = check_keys(raw, SCHEDULE_KEYS, "[schedule]", fail)
    steps = _pair(v, "steps", 0, MAX_STEPS, True, fail)
    if v["first_dose_ug_per_day"] is None:
        if steps[1] > 0:
            fail("[schedule] missing first_dose_ug_per_day ([low, high] in ug/day): steps "
                 f"allows up to {steps[1]} step-ups")
        v["first_dose_ug_per_day"] = v["target_dose_ug_per_day"]
    step = v["dose_step_ug_per_day"]
    doses = {}
    for key in ("first_dose_ug_per_day", "target_dose_ug_per_day"):
        doses[key] = _pair(v, key, step, DOSE_HI, False, fail)
        for bound in doses[key]:
            if not math.isclose(bound / step, round(bound / step), abs_tol=1e-9):
                fail(f"[schedule] {key} = {shorten(v[key])}: {number(bound)} is not a "
                     f"multiple of dose_step_ug_per_day ({number(step)})")
    family = Family(
        deliveries=_choices(v, "delivery", DELIVERIES, fail),
        units=_choices(v, "units", UNITS, fail),
        steps=steps,
        first_dose=doses["first_dose_ug_per_day"],
        first_days=_pair(v, "first_days", 1, 3650, True, fail),
        step_days=_pair(v, "step_days", 1, 3650, True, fail),
        target_dose=doses["target_dose_ug_per_day"],
        dose_step=step,
        reference_bsa_m2=v["reference_bsa_m2"],
        max_ug_per_day=v["max_ug_per_day"],
    )
    if family.longest_start() >= days:
        fail(f"[schedule] first_days = {list(family.first_days)}, step_days = "
             f"{list(family.step_days)}, steps = {list(steps)}: the target could start on "
             f"day {family.longest_start()}, not before the end of the run (days = "
             f"{number(days)}); shorten them")
    return family


def _start(raw: Any, n: int, family: Family, fail: Failer) -> dict[str, Any]:
    """A [[start]] schedule, checked to lie in the family (so optuna can try it)."""
    where = f"[[start]] #{n}"
    if not isinstance(raw, dict):
        fail(f"{where} must be a table")
    v = check_keys(raw, START_KEYS, where, fail)

    def within(key: str, value: Any, bounds: tuple[Any, Any]) -> None:
        if not bounds[0] <= value <= bounds[1]:
            fail(f"{where} {key} = {shorten(value)}: outside the family's bounds "
                 f"([schedule] {bounds[0]:g} to {bounds[1]:g})")

    for key, allowed in (("delivery", family.deliveries), ("units", family.units)):
        if v[key] not in allowed:
            fail(f"{where} {key} = {shorten(v[key])}: the family allows only "
                 + ", ".join(f'"{a}"' for a in allowed) + " ([schedule])")
    within("target_dose_ug_per_day", v["target_dose_ug_per_day"], family.target_dose)
    middle, middle_days = v["step_doses_ug_per_day"], v["step_days"]
    if v["first_dose_ug_per_day"] is None:
        if middle or v["first_days"] is not None:
            fail(f"{where} step-ups need first_dose_ug_per_day")
        within("steps", 0, family.steps)
        return v
    if v["first_days"] is None:
        fail(f"{where} missing first_days (how long the first dose runs)")
    within("first_dose_ug_per_day", v["first_dose_ug_per_day"], family.first_dose)
    within("first_days", v["first_days"], family.first_days)
    within("steps", len(middle) + 1, family.steps)
    if len(middle) != len(middle_days):
        fail(f"{where} step_doses_ug_per_day and step_days: one duration per intermediate "
             f"dose ({len(middle)} doses, {len(middle_days)} durations)")
    levels = [v["first_dose_ug_per_day"], *middle, v["target_dose_ug_per_day"]]
    if any(not isinstance(x, int | float) or isinstance(x, bool) for x in levels) or any(
            b <= a for a, b in zip(levels, levels[1:], strict=False)):
        fail(f"{where} doses {shorten(levels)}: expected numbers rising from the first dose "
             "through the step doses to the target")
    for d in middle_days:
        if not isinstance(d, int) or isinstance(d, bool):
            fail(f"{where} step_days = {shorten(middle_days)}: expected whole days")
        within("step_days", d, family.step_days)
    return v
