"""A scenario changed by a few settings in clinical terms: the knobs of `bispecific view` and
of `ScenarioModel` (and so of `mesa.batch_run`).

Settings and the scenario keys they set:

- `days`, `seed`: `[scenario]`;
- `marrow_blast_fraction`, `t_cell_fraction`, `cd19_negative_fraction`, `weight_kg`,
  `bsa_m2`: `[patient]`;
- `width`, `height` (voxels): `[grid]`; `record_every_minutes`: `[simulation]`;
- `dexamethasone`: `[premedication]`;
- the dosing regimen, `first_dose_ug_per_day`, `step_day`, `target_dose_ug_per_day` and
  `administration` ("continuous" or "bolus"): they replace the `[[dose]]` tables (`Regimen`).

A setting left out keeps the scenario's value. The result is validated like a file, so a
bad value raises `ScenarioError` with one line naming the key, and `to_toml()` of the
result is a file `bispecific run` accepts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..pharmacology.dosing import DosingSchedule, total_rate_steps
from .spec import Scenario, scenario_from_dict
from .validation import ScenarioError

ADMINISTRATIONS = ("continuous", "bolus")

# Setting -> (table, key) of the scenario file.
TABLE_SETTINGS: dict[str, tuple[str, str]] = {
    "days": ("scenario", "days"),
    "seed": ("scenario", "seed"),
    "marrow_blast_fraction": ("patient", "marrow_blast_fraction"),
    "t_cell_fraction": ("patient", "t_cell_fraction"),
    "cd19_negative_fraction": ("patient", "cd19_negative_fraction"),
    "weight_kg": ("patient", "weight_kg"),
    "bsa_m2": ("patient", "bsa_m2"),
    "width": ("grid", "width"),
    "height": ("grid", "height"),
    "record_every_minutes": ("simulation", "record_every_minutes"),
    "dexamethasone": ("premedication", "dexamethasone"),
}
REGIMEN_SETTINGS = ("first_dose_ug_per_day", "step_day", "target_dose_ug_per_day",
                    "administration")
SETTINGS = (*TABLE_SETTINGS, *REGIMEN_SETTINGS)


@dataclass(frozen=True)
class Regimen:
    """A step-up regimen: `first_dose_ug_per_day` from day 0, `target_dose_ug_per_day` from
    `step_day` to the end; as a continuous infusion at those daily rates, or as a bolus of
    the day's dose every day. The approved adult regimen is 9 -> 28 ug/day, step on day 7.
    """

    first_dose_ug_per_day: float = 9.0
    step_day: float = 7.0
    target_dose_ug_per_day: float = 28.0
    administration: str = "continuous"

    def phases(self, days: float) -> list[tuple[float, float, float]]:
        """(start_day, end_day, ug/day) of each dosing phase inside the run, zero doses left
        out and equal neighbours merged."""
        step = min(max(self.step_day, 0.0), days)
        raw = [(0.0, step, self.first_dose_ug_per_day), (step, days, self.target_dose_ug_per_day)]
        phases: list[tuple[float, float, float]] = []
        for start, end, dose in raw:
            if end <= start:
                continue
            if phases and phases[-1][2] == dose:
                phases[-1] = (phases[-1][0], end, dose)
            else:
                phases.append((start, end, dose))
        return [p for p in phases if p[2] > 0.0]

    def dose_tables(self, days: float) -> list[dict[str, Any]]:
        """The `[[dose]]` tables of the regimen over a run of `days`."""
        if self.administration == "continuous":
            return [{"kind": "infusion", "start_day": a, "end_day": b, "rate_ug_per_day": d}
                    for a, b, d in self.phases(days)]
        return [{"kind": "bolus", "day": a, "dose_ug": d, "every_days": 1.0, "until_day": b}
                for a, b, d in self.phases(days)]

    def describe(self, days: float) -> str:
        """One line for a person: '9 ug/day on days 0-7, then 28 ug/day to day 28 (...)'."""
        phases = self.phases(days)
        if not phases:
            return "no drug"
        how = ("continuous infusion" if self.administration == "continuous"
               else "a bolus of the day's dose every day")
        parts = [f"{_num(d)} ug/day on days {_num(a)}-{_num(b)}" for a, b, d in phases]
        return ", then ".join(parts) + f" ({how})"


def _num(x: float) -> str:
    return f"{x:.4g}"


def regimen_of(scenario: Scenario) -> tuple[Regimen, bool]:
    """The step-up regimen closest to the scenario's schedule, and whether it is exactly the
    scenario's schedule (two cycles, interruptions, weekly boluses or chemotherapy courses
    are not)."""
    days, bsa = scenario.days, scenario.patient.bsa_m2
    segments, boluses = scenario.schedule.expand(days, bsa)
    if boluses and not segments:
        doses = [e.dose_ug for e in boluses]
        first = doses[0] if boluses[0].time_h == 0.0 else 0.0
        change = next((e for e in boluses if e.dose_ug != first), None)
        step = change.time_h / 24.0 if change else Regimen.step_day
        target = change.dose_ug if change else first
        regimen = Regimen(first, step, target, "bolus")
    else:
        rates = [(t / 24.0, r * 24.0) for t, r in total_rate_steps(segments)]
        first = rates[0][1] if rates and rates[0][0] == 0.0 else 0.0
        change = next(((t, r) for t, r in rates if r != first and r > 0.0), None)
        step = change[0] if change else Regimen.step_day
        target = change[1] if change else first
        regimen = Regimen(first, step, target, "continuous")
    exact = (not scenario.chemotherapy
             and _same_schedule(scenario.schedule, _schedule_of(regimen, days), days, bsa))
    return regimen, exact


def _schedule_of(regimen: Regimen, days: float) -> DosingSchedule:
    data = {"scenario": {"name": "regimen", "days": days, "seed": 0},
            "dose": regimen.dose_tables(days)}
    return scenario_from_dict(data, "<regimen>").schedule


def _same_schedule(a: DosingSchedule, b: DosingSchedule, days: float, bsa: float) -> bool:
    seg_a, bol_a = a.expand(days, bsa)
    seg_b, bol_b = b.expand(days, bsa)
    steps_a, steps_b = total_rate_steps(seg_a), total_rate_steps(seg_b)
    if len(steps_a) != len(steps_b) or len(bol_a) != len(bol_b):
        return False
    close = all(math.isclose(ta, tb, abs_tol=1e-9) and math.isclose(ra, rb, abs_tol=1e-12)
                for (ta, ra), (tb, rb) in zip(steps_a, steps_b, strict=True))
    return close and all(
        math.isclose(x.time_h, y.time_h, abs_tol=1e-9) and math.isclose(x.dose_ug, y.dose_ug)
        for x, y in zip(bol_a, bol_b, strict=True))


def settings_of(scenario: Scenario) -> dict[str, Any]:
    """Every setting's value in the scenario (the regimen's as `regimen_of` finds it)."""
    data = scenario.to_dict()
    values = {name: data[table][key] for name, (table, key) in TABLE_SETTINGS.items()}
    regimen, _exact = regimen_of(scenario)
    values.update({name: getattr(regimen, name) for name in REGIMEN_SETTINGS})
    return values


def apply_settings(scenario: Scenario, **settings: Any) -> Scenario:
    """The scenario with these settings (module docstring), validated."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise TypeError(f"unknown setting {unknown[0]!r}; the settings are: "
                        f"{', '.join(SETTINGS)}")
    run = {k: settings[k] for k in ("days", "seed") if k in settings}
    if run:  # a shorter run drops the doses after its end (Scenario.with_changes)
        scenario = scenario.with_changes(**run)
    data = scenario.to_dict()
    for name, value in settings.items():
        table, key = TABLE_SETTINGS.get(name, (None, None))
        if table is not None and table != "scenario":
            data[table][key] = value
    regimen_changes = {k: v for k, v in settings.items() if k in REGIMEN_SETTINGS}
    if regimen_changes:
        base, _exact = regimen_of(scenario)
        regimen = Regimen(**{**base.__dict__, **regimen_changes})
        if regimen.administration not in ADMINISTRATIONS:
            raise ScenarioError(
                f"<settings>: administration = {regimen.administration!r}: expected "
                f"{' or '.join(repr(a) for a in ADMINISTRATIONS)}")
        data["dose"] = regimen.dose_tables(scenario.days)
        data.pop("interruption", None)
    return scenario_from_dict(data, "<settings>")
