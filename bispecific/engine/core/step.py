"""One step of the patch, in the order of docs/model.md s.7, over the arrays of `PatchState`.

Python work here is O(1) per step (plus rare array growth); all per-agent work is in the
Numba kernels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numba
import numpy as np

from ... import units
from . import rng
from .kernels import constants as kc
from .kernels import tcells
from .kernels.blasts import apply_blast_events
from .kernels.cells import cell_events
from .kernels.molecules import (
    add_bindings,
    binding_counts,
    binding_counts_parallel,
    exchange,
    molecule_step,
    molecule_step_parallel,
)
from .kernels.normal import apply_turnover_events, normal_production
from .parameters import ModelParameters
from .state import BlastArrays, GridArrays, PatchState, TCellArrays
from .threads import ThreadPolicy

# A phase runs on the threads only when it has this much work: waking a sleeping thread
# costs 10-70 us (more on a virtual machine whose idle core must be woken by the host),
# so a pass of less than ~0.2 ms gains nothing from a second core. Counts of cell slots;
# the default of `StepConfig.min_parallel_cells`.
PARALLEL_MIN_CELLS = 100_000
# The same for the T cells' rounds, in T-cell slots: a T cell costs ~100 ns where a cell in
# the binding pass costs a few, so their rounds are worth threads from far fewer slots.
PARALLEL_MIN_TCELLS = 4_096


@dataclass(frozen=True)
class StepConfig:
    """Everything a step needs besides the state: constants, the patch, the seed, the
    thread policy and when a phase is worth threads (threads never change a result), and
    where to add up each phase's wall time if anyone asks (`phase_times`, by the names in
    `PHASES`; benchmarks/run.py)."""

    seed: int
    constants: np.ndarray
    patch_um3: float
    normal_attempts_per_step: float
    threads: ThreadPolicy = field(default_factory=lambda: ThreadPolicy(False, 0))
    min_parallel_cells: int = PARALLEL_MIN_CELLS
    min_parallel_tcells: int = PARALLEL_MIN_TCELLS
    phase_times: dict[str, float] | None = None

    @classmethod
    def build(
        cls, params: ModelParameters, dt_min: float, voxel_um: float, voxels: int,
        t_cell_fraction: float, seed: int, parallel: bool | None = None,
    ) -> StepConfig:
        return cls(
            seed=int(seed),
            constants=kc.kernel_constants(params, dt_min, voxel_um),
            patch_um3=voxels * voxel_um**3,
            normal_attempts_per_step=normal_attempts_per_step(
                params, dt_min, voxels, t_cell_fraction),
            threads=ThreadPolicy(parallel, voxels),
        )


def normal_attempts_per_step(p: ModelParameters, dt_min: float, voxels: int,
                             t_cell_fraction: float) -> float:
    """Mean new normal cells attempted per step (docs/model.md s.6): the production that
    keeps a leukaemia-free marrow of this cellularity at its composition."""
    healthy = voxels * p.marrow_cellularity * (1.0 - t_cell_fraction)
    space = max(1.0 - p.marrow_cellularity, 1e-9)
    per_day = p.normal_turnover_per_day * healthy / space
    # A fully cellular marrow (cellularity -> 1) asks for unbounded production into no
    # space; past 20 attempts per voxel every empty voxel is hit (miss chance e^-20), so the
    # cap changes no outcome and keeps the arrays finite.
    return min(units.per_day_to_per_min(per_day) * dt_min, MAX_ATTEMPTS_PER_VOXEL * voxels)


MAX_ATTEMPTS_PER_VOXEL = 20.0


@dataclass
class StepResult:
    free_molecules: int
    bound_molecules: int


def advance(
    s: PatchState, cfg: StepConfig, step: int, tissue_molecules_per_um3: float
) -> StepResult:
    """Advance the patch by one step; `tissue_molecules_per_um3` is the concentration in
    equilibrium with plasma at the middle of the step (partition already applied).

    The step runs on the number of threads `cfg.threads` chooses, and reports its wall time
    back to it; the result is the same for any number.
    """
    start = time.perf_counter()
    threads = cfg.threads.threads()
    parallel = threads > 1
    if parallel and numba.get_num_threads() != threads:
        numba.set_num_threads(threads)
    result = _advance(s, cfg, step, tissue_molecules_per_um3, parallel)
    cfg.threads.record(threads, time.perf_counter() - start)
    return result


@dataclass(slots=True)
class _Step:
    """What the phases of one step share: its random key, whether it runs on threads, the
    tissue's concentration in equilibrium with plasma, the receptors' per-step chances at
    the pool's concentration, and what earlier phases left for later ones."""

    key: np.uint64
    parallel: bool
    tissue_molecules_per_um3: float
    bind_blast: float
    release_blast: float
    bind_tcell: float
    release_tcell: float
    grid: GridArrays
    blasts: BlastArrays
    tcells: TCellArrays  # the arrays by name, made once a step (capacity is set before)
    n_blasts_before: int = 0  # slots before this step's divisions (their draws are done)
    n_b_events: int = 0  # blasts and normal cells acting this step (cells.cell_events)
    n_c_events: int = 0
    new: int = 0  # molecules bound from the pool this step


