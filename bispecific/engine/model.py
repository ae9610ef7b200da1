"""The Mesa model of a bone-marrow patch under blinatumomab (docs/model.md).

Mesa is the public API: `BispecificModel(..., seed=)`, `model.step()`,
`model.agents_by_type[Blast | TCell | Molecule]` and a `DataCollector`. The state every step
touches lives in the NumPy arrays of `model.state`, advanced by Numba kernels
(`bispecific.step.advance`); agent objects are views made on demand.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

import mesa
import numpy as np
from mesa.agent import AgentSet

from .. import units
from .agents import ArrayAgent, Blast, Molecule, TCell
from .parameters import ModelParameters
from .state import (
    CLEARED,
    COUNTER_NAMES,
    FREE,
    KILLS,
    ON_BLAST,
    ON_TCELL,
    SYNAPSES,
    new_patch_state,
)
from .step import StepConfig, advance

PlasmaInput = Callable[[float], float] | float


class StepReadout(Protocol):
    """Something computed from the patch as it runs (e.g. plasma cytokines).

    The model calls `start` once it is built, `update` after every step, and adds
    `reporters()` to its DataCollector; readouts live in higher layers, which the model never
    imports. A readout that keeps state between steps also offers `state_dict()` (numbers,
    lists, dicts and arrays) and `load_state_dict(d)`, so that a run can be checkpointed and
    continued (`BispecificModel.state_dict`).
    """

    def start(self, model: BispecificModel) -> None: ...

    def update(self, model: BispecificModel) -> None: ...

    def reporters(self) -> dict[str, Callable[[BispecificModel], float]]: ...


class AgentViews(AgentSet):
    """An AgentSet of views that keeps them alive (AgentSet itself holds weak references)."""

    def __init__(self, agents: list[ArrayAgent], random) -> None:
        self._views = agents
        super().__init__(agents, random=random)


class _ViewsByType(Mapping):
    """`agents_by_type` for array-backed agents: each type's views are built when asked for."""

    def __init__(self, model: BispecificModel) -> None:
        self._model = model
        self._cache: dict[type, AgentViews] = {}

    def __getitem__(self, agent_type: type) -> AgentViews:
        if agent_type not in (Blast, TCell, Molecule):
            raise KeyError(agent_type)
        if agent_type not in self._cache:
            self._cache[agent_type] = AgentViews(
                [agent_type.view(self._model, i) for i in self._model._live_slots(agent_type)],
                random=self._model.random,
            )
        return self._cache[agent_type]

    def __iter__(self) -> Iterator[type]:
        return iter((Blast, TCell, Molecule))

    def __len__(self) -> int:
        return 3


def _plasma_function(plasma: PlasmaInput) -> Callable[[float], float]:
    if callable(plasma):
        return plasma
    value = float(plasma)
    return lambda _t_h: value


