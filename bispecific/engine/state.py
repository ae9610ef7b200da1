"""The patch's state as contiguous arrays (struct of arrays), plus grids indexed by voxel.

Cells keep their slot for life: a dead cell's slot is marked dead, births append. Molecules
are compacted every step (cleared ones removed, order kept). Capacity grows geometrically, so
Python work per step is O(1) except for rare reallocations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Voxel occupancy codes.
EMPTY = 0
BLAST = 1
TCELL = 2

# Molecule states. A cleared molecule stays as a hole, skipped by the kernels, until the
# array is compacted (when holes pass a tenth of the slots).
FREE = 0
ON_BLAST = 1
ON_TCELL = 2
CLEARED = 3

# Indices into the cumulative event counters.
ENTERED = 0
N_CLEARED_EXIT = 1
N_CLEARED_INTERNALISED = 2
N_CLEARED_WITH_CELL = 3
KILLS = 4
BLAST_BIRTHS = 5
BLAST_APOPTOSES = 6
T_BIRTHS = 7
T_DEATHS = 8
SYNAPSES = 9
KILLING_SYNAPSES = 10
N_COUNTERS = 11

COUNTER_NAMES = (
    "molecules_entered",
    "molecules_cleared_exit",
    "molecules_cleared_internalised",
    "molecules_cleared_with_cell",
    "kills_total",
    "blast_births",
    "blast_apoptoses",
    "t_cell_births",
    "t_cell_deaths",
    "synapses_total",
    "killing_synapses_total",
)


# The molecule array is cut into this many chunks for parallel work. Fixed, so results do not
# depend on the number of threads.
N_CHUNKS = 256


def _grow(arr: np.ndarray, capacity: int, fill: float | int = 0) -> np.ndarray:
    out = np.full(capacity, fill, dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@dataclass
class PatchState:
    """All per-step state. Arrays are sized to a capacity; `n_*` slots are in use."""

    width: int
    height: int
    occ_kind: np.ndarray  # int8 [voxels]: EMPTY, BLAST or TCELL
    occ_idx: np.ndarray  # int32 [voxels]: slot of the cell in the voxel, -1 if empty
    # blasts
    n_blasts: int
    b_voxel: np.ndarray  # int32
    b_alive: np.ndarray  # uint8
    b_cd19: np.ndarray  # float64, CD19 copies (0 for CD19-negative)
    b_bound: np.ndarray  # int32, molecules bound (recounted each step)
    b_engaged: np.ndarray  # uint8, in a synapse
    b_pbind: np.ndarray  # float64, per-step binding probability for a molecule in its voxel
    # T cells
    n_tcells: int
    t_voxel: np.ndarray  # int32
    t_alive: np.ndarray  # uint8
    t_partner: np.ndarray  # int32, blast slot in synapse or -1
    t_timer_min: np.ndarray  # float64, minutes left in the synapse
    t_will_kill: np.ndarray  # uint8
    t_activation: np.ndarray  # float64 in [0, 1]
    t_exhaustion: np.ndarray  # float64 in [0, 1]
    t_kills: np.ndarray  # int32, kills delivered
    t_bound: np.ndarray  # int32
    t_pbind: np.ndarray  # float64
    t_desens: np.ndarray  # float64 in [0, 1], cytokine desensitisation
    # molecules: slots [0, n_molecules) in use, holes included; n_live of them not cleared
    n_molecules: int
    m_voxel: np.ndarray  # int32
    m_state: np.ndarray  # int8
    m_cell: np.ndarray  # int32, slot of the cell it is bound to
    m_release: np.ndarray  # int32, step at which a bound molecule lets go (drawn on binding)
    n_live_molecules: int
    counters: np.ndarray  # int64 [N_COUNTERS], cumulative
    stimulation: np.ndarray  # float64 [2]: this step's, and cumulative, release (synapse-min)
    events: np.ndarray  # int64 [molecule capacity]: binding events of a step, by chunk
    chunk_stats: np.ndarray  # int64 [chunks, 5]: events, free, exits, internalised, with cell
    initial_blasts: int
    initial_tcells: int

    @property
    def voxels(self) -> int:
        return self.width * self.height

    def blasts_alive_count(self) -> int:
        """Live blasts from the counters, O(1) (`blasts_alive` counts the arrays)."""
        c = self.counters
        return int(self.initial_blasts + c[BLAST_BIRTHS] - c[KILLS] - c[BLAST_APOPTOSES])

    def tcells_alive_count(self) -> int:
        c = self.counters
        return int(self.initial_tcells + c[T_BIRTHS] - c[T_DEATHS])

    def ensure_cell_capacity(self) -> None:
        """Room for every live cell to divide once in the coming step."""
        need_b = self.n_blasts + self.blasts_alive_count() + 1
        if need_b > self.b_voxel.shape[0]:
            cap = max(need_b, 2 * self.b_voxel.shape[0])
            self.b_voxel = _grow(self.b_voxel, cap, -1)
            self.b_alive = _grow(self.b_alive, cap)
            self.b_cd19 = _grow(self.b_cd19, cap)
            self.b_bound = _grow(self.b_bound, cap)
            self.b_engaged = _grow(self.b_engaged, cap)
            self.b_pbind = _grow(self.b_pbind, cap)
        need_t = self.n_tcells + self.tcells_alive_count() + 1
        if need_t > self.t_voxel.shape[0]:
            cap = max(need_t, 2 * self.t_voxel.shape[0])
            self.t_voxel = _grow(self.t_voxel, cap, -1)
            self.t_alive = _grow(self.t_alive, cap)
            self.t_partner = _grow(self.t_partner, cap, -1)
            self.t_timer_min = _grow(self.t_timer_min, cap)
            self.t_will_kill = _grow(self.t_will_kill, cap)
            self.t_activation = _grow(self.t_activation, cap)
            self.t_exhaustion = _grow(self.t_exhaustion, cap)
            self.t_kills = _grow(self.t_kills, cap)
            self.t_bound = _grow(self.t_bound, cap)
            self.t_pbind = _grow(self.t_pbind, cap)
            self.t_desens = _grow(self.t_desens, cap)

    def ensure_molecule_capacity(self, extra: int) -> None:
        need = self.n_molecules + extra
        if need > self.m_voxel.shape[0] or self.events.shape[0] < self.m_voxel.shape[0]:
            cap = max(need, 2 * self.m_voxel.shape[0])
            self.m_voxel = _grow(self.m_voxel, cap)
            self.m_state = _grow(self.m_state, cap)
            self.m_cell = _grow(self.m_cell, cap, -1)
            self.m_release = _grow(self.m_release, cap)
        if self.events.shape[0] < self.m_voxel.shape[0]:
            self.events = np.zeros(self.m_voxel.shape[0], np.int64)

    # Read-only summaries (O(agents) numpy work; called at record times, not every step).
    def blasts_alive(self) -> int:
        return int(np.count_nonzero(self.b_alive[: self.n_blasts]))

    def blasts_cd19_negative(self) -> int:
        n = self.n_blasts
        return int(np.count_nonzero(self.b_alive[:n] & (self.b_cd19[:n] <= 0.0)))

    def tcells_alive(self) -> int:
        return int(np.count_nonzero(self.t_alive[: self.n_tcells]))

    def tcells_engaged(self) -> int:
        n = self.n_tcells
        return int(np.count_nonzero(self.t_alive[:n] & (self.t_partner[:n] >= 0)))

    def molecules_in_state(self, state: int) -> int:
        """Molecules now in a state (FREE, ON_BLAST, ON_TCELL), holes excluded."""
        return int(np.count_nonzero(self.m_state[: self.n_molecules] == state))

    def counter(self, index: int) -> int:
        return int(self.counters[index])


def new_patch_state(
    rng: np.random.Generator,
    width: int,
    height: int,
    n_blasts: int,
    n_tcells: int,
    cd19_negative_fraction: float,
    cd19_median_copies: float,
    cd19_sigma_log: float,
) -> PatchState:
    """Place cells on distinct random voxels and draw each blast's CD19 (docs/model.md s.2)."""
    voxels = width * height
    if n_blasts + n_tcells > voxels:
        raise ValueError(
            f"{n_blasts} blasts and {n_tcells} T cells do not fit in {voxels} voxels")
    where = rng.choice(voxels, size=n_blasts + n_tcells, replace=False).astype(np.int32)
    occ_kind = np.zeros(voxels, np.int8)
    occ_idx = np.full(voxels, -1, np.int32)

    cap_b = max(16, 2 * n_blasts)
    b_voxel = np.full(cap_b, -1, np.int32)
    b_voxel[:n_blasts] = where[:n_blasts]
    b_alive = np.zeros(cap_b, np.uint8)
    b_alive[:n_blasts] = 1
    b_cd19 = np.zeros(cap_b)
    negative = rng.random(n_blasts) < cd19_negative_fraction
    copies = cd19_median_copies * np.exp(cd19_sigma_log * rng.standard_normal(n_blasts))
    b_cd19[:n_blasts] = np.where(negative, 0.0, copies)
    occ_kind[b_voxel[:n_blasts]] = BLAST
    occ_idx[b_voxel[:n_blasts]] = np.arange(n_blasts, dtype=np.int32)

    cap_t = max(16, 2 * n_tcells)
    t_voxel = np.full(cap_t, -1, np.int32)
    t_voxel[:n_tcells] = where[n_blasts:]
    t_alive = np.zeros(cap_t, np.uint8)
    t_alive[:n_tcells] = 1
    occ_kind[t_voxel[:n_tcells]] = TCELL
    occ_idx[t_voxel[:n_tcells]] = np.arange(n_tcells, dtype=np.int32)

    cap_m = 1024
    return PatchState(
        width=width,
        height=height,
        occ_kind=occ_kind,
        occ_idx=occ_idx,
        n_blasts=n_blasts,
        b_voxel=b_voxel,
        b_alive=b_alive,
        b_cd19=b_cd19,
        b_bound=np.zeros(cap_b, np.int32),
        b_engaged=np.zeros(cap_b, np.uint8),
        b_pbind=np.zeros(cap_b),
        n_tcells=n_tcells,
        t_voxel=t_voxel,
        t_alive=t_alive,
        t_partner=np.full(cap_t, -1, np.int32),
        t_timer_min=np.zeros(cap_t),
        t_will_kill=np.zeros(cap_t, np.uint8),
        t_activation=np.zeros(cap_t),
        t_exhaustion=np.zeros(cap_t),
        t_kills=np.zeros(cap_t, np.int32),
        t_bound=np.zeros(cap_t, np.int32),
        t_pbind=np.zeros(cap_t),
        t_desens=np.zeros(cap_t),
        n_molecules=0,
        n_live_molecules=0,
        m_voxel=np.zeros(cap_m, np.int32),
        m_state=np.zeros(cap_m, np.int8),
        m_cell=np.full(cap_m, -1, np.int32),
        m_release=np.zeros(cap_m, np.int32),
        counters=np.zeros(N_COUNTERS, np.int64),
        stimulation=np.zeros(2),
        events=np.zeros(cap_m, np.int64),
        chunk_stats=np.zeros((N_CHUNKS, 5), np.int64),
        initial_blasts=n_blasts,
        initial_tcells=n_tcells,
    )
