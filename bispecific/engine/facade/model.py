"""The Mesa model of a bone-marrow patch under blinatumomab (docs/model.md).

Mesa is the public API: `BispecificModel(..., seed= | rng=)`, `model.step()`,
`model.agents`, `model.agents_by_type[Blast | TCell | NormalCell | Molecule]`, `model.grid`
(what is where), `agent.remove()`, a `DataCollector` and `mesa.batch_run`. The state every
step touches lives in the NumPy arrays of `model.state`, advanced by Numba kernels
(`bispecific.engine.core.step.advance`); agent objects are views made on demand, and the grid is
a view of the occupancy arrays. None of them costs anything while the model runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Protocol

import mesa
import numpy as np
from mesa.agent import AgentSet

from ... import units
from ..core.parameters import ModelParameters
from ..core.state import (
    CLEARED,
    COUNTER_NAMES,
    KILLS,
    ON_BLAST,
    ON_TCELL,
    SYNAPSES,
    TRIMER,
    MoleculeRows,
    new_patch_state,
)
from ..core.step import StepConfig, advance
from .agents import AGENT_TYPES, ArrayAgent, Blast, Molecule, NormalCell, TCell
from .mesa_compat import MESA_CLOCK, catch_up_clock
from .records import StepRecords
from .space import PatchGrid

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
    """An AgentSet of views that keeps them alive (AgentSet itself holds weak references,
    and nothing else holds a view). Sets made from it by `select`, `shuffle` and `sort` are
    AgentViews too, so they keep their members however long they are kept."""

    def __init__(self, agents: Iterable[ArrayAgent], random=None,
                 model: BispecificModel | None = None) -> None:
        self._views = list(agents)
        # Mesa 3.5+ makes the sets that select, sort and groupby return as
        # type(self)(agents, random): the model is then the agents' own.
        self._model = model if model is not None or not self._views else self._views[0].model
        super().__init__(self._views, random=random)

    def to_list(self) -> list[ArrayAgent]:
        """The views in order (Mesa 3.5's `AgentSet.to_list`, on every Mesa)."""
        return list(self)

    def __getitem__(self, item: int | slice) -> ArrayAgent | list[ArrayAgent]:
        """The i-th view, or a list of them for a slice. Mesa 3.5 deprecates indexing an
        AgentSet and Mesa 4 removes it; a set of views keeps it, without a warning."""
        return list(self)[item]

    def _keep(self, result: AgentSet, inplace: bool) -> AgentSet:
        return result if inplace else AgentViews(list(result), self.random, self._model)

    def select(self, filter_func=None, at_most=float("inf"), inplace=False, agent_type=None):
        return self._keep(super().select(filter_func, at_most, inplace, agent_type), inplace)

    def shuffle(self, inplace: bool = False) -> AgentSet:
        return self._keep(super().shuffle(inplace), inplace)

    def sort(self, key, ascending: bool = False, inplace: bool = False) -> AgentSet:
        return self._keep(super().sort(key, ascending, inplace), inplace)


class _ViewsByType(Mapping):
    """`agents_by_type` for array-backed agents: each type's views are built when asked for."""

    def __init__(self, model: BispecificModel) -> None:
        self._model = model
        self._cache: dict[type, AgentViews] = {}

    def __getitem__(self, agent_type: type) -> AgentViews:
        if agent_type not in AGENT_TYPES:
            raise KeyError(agent_type)
        if agent_type not in self._cache:
            self._cache[agent_type] = AgentViews(
                [agent_type.view(self._model, i) for i in self._model._live_slots(agent_type)],
                self._model.random, self._model)
        return self._cache[agent_type]

    def __iter__(self) -> Iterator[type]:
        return iter(AGENT_TYPES)

    def __len__(self) -> int:
        return len(AGENT_TYPES)


def _plasma_function(plasma: PlasmaInput) -> Callable[[float], float]:
    if callable(plasma):
        return plasma
    value = float(plasma)
    return lambda _t_h: value


class BispecificModel(mesa.Model):
    """A 2-D marrow patch: leukaemic blasts, T cells, normal marrow cells and blinatumomab."""

    def __init__(
        self,
        width: int = 100,
        height: int = 100,
        voxel_um: float = 10.0,
        dt_minutes: float = 1.0,
        marrow_blast_fraction: float = 0.5,
        t_cell_fraction: float = 0.06,
        cd19_negative_fraction: float = 0.0,
        plasma_pg_per_ml: PlasmaInput = 0.0,
        parameters: ModelParameters | None = None,
        record_every_minutes: float = 60.0,
        parallel: bool | None = None,
        readouts: Sequence[StepReadout] = (),
        seed: int | None = None,
        rng: np.random.Generator | np.random.BitGenerator | np.random.SeedSequence
        | int | Sequence[int] | None = None,
    ) -> None:
        """Create the patch.

        Args:
            width: patch width in voxels.
            height: patch height in voxels.
            voxel_um: voxel side in um (10 um, about one lymphocyte).
            dt_minutes: time step in minutes.
            marrow_blast_fraction: blasts as a fraction of nucleated marrow cells (0-1).
            t_cell_fraction: T cells as a fraction of nucleated marrow cells (0-1), independent
                of the blasts; E:T is their ratio. The rest are normal marrow cells.
            cd19_negative_fraction: fraction of blasts without CD19 (never engaged), 0-1.
            plasma_pg_per_ml: plasma drug concentration in pg/mL, a constant or a function of
                time in hours since the start of treatment (see `bispecific.pk`).
            parameters: biological parameters; defaults and sources in `ModelParameters`.
            record_every_minutes: interval of the DataCollector's records, in minutes.
            parallel: threads for the kernels (results are identical for any number): None
                chooses by patch size, free cores and measurement, True uses threads wherever
                they pay, False one thread; NUMBA_NUM_THREADS in the environment forces a
                count (`bispecific.engine.core.threads`).
            readouts: step observers (see `StepReadout`), updated after every step; their
                reporters become DataCollector columns.
            seed: random seed; None draws one from the OS, recorded as `model.seed`.
            rng: Mesa 3's alternative to `seed` (give one or neither): an integer is the same
                as `seed`; from a NumPy Generator, BitGenerator, SeedSequence or sequence of
                integers the model draws its seed (`model.seed`, which then reproduces the
                run alone).
        """
        if seed is not None and rng is not None:
            raise ValueError("you have to pass either rng or seed, not both")
        if rng is not None and isinstance(rng, int | np.integer) and not isinstance(rng, bool):
            seed, rng = int(rng), None
        if rng is not None:  # the seed is drawn from it, so that `seed` reproduces the run
            seed = int(np.random.default_rng(rng).integers(2**63))
        elif seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        # Mesa 3.3-3.5 seed `rng` and `random` alike from an integer given as rng= or seed=;
        # seed= is deprecated from Mesa 3.4 and gone in Mesa 4 (docs/mesa4.md).
        super().__init__(rng=int(seed))
        self.seed = int(seed)
        self.params = parameters or ModelParameters()
        self.dt_minutes = float(dt_minutes)
        self.voxel_um = float(voxel_um)
        self.record_every_minutes = float(record_every_minutes)
        self.plasma = _plasma_function(plasma_pg_per_ml)
        self._steps_per_record = max(1, round(self.record_every_minutes / self.dt_minutes))

        if marrow_blast_fraction + t_cell_fraction > 1.0 + 1e-12:
            raise ValueError(
                f"marrow_blast_fraction ({marrow_blast_fraction:g}) + t_cell_fraction "
                f"({t_cell_fraction:g}) exceed 1: they are fractions of the same marrow cells")
        voxels = width * height
        cells = round(voxels * self.params.marrow_cellularity)
        n_blasts = round(cells * marrow_blast_fraction)
        n_tcells = min(round(cells * t_cell_fraction), cells - n_blasts)
        self.state = new_patch_state(
            self.rng, width, height, n_blasts, n_tcells, cells - n_blasts - n_tcells,
            cd19_negative_fraction, self.params.cd19_median_copies, self.params.cd19_sigma_log,
        )
        self.config = StepConfig.build(self.params, self.dt_minutes, self.voxel_um, voxels,
                                       t_cell_fraction, self.seed, parallel=parallel)
        self._mw = self.params.molecular_weight_da
        self.free_molecules = 0
        self.bound_molecules = 0
        self.drug_plasma_pg_per_ml = float(self.plasma(0.0))
        self._views = _ViewsByType(self)
        self._grid: PatchGrid | None = None
        # Molecules are counts on their cells; their views are rows of a table listed from
        # the counts when first asked for after a step (`molecule_rows`). A step makes a new
        # table: views made before it are stale, and molecule ids restart above every id
        # used before.
        self.molecule_epoch = 0
        self.molecule_id_base = 0
        self._molecule_rows: MoleculeRows | None = None
        self.readouts = list(readouts)
        model_reporters = self.reporters()
        for readout in self.readouts:
            model_reporters.update(readout.reporters())
        self.datacollector = StepRecords(lambda: self.steps, model_reporters=model_reporters,
                                         summary=self.summary)
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
        rows_before = int(self.state.n_live_molecules)
        result = advance(self.state, self.config, k, tissue)
        self._new_molecule_epoch(rows_before)
        self.free_molecules = result.free_molecules
        self.bound_molecules = result.bound_molecules
        self.drug_plasma_pg_per_ml = float(self.plasma(self.time_h))
        self._views = _ViewsByType(self)
        for readout in self.readouts:
            readout.update(self)
        if self.steps % self._steps_per_record == 0 or not self.running:
            self.datacollector.collect(self)  # and the step a readout stopped the run at

    def run_for(self, days: float, progress: Callable[[int], None] | None = None) -> None:
        """Run `days` of simulated time, or until a readout sets `running` to False (Mesa's
        convention: a trial's stopping rule ends treatment), recording that last step too;
        `progress(n_steps)` is called every record."""
        n = round(days * units.MINUTES_PER_DAY / self.dt_minutes)
        for i in range(n):
            if not self.running:
                break
            self.step()
            if progress is not None and (i + 1) % self._steps_per_record == 0:
                progress(self._steps_per_record)

    def _new_molecule_epoch(self, rows_before: int) -> None:
        self.molecule_epoch += 1
        self.molecule_id_base += rows_before
        self._molecule_rows = None

    def molecule_rows(self) -> MoleculeRows:
        """The bound molecules one by one since the last step (the Molecule views' rows);
        a molecule removed since is marked CLEARED in place, so the other rows stay."""
        if self._molecule_rows is None:
            self._molecule_rows = self.state.molecule_table()
        return self._molecule_rows

    def _cell_removed_from_rows(self, blast: int = -1, tcell: int = -1) -> None:
        """A cell was removed: its own molecules are cleared, its trimers stay on the
        partner (removal.py); the rows follow, if any were listed."""
        rows = self._molecule_rows
        if rows is None:
            return
        for cell, of_cell, alone, kept_by in ((blast, rows.blast, ON_BLAST, ON_TCELL),
                                              (tcell, rows.tcell, ON_TCELL, ON_BLAST)):
            if cell < 0:
                continue
            on = of_cell == cell
            rows.state[on & (rows.state == alone)] = CLEARED
            bridges = on & (rows.state == TRIMER)
            rows.state[bridges] = kept_by  # the trimer keeps its arm on the other cell
            of_cell[bridges] = -1

    def _agents_changed(self) -> None:
        """Agents were removed between steps: views made from now on see it."""
        self._views = _ViewsByType(self)

    # -- checkpoints (bispecific.simulation.checkpoint) --------------------------------------
    def state_dict(self) -> dict:
        """Everything that changes as the model runs, to continue it later bit for bit: the
        patch arrays and counts (every `PatchState` field), the model's numbers (steps
        included), Mesa's random generators, the time series so far and each readout's
        state. Values are numbers, strings, lists, dicts and NumPy arrays."""
        numbers = {k: v for k, v in vars(self).items()
                   if isinstance(v, bool | int | float) and k not in MESA_CLOCK}
        return {
            "patch": {f.name: getattr(self.state, f.name) for f in dataclasses.fields(
                self.state)},
            "numbers": numbers,
            "random": self.random.getstate(),
            "rng": self.rng.bit_generator.state,
            "records": self.datacollector.state_dict(),
            "readouts": [_readout_state(r) for r in self.readouts],
        }

    def load_state_dict(self, saved: dict) -> None:
        """Continue from `state_dict()` of a model built with the same arguments."""
        self.state = type(self.state)(**saved["patch"])
        catch_up_clock(self, int(saved["numbers"]["steps"]))
        for name, value in saved["numbers"].items():
            setattr(self, name, value)
        version, internal, gauss = saved["random"]  # lists again after JSON
        self.random.setstate((version, tuple(internal), gauss))
        self.rng.bit_generator.state = saved["rng"]
        self.datacollector.load_state_dict(saved["records"])
        for readout, state in zip(self.readouts, saved["readouts"], strict=True):
            if state is not None:
                readout.load_state_dict(state)
        self._views = _ViewsByType(self)

    # -- Mesa's agent API over the arrays -------------------------------------------------
    @property
    def grid(self) -> PatchGrid:
        """The patch's grid, read-only: what is at (x, y), and who is around it."""
        if self._grid is None:
            self._grid = PatchGrid(self)
        return self._grid

    def register_agent(self, agent: mesa.Agent) -> None:
        raise TypeError("agents of a BispecificModel live in its arrays: cells are born and "
                        "molecules bind in model.step(), not by registering agents")

    def deregister_agent(self, agent: ArrayAgent) -> None:
        """Remove the agent from the model (the same as `agent.remove()`)."""
        agent.remove()

    def remove_all_agents(self) -> None:
        """Remove every agent: bound molecules leave the patch, then every cell dies."""
        for agent_type in (Molecule, Blast, TCell, NormalCell):
            self._views[agent_type].do("remove")

    @property
    def agents_by_type(self) -> Mapping[type, AgentViews]:
        return self._views

    @property
    def agents(self) -> AgentViews:
        views: list[ArrayAgent] = []
        for agent_type in AGENT_TYPES:
            views.extend(self._views[agent_type])
        return AgentViews(views, self.random, self)

    @property
    def agent_types(self) -> list[type]:
        return list(AGENT_TYPES)

    def _live_slots(self, agent_type: type) -> np.ndarray:
        s = self.state
        if agent_type is Blast:
            return np.flatnonzero(s.b_alive[: s.n_blasts])
        if agent_type is TCell:
            return np.flatnonzero(s.t_alive[: s.n_tcells])
        if agent_type is NormalCell:
            return np.flatnonzero(s.c_alive[: s.n_normal])
        return np.flatnonzero(self.molecule_rows().state != CLEARED)

    # -- readouts -------------------------------------------------------------------------
    @property
    def step_stimulation(self) -> float:
        """Cytokine release of the last step, in synapse-minutes (docs/model.md s.5)."""
        return float(self.state.stimulation[0])

    @property
    def step_expected_synapses(self) -> float:
        """Synapses the last step's contacts were expected to form, each weighted by its T
        cell's (1 - desensitisation): the input of the expected release (s.9)."""
        return float(self.state.stimulation[2])

    @property
    def step_lethal_chances(self) -> tuple[float, int]:
        """The last step's lethal-hit decisions: their chances summed, and their number."""
        return float(self.state.stimulation[3]), int(self.state.stimulation[4])

    def counter(self, name: str) -> int:
        return int(self.state.counters[COUNTER_NAMES.index(name)])

    def summary(self) -> dict[str, object]:
        """The run's summary readouts as it stands, one value each (the DataCollector offers
        them to `mesa.batch_run`). The bare patch has none; a model built from a scenario
        (`bispecific.simulation.ScenarioModel`) gives the run summary."""
        return {}

    @staticmethod
    def reporters() -> dict[str, Callable[[BispecificModel], float]]:
        """The DataCollector's model reporters: one column of the time series each."""
        return {
            "time_h": lambda m: m.time_h,
            "blasts": lambda m: m.state.blasts_alive(),
            "blasts_cd19_negative": lambda m: m.state.blasts_cd19_negative(),
            "t_cells": lambda m: m.state.tcells_alive(),
            "t_cells_engaged": lambda m: m.state.tcells_in_synapse(),
            "normal_cells": lambda m: m.state.normal_alive(),
            "kills_total": lambda m: int(m.state.counters[KILLS]),
            "synapses_total": lambda m: int(m.state.counters[SYNAPSES]),
            "trimers": lambda m: m.state.molecules_in_state(TRIMER),
            "free_molecules": lambda m: int(m.state.free_molecules),
            "bound_molecules": lambda m: int(m.state.n_live_molecules),
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