class BispecificModel(mesa.Model):
    """A 2-D marrow patch with leukaemic blasts, T cells and blinatumomab molecules."""

    def __init__(
        self,
        width: int = 100,
        height: int = 100,
        voxel_um: float = 10.0,
        dt_minutes: float = 1.0,
        marrow_blast_fraction: float = 0.5,
        t_cells_per_blast: float = 0.1,
        cd19_negative_fraction: float = 0.002,
        plasma_pg_per_ml: PlasmaInput = 0.0,
        parameters: ModelParameters | None = None,
        record_every_minutes: float = 60.0,
        parallel: bool = False,
        readouts: Sequence[StepReadout] = (),
        seed: int | None = None,
    ) -> None:
        """Create the patch.

        Args:
            width: patch width in voxels.
            height: patch height in voxels.
            voxel_um: voxel side in um (10 um, about one lymphocyte).
            dt_minutes: time step in minutes.
            marrow_blast_fraction: fraction of marrow cells that are blasts (0-1).
            t_cells_per_blast: T cells per blast at the start (effector:target ratio).
            cd19_negative_fraction: fraction of blasts without CD19 (never engaged), 0-1.
            plasma_pg_per_ml: plasma drug concentration in pg/mL, a constant or a function of
                time in hours since the start of treatment (see `bispecific.pk`).
            parameters: biological parameters; defaults and sources in `ModelParameters`.
            record_every_minutes: interval of the DataCollector's records, in minutes.
            parallel: run the molecule kernel on all cores (results are identical).
            readouts: step observers (see `StepReadout`), updated after every step; their
                reporters become DataCollector columns.
            seed: random seed; None draws one from the OS, recorded as `model.seed`.
        """
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        super().__init__(seed=seed)
        self.seed = int(seed)
        self.params = parameters or ModelParameters()
        self.dt_minutes = float(dt_minutes)
        self.voxel_um = float(voxel_um)
        self.record_every_minutes = float(record_every_minutes)
        self.plasma = _plasma_function(plasma_pg_per_ml)
        self._steps_per_record = max(1, round(self.record_every_minutes / self.dt_minutes))

        voxels = width * height
        n_blasts = round(voxels * self.params.marrow_cellularity * marrow_blast_fraction)
        n_tcells = round(n_blasts * t_cells_per_blast)
        self.state = new_patch_state(
            self.rng, width, height, n_blasts, n_tcells, cd19_negative_fraction,
            self.params.cd19_median_copies, self.params.cd19_sigma_log,
        )
        self.config = StepConfig.build(self.params, self.dt_minutes, self.voxel_um,
                                       self.seed, parallel=parallel)
        self._mw = self.params.molecular_weight_da
        self.free_molecules = 0
        self.bound_molecules = 0
        self.drug_plasma_pg_per_ml = float(self.plasma(0.0))
        self._views = _ViewsByType(self)
        self.readouts = list(readouts)
        model_reporters = self.reporters()
        for readout in self.readouts:
            model_reporters.update(readout.reporters())
        self.datacollector = mesa.DataCollector(model_reporters=model_reporters)
        for readout in self.readouts:
            readout.start(self)
        self.datacollector.collect(self)

    # -- time -----------------------------------------------------------------------------
    @property
    def time_minutes(self) -> float:
        return self.steps * self.dt_minutes

    @property
    def time_h(self) -> float:
        return self.time_minutes / units.MINUTES_PER_HOUR

    # -- the step -------------------------------------------------------------------------
    def step(self) -> None:
        """Advance by `dt_minutes` (Mesa has already incremented `self.steps`)."""
        k = self.steps - 1
        t_mid_h = (k + 0.5) * self.dt_minutes / units.MINUTES_PER_HOUR
        plasma = float(self.plasma(t_mid_h))
        tissue = self.params.tissue_plasma_partition * units.pg_per_ml_to_molecules_per_um3(
            plasma, self._mw)
        result = advance(self.state, self.config, k, tissue)
        self.free_molecules = result.free_molecules
        self.bound_molecules = result.bound_molecules
        self.drug_plasma_pg_per_ml = float(self.plasma(self.time_h))
        self._views = _ViewsByType(self)
        for readout in self.readouts:
            readout.update(self)
        if self.steps % self._steps_per_record == 0:
            self.datacollector.collect(self)

    def run_for(self, days: float, progress: Callable[[int], None] | None = None) -> None:
        """Run `days` of simulated time; `progress(n_steps)` is called every record."""
        n = round(days * units.MINUTES_PER_DAY / self.dt_minutes)
        for i in range(n):
            self.step()
            if progress is not None and (i + 1) % self._steps_per_record == 0:
                progress(self._steps_per_record)

    # -- checkpoints (bispecific.simulation.checkpoint) --------------------------------------
    def state_dict(self) -> dict:
        """Everything that changes as the model runs, to continue it later bit for bit: the
        patch arrays and counts (every `PatchState` field), the model's numbers (steps
        included), Mesa's random generators, the time series so far and each readout's
        state. Values are numbers, strings, lists, dicts and NumPy arrays."""
        numbers = {k: v for k, v in vars(self).items() if isinstance(v, bool | int | float)}
        return {
            "patch": {f.name: getattr(self.state, f.name) for f in dataclasses.fields(
                self.state)},
            "numbers": numbers,
            "random": self.random.getstate(),
            "rng": self.rng.bit_generator.state,
            "records": {k: list(v) for k, v in self.datacollector.model_vars.items()},
            "readouts": [_readout_state(r) for r in self.readouts],
        }

    def load_state_dict(self, saved: dict) -> None:
        """Continue from `state_dict()` of a model built with the same arguments."""
        self.state = type(self.state)(**saved["patch"])
        for name, value in saved["numbers"].items():
            setattr(self, name, value)
        version, internal, gauss = saved["random"]  # lists again after JSON
        self.random.setstate((version, tuple(internal), gauss))
        self.rng.bit_generator.state = saved["rng"]
        self.datacollector.model_vars = {k: list(v) for k, v in saved["records"].items()}
        for readout, state in zip(self.readouts, saved["readouts"], strict=True):
            if state is not None:
                readout.load_state_dict(state)
        self._views = _ViewsByType(self)

    # -- Mesa's agent API over the arrays -------------------------------------------------
    @property
    def agents_by_type(self) -> Mapping[type, AgentViews]:
        return self._views

    @property
    def agents(self) -> AgentViews:
        views: list[ArrayAgent] = []
        for agent_type in (Blast, TCell, Molecule):
            views.extend(self._views[agent_type])
        return AgentViews(views, random=self.random)

    @property
    def agent_types(self) -> list[type]:
        return [Blast, TCell, Molecule]

    def _live_slots(self, agent_type: type) -> np.ndarray:
        s = self.state
        if agent_type is Blast:
            return np.flatnonzero(s.b_alive[: s.n_blasts])
        if agent_type is TCell:
            return np.flatnonzero(s.t_alive[: s.n_tcells])
        return np.flatnonzero(s.m_state[: s.n_molecules] != CLEARED)

    # -- readouts -------------------------------------------------------------------------
    @property
    def step_stimulation(self) -> float:
        """Cytokine release of the last step, in killing-synapse-minutes (docs/model.md s.5)."""
        return float(self.state.stimulation[0])

    def counter(self, name: str) -> int:
        return int(self.state.counters[COUNTER_NAMES.index(name)])

    @staticmethod
    def reporters() -> dict[str, Callable[[BispecificModel], float]]:
        """The DataCollector's model reporters: one column of the time series each."""
        return {
            "time_h": lambda m: m.time_h,
            "blasts": lambda m: m.state.blasts_alive(),
            "blasts_cd19_negative": lambda m: m.state.blasts_cd19_negative(),
            "t_cells": lambda m: m.state.tcells_alive(),
            "t_cells_engaged": lambda m: m.state.tcells_engaged(),
            "kills_total": lambda m: int(m.state.counters[KILLS]),
            "synapses_total": lambda m: int(m.state.counters[SYNAPSES]),
            "free_molecules": lambda m: m.state.molecules_in_state(FREE),
            "bound_molecules": lambda m: m.state.molecules_in_state(ON_BLAST)
            + m.state.molecules_in_state(ON_TCELL),
            "drug_plasma_pg_per_ml": lambda m: m.drug_plasma_pg_per_ml,
            "mean_t_cell_exhaustion": lambda m: _mean_alive(
                m.state.t_exhaustion, m.state.t_alive, m.state.n_tcells),
        }


def _readout_state(readout: StepReadout) -> dict | None:
    """A readout's state; None for one that keeps none (it offers no state_dict)."""
    state_dict = getattr(readout, "state_dict", None)
    return None if state_dict is None else state_dict()


def _mean_alive(values: np.ndarray, alive: np.ndarray, n: int) -> float:
    mask = alive[:n] == 1
    return float(values[:n][mask].mean()) if mask.any() else 0.0
