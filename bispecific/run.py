"""Running a scenario: schedule -> plasma curve -> model -> time series and summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from . import units
from .model import BispecificModel
from .pk import PlasmaCurve
from .readouts import summarise
from .scenario import Scenario


def plasma_curve(scenario: Scenario) -> PlasmaCurve:
    """The patient's plasma concentration (pg/mL) over the run, from the dosing schedule."""
    return PlasmaCurve(scenario.schedule, scenario.days, scenario.patient.bsa_m2, scenario.pk)


def build_model(scenario: Scenario) -> BispecificModel:
    """The Mesa model for a scenario, driven by its plasma curve."""
    p = scenario.patient
    return BispecificModel(
        width=scenario.grid.width,
        height=scenario.grid.height,
        voxel_um=scenario.grid.voxel_um,
        dt_minutes=scenario.simulation.dt_minutes,
        marrow_blast_fraction=p.marrow_blast_fraction,
        t_cells_per_blast=p.t_cells_per_blast,
        cd19_negative_fraction=p.cd19_negative_fraction,
        plasma_pg_per_ml=plasma_curve(scenario),
        parameters=scenario.parameters,
        record_every_minutes=scenario.simulation.record_every_minutes,
        parallel=scenario.simulation.parallel,
        seed=scenario.seed,
    )


@dataclass
class RunResult:
    scenario: Scenario
    timeseries: pd.DataFrame
    summary: dict
    model: BispecificModel


def run_scenario(
    scenario: Scenario, progress: Callable[[float], None] | None = None
) -> RunResult:
    """Run a scenario to its end; `progress(hours_done)` is called at every record."""
    start = time.perf_counter()
    model = build_model(scenario)
    hours_per_record = model.record_every_minutes / units.MINUTES_PER_HOUR
    model.run_for(
        scenario.days,
        progress=None if progress is None else (lambda _n: progress(hours_per_record)),
    )
    timeseries = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    wall = time.perf_counter() - start
    return RunResult(scenario, timeseries, summarise(scenario, model, timeseries, wall), model)