def _set_up(s: PatchState, cfg: StepConfig, step: int, tissue_molecules_per_um3: float,
            parallel: bool) -> _Step:
    c = cfg.constants
    on_dt = c[kc.KON_DT_UM3] * s.free_molecules / cfg.patch_um3
    bind_blast, release_blast = kc.receptor_step(on_dt, c[kc.BLAST_OFF_DT])
    bind_tcell, release_tcell = kc.receptor_step(on_dt, c[kc.TCELL_OFF_DT])
    s.ensure_cell_capacity(extra_normal=int(4 * cfg.normal_attempts_per_step + 64))
    return _Step(np.uint64(rng.step_key(cfg.seed, step)), parallel, tissue_molecules_per_um3,
                 bind_blast, release_blast, bind_tcell, release_tcell, *s.kernel_arrays())


def _t_cells(s: PatchState, cfg: StepConfig, st: _Step, step: int) -> None:
    """1. T cells, in two rounds with no order among them (`kernels/tcells.py`): propose on
    the step's starting patch, claim, settle, finish."""
    advance_tcells = (tcells.tcell_step_parallel if _tcells_threaded(s, cfg, st)
                      else tcells.tcell_step)
    s.n_tcells = advance_tcells(st.key, cfg.constants, st.grid, st.blasts, s.n_tcells,
                                st.tcells, s.tcell_rounds(), s.counters, s.stimulation)


def _cell_draws(s: PatchState, cfg: StepConfig, st: _Step, step: int) -> None:
    """2-3, first half: the blasts and normal cells whose event falls on this step, popped
    from the heap of their waits (`kernels/cells.py`); the cells made since the last step
    draw their waits and join it."""
    queue = s.cell_queue(cfg.constants, _WAIT_CHANCES)
    new_b, new_c = s.n_blasts - queue.b_upto, s.n_normal - queue.c_upto
    queue.reserve(new_b + new_c + s.blasts_alive_count())
    cell_events(st.key, cfg.constants, step, queue.heap, queue.n, s.n_blasts, queue.b_upto,
                s.b_alive, s.b_due, s.b_events, s.n_normal, queue.c_upto, s.c_alive, s.c_due,
                s.c_events, queue.out)
    queue.n, st.n_b_events, st.n_c_events = queue.out.tolist()
    queue.b_upto, queue.c_upto = s.n_blasts, s.n_normal


# The per-step chances the cells' waits are drawn with (kernels/cells.py).
_WAIT_CHANCES = [kc.P_APOPTOSIS, kc.P_DIVIDE, kc.P_NORMAL_TURNOVER]


def _cells_acting(s: PatchState, cfg: StepConfig, st: _Step, step: int) -> None:
    """2-3, second half: the few blasts and normal cells that die or divide, in slot order."""
    st.n_blasts_before = s.n_blasts
    s.n_blasts = apply_blast_events(
        st.key, st.grid, st.n_blasts_before, st.blasts, s.c_alive, s.b_events, st.n_b_events,
        s.counters)
    apply_turnover_events(s.occ_kind, s.occ_idx, s.c_voxel, s.c_alive, s.c_events,
                          st.n_c_events, s.counters)


