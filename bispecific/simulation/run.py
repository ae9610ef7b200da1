"""Running a scenario: schedule -> plasma curve -> model -> time series and summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import units
from ..engine.model import BispecificModel
from ..pharmacology.pk import PlasmaCurve
from ..readouts.snapshots import SnapshotRecorder
from ..scenario import Scenario
from .patient import PatientReadouts, patch_blast_fraction
from .summary import summarise


def plasma_curve(scenario: Scenario) -> PlasmaCurve:
    """The patient's plasma concentration (pg/mL) over the run, from the dosing schedule."""
    return PlasmaCurve(scenario.schedule, scenario.days, scenario.patient.bsa_m2, scenario.pk)


def model_arguments(
    scenario: Scenario, readouts: PatientReadouts, extra_readouts: tuple = ()
) -> dict:
    """`BispecificModel`'s arguments for a scenario: its patch, patient (blast-poor marrow
    enriched, docs/model.md s.11), plasma curve and readouts."""
    p = scenario.patient
    blast_fraction, _ = patch_blast_fraction(scenario)
    return dict(
        width=scenario.grid.width,
        height=scenario.grid.height,
        voxel_um=scenario.grid.voxel_um,
        dt_minutes=scenario.simulation.dt_minutes,
        marrow_blast_fraction=blast_fraction,
        t_cell_fraction=p.t_cell_fraction,
        cd19_negative_fraction=p.cd19_negative_fraction,
        plasma_pg_per_ml=plasma_curve(scenario),
        parameters=scenario.parameters,
        record_every_minutes=scenario.simulation.record_every_minutes,
        parallel=scenario.simulation.parallel,
        readouts=[*readouts.observers(), *extra_readouts],
        seed=scenario.seed,
    )


def build_model(
    scenario: Scenario, readouts: PatientReadouts | None = None, extra_readouts: tuple = ()
) -> BispecificModel:
    """The Mesa model for a scenario, driven by its plasma curve, with its readouts."""
    readouts = readouts or PatientReadouts.for_scenario(scenario)
    return BispecificModel(**model_arguments(scenario, readouts, extra_readouts))


def run_summary(scenario: Scenario, model: BispecificModel, timeseries: pd.DataFrame,
                wall_time_s: float, readouts: PatientReadouts) -> dict:
    """The summary of a run (finished or not): response, exposure, CRS and provenance."""
    return summarise(scenario, model, timeseries, wall_time_s, readouts)


@dataclass
class RunResult:
    scenario: Scenario
    timeseries: pd.DataFrame
    summary: dict
    model: BispecificModel
    snapshots: SnapshotRecorder
    frames: SnapshotRecorder | None = None


def default_snapshot_days(days: float) -> list[float]:
    """Start, a quarter, half and end of the run."""
    return [0.0, days / 4.0, days / 2.0, days]


def run_scenario(
    scenario: Scenario,
    progress: Callable[[float], None] | None = None,
    snapshot_days: list[float] | None = None,
    frame_every_h: float | None = None,
) -> RunResult:
    """Run a scenario to its end.

    Args:
        scenario: a validated scenario.
        progress: called with the hours simulated since the last call, at every record.
        snapshot_days: when to capture the grid (default: start, 1/4, 1/2 and end).
        frame_every_h: also capture animation frames at this interval (None: no frames).
    """
    start = time.perf_counter()
    readouts = PatientReadouts.for_scenario(scenario)
    days = snapshot_days if snapshot_days is not None else default_snapshot_days(scenario.days)
    snaps = SnapshotRecorder([d * 24.0 for d in days if d <= scenario.days])
    frames = None
    extra: list = [snaps]
    if frame_every_h:
        frames = SnapshotRecorder(list(np.arange(0.0, scenario.days * 24.0 + 1e-9,
                                                 frame_every_h)))
        extra.append(frames)
    model = build_model(scenario, readouts, tuple(extra))
    hours_per_record = model.record_every_minutes / units.MINUTES_PER_HOUR
    model.run_for(
        scenario.days,
        progress=None if progress is None else (lambda _n: progress(hours_per_record)),
    )
    timeseries = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    wall = time.perf_counter() - start
    summary = run_summary(scenario, model, timeseries, wall, readouts)
    return RunResult(scenario, timeseries, summary, model, snaps, frames)
