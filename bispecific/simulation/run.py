"""Running a scenario: schedule -> plasma curve -> model -> time series and summary."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import units
from ..engine.facade.model import BispecificModel
from ..pharmacology.pk import PlasmaCurve
from ..readouts.snapshots import SnapshotRecorder
from ..scenario import Scenario
from .checkpoint import Checkpointing, run_identity
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
                readouts: PatientReadouts) -> dict:
    """The summary of a run (finished or not): response, exposure, CRS and provenance."""
    return summarise(scenario, model, timeseries, readouts)


@dataclass
class RunResult:
    scenario: Scenario
    timeseries: pd.DataFrame
    summary: dict
    model: BispecificModel
    snapshots: SnapshotRecorder
    frames: SnapshotRecorder | None = None
    wall_time_s: float = 0.0  # this session's; apart from the summary, which it would vary
    resumed_from_h: float | None = None  # the checkpoint a resumed run started from


def default_snapshot_days(days: float) -> list[float]:
    """Start, a quarter, half and end of the run."""
    return [0.0, days / 4.0, days / 2.0, days]


def snapshot_days_problem(snapshot_days: list[float], run_days: float) -> str | None:
    """Why these snapshot days cannot be taken in a run of `run_days`, or None. A day
    outside the run is an error, never silently dropped (the same rule as for doses)."""
    for day in snapshot_days:
        if not (math.isfinite(day) and 0.0 <= day <= run_days):
            return (f"day {day:g} is outside the run (days = {run_days:g}); allowed 0 to "
                    f"{run_days:g}")
    return None


class RunInterrupted(KeyboardInterrupt):
    """A run stopped (Ctrl-C, or a kill the command turns into one) before its end. Says
    when, and which checkpoint of it is kept (`checkpoint` None: nothing is kept)."""

    def __init__(self, at_h: float, checkpoint: Path | None, checkpoint_h: float | None):
        super().__init__(f"interrupted at hour {at_h:g}")
        self.at_h = at_h
        self.checkpoint = checkpoint
        self.checkpoint_h = checkpoint_h


def run_scenario(
    scenario: Scenario,
    progress: Callable[[float], None] | None = None,
    snapshot_days: list[float] | None = None,
    frame_every_h: float | None = None,
    checkpointing: Checkpointing | None = None,
    stop_after_h: float | None = None,
) -> RunResult:
    """Run a scenario to its end.

    Args:
        scenario: a validated scenario.
        progress: called with the hours simulated since the last call, at every record (and
            once with the hours already done when a run continues from a checkpoint).
        snapshot_days: when to capture the grid (default: start, 1/4, 1/2 and end).
        frame_every_h: also capture animation frames at this interval (None: no frames).
        checkpointing: continue from this run's checkpoint if there is one, and save new
            ones as it goes (`checkpoint.Checkpointing`). The result is the same bit for bit.
        stop_after_h: stop as if interrupted once this many hours are simulated; for testing
            checkpoints.

    Raises:
        RunInterrupted: on Ctrl-C (a KeyboardInterrupt), saying what was kept.
    """
    start = time.perf_counter()
    readouts = PatientReadouts.for_scenario(scenario)
    days = snapshot_days if snapshot_days is not None else default_snapshot_days(scenario.days)
    problem = snapshot_days_problem(days, scenario.days)
    if problem is not None:
        raise ValueError(f"snapshot {problem}")
    snaps = SnapshotRecorder([d * 24.0 for d in days])
    frames = None
    extra: list = [snaps]
    if frame_every_h:
        frames = SnapshotRecorder(list(np.arange(0.0, scenario.days * 24.0 + 1e-9,
                                                 frame_every_h)))
        extra.append(frames)
    model = build_model(scenario, readouts, tuple(extra))
    identity = run_identity(scenario, days, frame_every_h)
    end_step = round(scenario.days * units.MINUTES_PER_DAY / model.dt_minutes)

    def on_record(n_steps: int) -> None:
        if progress is not None:
            progress(n_steps * model.dt_minutes / units.MINUTES_PER_HOUR)
        if checkpointing is not None:
            checkpointing.after_record(model, identity, end_step)
        if stop_after_h is not None and model.time_h >= stop_after_h - 1e-9:
            raise KeyboardInterrupt(f"stopped at hour {model.time_h:g}")

    try:
        resumed_h = checkpointing.resume(model, identity) if checkpointing else None
        if resumed_h and progress is not None:
            progress(resumed_h)
        if readouts.stopping is not None and readouts.stopping.stopped_day is not None:
            model.running = False  # continued from the step treatment stopped at
        # The steps left, as days that round back to exactly that many steps.
        model.run_for((end_step - model.steps) * model.dt_minutes / units.MINUTES_PER_DAY,
                      progress=on_record)
    except KeyboardInterrupt as exc:
        kept = checkpointing is not None and checkpointing.saved_h is not None
        raise RunInterrupted(model.time_h, checkpointing.path if kept else None,
                             checkpointing.saved_h if kept else None) from exc
    if not model.running and snaps.times_h[len(snaps.taken):]:
        snaps.taken.append(snaps.take(model))  # the grid where treatment stopped
    timeseries = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    summary = run_summary(scenario, model, timeseries, readouts)
    return RunResult(scenario, timeseries, summary, model, snaps, frames,
                     wall_time_s=time.perf_counter() - start, resumed_from_h=resumed_h)