def _molecules(s: PatchState, cfg: StepConfig, st: _Step, step: int) -> None:
    """4. The bound molecules: cleared with dead cells and released (in fixed blocks of
    cells, on threads for a large patch), then bridged and let go. The blasts are walked
    through their list (`state.BlastList`), which drops the dead ones only after this phase
    has cleared them."""
    blast_list = s.blast_list()
    b_slots, n_listed = blast_list.extend(s.n_blasts)
    threaded = _binding_threaded(s, cfg, st) or _tcells_threaded(s, cfg, st)
    step_molecules = molecule_step_parallel if threaded else molecule_step
    unbound, cleared = step_molecules(
        st.key, cfg.constants, st.release_blast, st.release_tcell, b_slots, n_listed,
        s.n_blasts, st.blasts, s.tcell_slots(), s.n_tcells, st.tcells,
        s.release_block_counts(), s.pair_block_counts(), s.counters)
    s.n_live_molecules -= unbound + cleared
    s.free_molecules += unbound
    blast_list.drop_dead(s.b_alive, s.blasts_alive_count())


def _binding_counts(s: PatchState, cfg: StepConfig, st: _Step, step: int) -> None:
    """6, first half: the molecules each cell binds from the pool."""
    count = binding_counts_parallel if _binding_threaded(s, cfg, st) else binding_counts
    b_slots, n_listed = s.blast_list().extend(s.n_blasts)
    st.new = count(st.key, cfg.constants, s.free_molecules, st.bind_blast, st.bind_tcell,
                   s.n_blasts, b_slots, n_listed, s.b_alive, s.b_cd19, s.b_bound, s.n_tcells,
                   s.t_alive, s.t_bound, s.new_bindings, s.bind_block_totals)


def _binding_append(s: PatchState, cfg: StepConfig, st: _Step, step: int) -> None:
    """6, second half: this step's bound molecules added to their cells."""
    b_slots, n_listed = s.blast_list().extend(s.n_blasts)
    add_bindings(s.n_blasts, b_slots, n_listed, s.n_tcells, s.new_bindings, s.b_bound,
                 s.t_bound)


def _tcells_threaded(s: PatchState, cfg: StepConfig, st: _Step) -> bool:
    return st.parallel and s.n_tcells >= cfg.min_parallel_tcells


def _binding_threaded(s: PatchState, cfg: StepConfig, st: _Step) -> bool:
    return st.parallel and s.n_blasts + s.n_tcells >= cfg.min_parallel_cells


def _pool_and_production(s: PatchState, cfg: StepConfig, st: _Step, step: int) -> None:
    """6, the pool's exit and entry; 7. normal cell production."""
    c = cfg.constants
    entry_mean = c[kc.P_EXIT] * st.tissue_molecules_per_um3 * cfg.patch_um3
    s.free_molecules = exchange(st.key, c, entry_mean, s.free_molecules, st.new, s.counters)
    s.n_live_molecules += st.new
    s.n_normal = normal_production(
        st.key, cfg.normal_attempts_per_step, s.voxels, s.occ_kind, s.occ_idx, s.n_normal,
        s.c_voxel, s.c_alive, s.counters)


# The step's phases, in the order of docs/model.md s.7, by the names that `phase_times`
# reports. Each is a function of (state, config, the step's shared values, step number).
PHASES = (
    ("T cells", _t_cells),
    ("cell draws", _cell_draws),
    ("cells acting", _cells_acting),
    ("molecules", _molecules),
    ("binding counts", _binding_counts),
    ("binding append", _binding_append),
    ("pool and production", _pool_and_production),
)


def _advance(s: PatchState, cfg: StepConfig, step: int, tissue_molecules_per_um3: float,
             parallel: bool) -> StepResult:
    times = cfg.phase_times
    if times is None:
        st = _set_up(s, cfg, step, tissue_molecules_per_um3, parallel)
        for _name, phase in PHASES:
            phase(s, cfg, st, step)
    else:
        clock = time.perf_counter()
        st = _set_up(s, cfg, step, tissue_molecules_per_um3, parallel)
        clock = _lap(times, "set-up", clock)
        for name, phase in PHASES:
            phase(s, cfg, st, step)
            clock = _lap(times, name, clock)
    return StepResult(free_molecules=int(s.free_molecules),
                      bound_molecules=int(s.n_live_molecules))


def _lap(times: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    times[name] = times.get(name, 0.0) + now - since
    return now
