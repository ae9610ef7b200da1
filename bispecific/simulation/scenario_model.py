"""A scenario as a Mesa model, with its settings as keyword arguments.

`ScenarioModel(scenario, target_dose_ug_per_day=15, seed=3)` is the model `run_scenario`
runs for that scenario with those settings (`bispecific.scenario.settings`): its plasma
curve, cytokines and CRS readouts. Its DataCollector adds the run summary (the numbers of
`summary.json`) as readouts, and `running` turns False at the scenario's end, so Mesa's
tools take it as it is:

    from bispecific import ScenarioModel, batch_run

    rows = batch_run(ScenarioModel, parameters={
        "scenario": "scenarios/continuous_4wk.toml", "days": 7,
        "target_dose_ug_per_day": [9, 28], "seed": [1, 2, 3]},
        max_steps=10**7, display_progress=False)

gives one row per run, with the settings, the last record and the run summary
(`bispecific.batch_run` is `mesa.batch_run` with the seeds given as each Mesa wants them). A
run that a caller stops before the scenario's end (batch_run's default max_steps=1000 is
16.7 h of one-minute steps) says so: its row has the `days` actually simulated and
`stopped_early` True, and reading its summary warns once (`EarlyStopWarning`).
`bispecific view` drives the same class from its controls.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import units
from ..engine.facade.model import BispecificModel
from ..scenario import Scenario, load_scenario
from ..scenario.settings import Regimen, apply_settings
from .patient import PatientReadouts
from .run import model_arguments, run_summary


class EarlyStopWarning(UserWarning):
    """A scenario model's summary was read before the scenario's end."""


DEFAULT_SCENARIO = Scenario(name="approved_9_28", days=28.0, seed=20261124,
                            description="the approved adult cycle: 9 -> 28 ug/day, step day 7")


def default_scenario() -> Scenario:
    """The approved adult regimen for the default patient (as scenarios/continuous_4wk)."""
    return apply_settings(DEFAULT_SCENARIO, **Regimen().__dict__)


class ScenarioModel(BispecificModel):
    """The Mesa model of a scenario, changed by settings in clinical terms."""

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        days: float | None = None,
        seed: int | None = None,
        rng: Any = None,
        marrow_blast_fraction: float | None = None,
        t_cell_fraction: float | None = None,
        cd19_negative_fraction: float | None = None,
        weight_kg: float | None = None,
        bsa_m2: float | None = None,
        first_dose_ug_per_day: float | None = None,
        step_day: float | None = None,
        target_dose_ug_per_day: float | None = None,
        administration: str | None = None,
        dexamethasone: bool | None = None,
        width: int | None = None,
        height: int | None = None,
        record_every_minutes: float | None = None,
    ) -> None:
        """The other arguments (`days`, `seed`, ...) are the scenario's settings
        (`bispecific.scenario.settings`); None keeps the scenario's value. Any dosing setting
        replaces the scenario's schedule by the step-up regimen it describes.

        Args:
            scenario: a `Scenario`, or the path of a scenario file; None: the approved
                regimen (`default_scenario`).
            rng: as `BispecificModel`'s (instead of a seed); the seed drawn from it is
                written into `model.scenario`, so the scenario reproduces the run.
        """
        if scenario is None:
            base = default_scenario()
        elif isinstance(scenario, Scenario):
            base = scenario
        else:
            base = load_scenario(scenario)
        settings = {k: v for k, v in dict(
            days=days, seed=seed, marrow_blast_fraction=marrow_blast_fraction,
            t_cell_fraction=t_cell_fraction, cd19_negative_fraction=cd19_negative_fraction,
            weight_kg=weight_kg, bsa_m2=bsa_m2, first_dose_ug_per_day=first_dose_ug_per_day,
            step_day=step_day, target_dose_ug_per_day=target_dose_ug_per_day,
            administration=administration, dexamethasone=dexamethasone, width=width,
            height=height, record_every_minutes=record_every_minutes,
        ).items() if v is not None}
        if isinstance(settings.get("seed"), np.integer):
            settings["seed"] = int(settings["seed"])
        scenario = apply_settings(base, **settings)
        self.patient_readouts = PatientReadouts.for_scenario(scenario)
        arguments = model_arguments(scenario, self.patient_readouts)
        if rng is not None:
            if seed is not None:
                raise ValueError("you have to pass either rng or seed, not both")
            arguments["seed"] = None
        super().__init__(**arguments, rng=rng)
        self.scenario = scenario if self.seed == scenario.seed else scenario.with_changes(
            seed=self.seed)
        self.end_step = round(scenario.days * units.MINUTES_PER_DAY / self.dt_minutes)
        self._warned_early = False

    @property
    def scenario(self) -> Scenario:
        """The scenario this model runs, with the seed it runs with."""
        return self._run_scenario

    @scenario.setter
    def scenario(self, value: Any) -> None:
        # Mesa 3.5+'s Model.__init__ sets `scenario` to its own experiment record
        # (mesa.experimental.scenarios); it is kept where Mesa's own property keeps it.
        if isinstance(value, Scenario):
            self._run_scenario = value
        else:
            self._scenario = value
            value.model = self

    def step(self) -> None:
        super().step()
        if self.steps >= self.end_step:
            self.running = False

    def run_model(self) -> None:
        """Run to the scenario's end."""
        while self.running:
            self.step()

    @property
    def stopped_early(self) -> bool:
        """Whether the run stands before its scenario's end (a caller stopped stepping it)."""
        return self.steps < self.end_step

    def summary(self) -> dict[str, Any]:
        """The run summary as it stands (the numbers of `summary.json`), with the time
        simulated: `days` is the simulated time, `days_planned` the scenario's, and
        `stopped_early` says whether the run was cut short. Read from a run cut short
        (`mesa.batch_run`'s default max_steps=1000 is 16.7 h of one-minute steps), it
        warns, once per model."""
        timeseries = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        summary = run_summary(self.scenario, self, timeseries, self.patient_readouts)
        early = self.stopped_early
        if early:
            summary["days"] = self.time_h / units.HOURS_PER_DAY
            if not self._warned_early:
                self._warned_early = True
                warnings.warn(
                    f"{self.scenario.name}: read at day {summary['days']:.3g} of "
                    f"{self.scenario.days:g} (step {self.steps} of {self.end_step}): the "
                    "summary describes the run so far; with mesa.batch_run, pass max_steps="
                    f"{self.end_step} or more (its default is 1000)", EarlyStopWarning,
                    stacklevel=2)
        summary["days_planned"] = self.scenario.days
        summary["stopped_early"] = early
        return summary
