"""The patch's state as contiguous arrays (struct of arrays), plus grids indexed by voxel.

Cells keep their slot for life: a dead cell's slot is marked dead, births append. Bound
molecules are counts on the cells that hold them (`b_bound`, `b_trimers`, `t_bound`,
`t_trimers`): a cell's single-arm molecules are exchangeable (docs/model.md s.3.2), so the
kernels need no molecule by molecule; `molecule_table` lists them one by one for the Mesa
views. Free drug is a well-mixed pool, one count (docs/model.md s.3.1). Capacity grows
geometrically, so Python work per step is O(1) except for rare reallocations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit

# Voxel occupancy codes.
EMPTY = 0
BLAST = 1
TCELL = 2
NORMAL = 3

# Bound-molecule states (of the rows of `molecule_table`).
ON_BLAST = 1  # CD19 arm on a blast
ON_TCELL = 2  # CD3 arm on a T cell
TRIMER = 3  # bridging a blast and a T cell
CLEARED = 4

# T-cell engagement.
SCANNING = 0
CONTACT = 1
LYTIC = 2  # synapse before the lethal-hit decision
FAILED = 3  # synapse after a failed hit, until it detaches
ENGAGEMENT_NAMES = ("scanning", "contact", "lytic synapse", "failed synapse")

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
CONTACTS = 10
NORMAL_BIRTHS = 11
NORMAL_DEATHS = 12
BINDINGS = 13
UNBINDINGS = 14
TRIMERS_FORMED = 15
N_COUNTERS = 16

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
    "contacts_total",
    "normal_births",
    "normal_deaths",
    "bindings_total",
    "unbindings_total",
    "trimers_formed_total",
)

# Cells per block of binding (kernels/molecules.py); fixed for the same reason.
BIND_BLOCK = 4096
# T-cell slots per block of the T cells' rounds (kernels/tcells.py); fixed, so that a
# block's tallies, and their sum, do not depend on the threads.
TCELL_BLOCK = 256
# A blast or voxel nobody claims (kernels/tcells.py): above every claim.
CLAIM_NONE = np.iinfo(np.int64).max


@dataclass
class MoleculeRows:
    """The bound molecules one by one (`PatchState.molecule_table`): state, blast slot and
    T-cell slot of each, -1 for no cell."""

    state: np.ndarray
    blast: np.ndarray
    tcell: np.ndarray


class GridArrays(NamedTuple):
    """The voxels, as the kernels take them: the patch's size, and the kind and slot of the
    cell in each voxel (`PatchState.grid_arrays`)."""

    width: int
    height: int
    kind: np.ndarray
    idx: np.ndarray


class BlastArrays(NamedTuple):
    """The blasts' arrays by name (`PatchState.blast_arrays`): a kernel takes them as one
    argument, so two of the same dtype cannot be swapped at a call."""

    voxel: np.ndarray
    alive: np.ndarray
    cd19: np.ndarray
    bound: np.ndarray
    trimers: np.ndarray
    partner: np.ndarray


class TCellArrays(NamedTuple):
    """The T cells' arrays by name (`PatchState.tcell_arrays`)."""

    voxel: np.ndarray
    alive: np.ndarray
    engaged: np.ndarray
    partner: np.ndarray
    timer_min: np.ndarray
    activation: np.ndarray
    exhaustion: np.ndarray
    desens: np.ndarray
    kills: np.ndarray
    bound: np.ndarray
    trimers: np.ndarray
    bridge_blast: np.ndarray
    bridge_tcell: np.ndarray
    last_partner: np.ndarray
    last_trimers: np.ndarray


class TCellRounds(NamedTuple):
    """Scratch of the T cells' two rounds (kernels/tcells.py), not state: between steps
    every claim is `CLAIM_NONE` and every proposal -1, so it can be made anew at will."""

    claim: np.ndarray  # int64 per T-cell slot: its claim key this step
    blast: np.ndarray  # int32 per T-cell slot: the blast it claims, or -1
    voxel: np.ndarray  # int32 per T-cell slot: the voxel its walk ends on, or -1
    daughter: np.ndarray  # int32 per T-cell slot: its daughter's voxel, or -1
    let_go: np.ndarray  # int32 per T-cell slot: the partner it lets go of (or kills), or -1
    flags: np.ndarray  # uint8 per T-cell slot: tcells.KILLED | DIES | DAUGHTER_WON
    blast_claims: np.ndarray  # int64 per blast slot: the lowest claim on it
    voxel_claims: np.ndarray  # int64 per voxel: the lowest claim on it
    tallies: np.ndarray  # float64 [blocks, 8]: each block's sums (tcells.RELEASED, ...)

    @classmethod
    def sized(cls, tcell_slots: int, blast_slots: int, voxels: int) -> TCellRounds:
        def none(n: int) -> np.ndarray:
            return np.full(n, -1, np.int32)

        return cls(np.zeros(tcell_slots, np.int64), none(tcell_slots), none(tcell_slots),
                   none(tcell_slots), none(tcell_slots), np.zeros(tcell_slots, np.uint8),
                   np.full(blast_slots, CLAIM_NONE, np.int64),
                   np.full(voxels, CLAIM_NONE, np.int64),
                   np.zeros((-(-tcell_slots // TCELL_BLOCK), 8)))


class CellQueue:
    """The heap of the cells' next events (`kernels/cells.py`) and how far through the slots
    it has been filled (`b_upto`, `c_upto`), with the per-step chances the waits in it were
    drawn with. Not state: it is made again from `b_due` / `c_due` at will, so checkpoints
    and equality ignore it (`PatchState.cell_queue`)."""

    __slots__ = ("heap", "n", "b_upto", "c_upto", "out", "constants")

    def __init__(self, constants: np.ndarray) -> None:
        self.heap = np.zeros(1024, np.int64)
        self.n = 0
        self.b_upto = 0  # slots below these are in the heap (or dead)
        self.c_upto = 0
        self.out = np.zeros(3, np.int64)  # the kernel's (heap size, blast and normal events)
        self.constants = constants

    def reserve(self, extra: int) -> None:
        """Room for `extra` more entries."""
        if self.n + extra > self.heap.shape[0]:
            grown = np.zeros(max(2 * self.heap.shape[0], self.n + extra), np.int64)
            grown[: self.n] = self.heap[: self.n]
            self.heap = grown


class BlastList:
    """The blast slots the molecule and binding passes walk: ascending, and holding every
    slot whose blast may hold a molecule. Slots are never reused and a new blast always
    takes a new slot at the end, so the list is kept complete by appending the slots made
    since it was last extended; it drops dead slots only right after the molecule phase,
    when a dead blast's molecules have all been cleared or handed over, and only when dead
    ones are more than half of it (amortised O(1) a step). A dead slot left off holds
    nothing, so the passes' draws are those of a walk over every slot. Not state: made
    again from every slot at will (`PatchState.blast_list`)."""

    __slots__ = ("slots", "n", "upto")

    def __init__(self) -> None:
        self.slots = np.zeros(64, np.int32)
        self.n = 0  # entries in use
        self.upto = 0  # the slot count when the list was last extended

    def extend(self, n_slots: int) -> tuple[np.ndarray, int]:
        """The list with the slots made since the last call appended."""
        new = n_slots - self.upto
        if new > 0:
            if self.n + new > self.slots.shape[0]:
                self.slots = _grow(self.slots, 2 * (self.n + new))
            self.slots[self.n: self.n + new] = np.arange(self.upto, n_slots, dtype=np.int32)
            self.n += new
            self.upto = n_slots
        return self.slots, self.n

    def drop_dead(self, alive: np.ndarray, live: int) -> None:
        """After the molecule phase: rebuild from the alive flags if most entries are dead."""
        if self.n > 2 * live + 64:
            found = np.flatnonzero(alive[: self.upto]).astype(np.int32)
            if found.shape[0] > self.slots.shape[0]:
                self.slots = np.zeros(2 * found.shape[0] + 128, np.int32)
            self.slots[: found.shape[0]] = found
            self.n = found.shape[0]


@njit(cache=True)
def _count_cd19_positive(alive: np.ndarray, cd19: np.ndarray, n: int) -> int:
    count = 0
    for b in range(n):
        if alive[b] == 1 and cd19[b] > 0.0:
            count += 1
    return count


def _grow(arr: np.ndarray, capacity: int, fill: float | int = 0) -> np.ndarray:
    out = np.full(capacity, fill, dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@dataclass
class PatchState:
    """All per-step state. Arrays are sized to a capacity; `n_*` slots are in use."""

    width: int
    height: int
    occ_kind: np.ndarray  # int8 [voxels]: EMPTY, BLAST, TCELL or NORMAL
    occ_idx: np.ndarray  # int32 [voxels]: slot of the cell in the voxel, -1 if empty
    # blasts
    n_blasts: int
    b_voxel: np.ndarray  # int32
    b_alive: np.ndarray  # uint8
    b_cd19: np.ndarray  # float64, CD19 copies (0 for CD19-negative)
    b_bound: np.ndarray  # int32, molecules holding it by CD19 (single arm and trimers)
    b_trimers: np.ndarray  # int32, trimers among them
    b_partner: np.ndarray  # int32, T cell engaged with it, or -1
    # T cells
    n_tcells: int
    t_voxel: np.ndarray  # int32
    t_alive: np.ndarray  # uint8
    t_engaged: np.ndarray  # int8: SCANNING, CONTACT, LYTIC or FAILED
    t_partner: np.ndarray  # int32, blast slot engaged, or -1
    t_timer_min: np.ndarray  # float64, minutes left in the current synapse phase
    t_activation: np.ndarray  # float64 in [0, 1]
    t_exhaustion: np.ndarray  # float64 in [0, 1]
    t_desens: np.ndarray  # float64 in [0, 1], cytokine desensitisation
    t_kills: np.ndarray  # int32, kills delivered
    t_bound: np.ndarray  # int32, molecules holding it by CD3 (single arm and trimers)
    t_trimers: np.ndarray  # int32, trimers among them (all with its partner)
    t_bridge_blast: np.ndarray  # float64, this step's chance that a molecule on the partner
    #   blast becomes a trimer (docs/model.md s.3.3)
    t_bridge_tcell: np.ndarray  # float64, same for a molecule on the T cell
    t_last_partner: np.ndarray  # int32, the partner at the end of the last molecule phase
    #   (the blast of its trimers then), or -1
    t_last_trimers: np.ndarray  # int32, its trimers at the end of the last molecule phase
    # normal marrow cells
    n_normal: int
    c_voxel: np.ndarray  # int32
    c_alive: np.ndarray  # uint8
    # bound molecules: their count (on the cells above); free ones are the pool
    n_live_molecules: int
    free_molecules: int
    counters: np.ndarray  # int64 [N_COUNTERS], cumulative
    stimulation: np.ndarray  # float64 [5]: release this step, its total, and its expectation's
    #   inputs (kernels/tcells.py)
    new_bindings: np.ndarray  # int64 [cells]: molecules each cell binds from the pool
    initial_blasts: int
    initial_tcells: int
    initial_normal: int
    # Scratch of the step's parallel passes (their sizes follow the capacities above).
    b_events: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # blasts
    #   that die or divide this step, in slot order (kernels/cells.py)
    c_events: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # normal
    #   cells that leave this step
    bind_block_totals: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # State again, not scratch (checkpoints hold it): each cell's next event, drawn as a
    # waiting time (kernels/cells.py; -1: not drawn yet, as is every slot not yet used): a
    # blast's step x 2 + kind, a normal cell's step. Sized to the capacities by
    # `ensure_cell_capacity` (fields with defaults come last, hence here).
    b_due: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    c_due: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    due_chances: np.ndarray = field(default_factory=lambda: np.zeros(3))  # the per-step
    #   chances (apoptosis, division, turnover) the waits were drawn with

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

    def normal_alive_count(self) -> int:
        c = self.counters
        return int(self.initial_normal + c[NORMAL_BIRTHS] - c[NORMAL_DEATHS])

    def grid_arrays(self) -> GridArrays:
        return GridArrays(self.width, self.height, self.occ_kind, self.occ_idx)

    def blast_arrays(self) -> BlastArrays:
        """The blasts' arrays as they are now (a reallocation makes new ones)."""
        return BlastArrays(self.b_voxel, self.b_alive, self.b_cd19, self.b_bound,
                           self.b_trimers, self.b_partner)

    def tcell_arrays(self) -> TCellArrays:
        """The T cells' arrays as they are now (a reallocation makes new ones)."""
        return TCellArrays(self.t_voxel, self.t_alive, self.t_engaged, self.t_partner,
                           self.t_timer_min, self.t_activation, self.t_exhaustion,
                           self.t_desens, self.t_kills, self.t_bound, self.t_trimers,
                           self.t_bridge_blast, self.t_bridge_tcell, self.t_last_partner,
                           self.t_last_trimers)

    def kernel_arrays(self) -> tuple[GridArrays, BlastArrays, TCellArrays]:
        """The three bundles at once, kept from step to step: they are made again only after
        `ensure_cell_capacity` reallocates (building them every step cost a few us, 5-10% of
        a 64^2 step). Not a dataclass field, so checkpoints and equality ignore it."""
        bundles = self.__dict__.get("_kernel_arrays")
        if bundles is None:
            bundles = (self.grid_arrays(), self.blast_arrays(), self.tcell_arrays())
            self.__dict__["_kernel_arrays"] = bundles
        return bundles

    def tcell_rounds(self) -> TCellRounds:
        """The T cells' scratch (`TCellRounds`), kept beside the state and made anew when
        the capacities grow (it is all cleared between steps, so nothing is carried)."""
        found = self.__dict__.get("_tcell_rounds")
        if (found is None or found.claim.shape[0] < self.t_voxel.shape[0]
                or found.blast_claims.shape[0] < self.b_voxel.shape[0]):
            found = self.__dict__["_tcell_rounds"] = TCellRounds.sized(
                self.t_voxel.shape[0], self.b_voxel.shape[0], self.voxels)
        return found

    def release_block_counts(self) -> np.ndarray:
        """Scratch of the molecules' release pass (kernels/molecules.py `release`): per
        binding block, (cleared with a cell, internalised, unbound); kept beside the state,
        sized like `bind_block_totals`."""
        found = self.__dict__.get("_release_block_counts")
        if found is None or found.shape[0] < self.bind_block_totals.shape[0]:
            found = self.__dict__["_release_block_counts"] = np.zeros(
                (self.bind_block_totals.shape[0], 3), np.int64)
        return found

    def pair_block_counts(self) -> np.ndarray:
        """Scratch of the molecules' pairs pass (kernels/molecules.py `pairs`): per block of
        `TCELL_BLOCK` T-cell slots, (trimers formed, cleared with both cells)."""
        blocks = -(-self.t_voxel.shape[0] // TCELL_BLOCK)
        found = self.__dict__.get("_pair_block_counts")
        if found is None or found.shape[0] < blocks:
            found = self.__dict__["_pair_block_counts"] = np.zeros((blocks, 2), np.int64)
        return found

    def blast_list(self) -> BlastList:
        """The blast slots for the molecule and binding passes (`BlastList`), kept beside the
        state, not in it."""
        found = self.__dict__.get("_blast_list")
        if found is None:
            found = self.__dict__["_blast_list"] = BlastList()
        return found

    def tcell_slots(self) -> np.ndarray:
        """0, 1, 2, ... for every T-cell slot (the passes that take a list of slots walk them
        all for T cells); kept beside the state, grown with it."""
        found = self.__dict__.get("_tcell_slots")
        if found is None or found.shape[0] < self.t_voxel.shape[0]:
            found = self.__dict__["_tcell_slots"] = np.arange(self.t_voxel.shape[0],
                                                               dtype=np.int32)
        return found

    def cell_queue(self, constants: np.ndarray, wait_chances: list[int]) -> CellQueue:
        """The heap of the cells' next events, kept beside the state (not in it). Made anew,
        from every slot, when there is none or when the per-step chances at `wait_chances`
        of `constants` differ from those the waits were drawn with (another `dt`, other
        rates): then every cell draws its next event again, which the waits' lack of memory
        makes exact. Same constants as last step: found by identity, O(1)."""
        queue = self.__dict__.get("_cell_queue")
        if queue is not None and queue.constants is constants:
            return queue
        chances = constants[wait_chances]
        changed = not np.array_equal(chances, self.due_chances)
        if changed:
            self.b_due[:] = -1
            self.c_due[:] = -1
            self.due_chances = chances.copy()
        if queue is None or changed:
            queue = self.__dict__["_cell_queue"] = CellQueue(constants)
        queue.constants = constants
        return queue

    def ensure_cell_capacity(self, extra_normal: int) -> None:
        """Room for every live cell to divide once in the coming step, and for the normal
        cells about to be produced."""
        need_b = self.n_blasts + self.blasts_alive_count() + 1
        if need_b > self.b_voxel.shape[0]:
            self.__dict__.pop("_kernel_arrays", None)
            cap = max(need_b, 2 * self.b_voxel.shape[0])
            self.b_voxel = _grow(self.b_voxel, cap, -1)
            self.b_alive = _grow(self.b_alive, cap)
            self.b_cd19 = _grow(self.b_cd19, cap)
            self.b_bound = _grow(self.b_bound, cap)
            self.b_trimers = _grow(self.b_trimers, cap)
            self.b_partner = _grow(self.b_partner, cap, -1)
        need_t = self.n_tcells + self.tcells_alive_count() + 1
        if need_t > self.t_voxel.shape[0]:
            self.__dict__.pop("_kernel_arrays", None)
            cap = max(need_t, 2 * self.t_voxel.shape[0])
            self.t_voxel = _grow(self.t_voxel, cap, -1)
            self.t_alive = _grow(self.t_alive, cap)
            self.t_engaged = _grow(self.t_engaged, cap)
            self.t_partner = _grow(self.t_partner, cap, -1)
            self.t_timer_min = _grow(self.t_timer_min, cap)
            self.t_activation = _grow(self.t_activation, cap)
            self.t_exhaustion = _grow(self.t_exhaustion, cap)
            self.t_desens = _grow(self.t_desens, cap)
            self.t_kills = _grow(self.t_kills, cap)
            self.t_bound = _grow(self.t_bound, cap)
            self.t_trimers = _grow(self.t_trimers, cap)
            self.t_bridge_blast = _grow(self.t_bridge_blast, cap)
            self.t_bridge_tcell = _grow(self.t_bridge_tcell, cap)
            self.t_last_partner = _grow(self.t_last_partner, cap, -1)
            self.t_last_trimers = _grow(self.t_last_trimers, cap)
        need_c = self.n_normal + extra_normal + 1
        if need_c > self.c_voxel.shape[0]:
            cap = max(need_c, 2 * self.c_voxel.shape[0])
            self.c_voxel = _grow(self.c_voxel, cap, -1)
            self.c_alive = _grow(self.c_alive, cap)
        if self.b_due.shape[0] < self.b_voxel.shape[0]:
            self.b_due = _grow(self.b_due, self.b_voxel.shape[0], -1)
        if self.c_due.shape[0] < self.c_voxel.shape[0]:
            self.c_due = _grow(self.c_due, self.c_voxel.shape[0], -1)
        cells = self.b_voxel.shape[0] + self.t_voxel.shape[0]
        if self.new_bindings.shape[0] < cells:
            self.new_bindings = np.zeros(max(cells, 2 * self.new_bindings.shape[0]), np.int64)
        if self.b_events.shape[0] < self.b_voxel.shape[0]:
            self.b_events = np.zeros(self.b_voxel.shape[0], np.int64)
        if self.c_events.shape[0] < self.c_voxel.shape[0]:
            self.c_events = np.zeros(self.c_voxel.shape[0], np.int64)
        blocks = -(-self.b_voxel.shape[0] // BIND_BLOCK) - (-self.t_voxel.shape[0] // BIND_BLOCK)
        if self.bind_block_totals.shape[0] < blocks:
            self.bind_block_totals = np.zeros(blocks, np.int64)

    # Read-only summaries (O(agents) numpy work; called at record times, not every step).
    def blasts_alive(self) -> int:
        return int(np.count_nonzero(self.b_alive[: self.n_blasts]))

    def blasts_cd19_negative(self) -> int:
        n = self.n_blasts
        return int(np.count_nonzero(self.b_alive[:n] & (self.b_cd19[:n] <= 0.0)))

    def blasts_cd19_positive(self) -> int:
        """Live CD19-positive blasts, in one compiled pass (the MRD tail asks every step)."""
        return int(_count_cd19_positive(self.b_alive, self.b_cd19, self.n_blasts))

    def tcells_alive(self) -> int:
        return int(np.count_nonzero(self.t_alive[: self.n_tcells]))

    def tcells_in_synapse(self) -> int:
        n = self.n_tcells
        return int(np.count_nonzero(self.t_alive[:n] & (self.t_engaged[:n] >= LYTIC)))

    def normal_alive(self) -> int:
        return int(np.count_nonzero(self.c_alive[: self.n_normal]))

    def molecules_in_state(self, state: int) -> int:
        """Bound molecules now in a state (ON_BLAST, ON_TCELL, TRIMER)."""
        nb, nt = self.n_blasts, self.n_tcells
        if state == TRIMER:
            return int(self.b_trimers[:nb].sum())
        if state == ON_BLAST:
            return int((self.b_bound[:nb] - self.b_trimers[:nb]).sum())
        return int((self.t_bound[:nt] - self.t_trimers[:nt]).sum())

    def molecule_table(self) -> MoleculeRows:
        """The bound molecules one by one (-1 for no cell): each blast's single-arm
        molecules, then its trimers (with its partner), in blast slot order; then each T
        cell's single-arm molecules. Between steps every
        trimer is with its blast's partner (docs/model.md s.7). O(molecules)."""
        nb, nt = self.n_blasts, self.n_tcells
        single_b = (self.b_bound[:nb] - self.b_trimers[:nb]).astype(np.int64)
        trimers = self.b_trimers[:nb].astype(np.int64)
        single_t = (self.t_bound[:nt] - self.t_trimers[:nt]).astype(np.int64)
        blasts = np.arange(nb, dtype=np.int32)
        # Per blast: its singles then its trimers, as runs of (state, count).
        per_blast = np.stack([single_b, trimers], axis=1).ravel()
        b_of = np.repeat(np.repeat(blasts, 2), per_blast)
        state_b = np.repeat(np.tile(np.array([ON_BLAST, TRIMER], np.int8), nb), per_blast)
        partner = self.b_partner[:nb]
        t_of_b = np.where(state_b == TRIMER, partner[b_of], -1).astype(np.int32)
        t_of = np.repeat(np.arange(nt, dtype=np.int32), single_t)
        state = np.concatenate([state_b, np.full(t_of.size, ON_TCELL, np.int8)])
        blast = np.concatenate([b_of.astype(np.int32), np.full(t_of.size, -1, np.int32)])
        tcell = np.concatenate([t_of_b, t_of])
        return MoleculeRows(state, blast, tcell)

    def counter(self, index: int) -> int:
        return int(self.counters[index])


def new_patch_state(
    rng: np.random.Generator,
    width: int,
    height: int,
    n_blasts: int,
    n_tcells: int,
    n_normal: int,
    cd19_negative_fraction: float,
    cd19_median_copies: float,
    cd19_sigma_log: float,
) -> PatchState:
    """Place cells on distinct random voxels and draw each blast's CD19 (docs/model.md s.2)."""
    voxels = width * height
    cells = n_blasts + n_tcells + n_normal
    if cells > voxels:
        raise ValueError(f"{cells} cells do not fit in {voxels} voxels")
    where = rng.choice(voxels, size=cells, replace=False).astype(np.int32)
    occ_kind = np.zeros(voxels, np.int8)
    occ_idx = np.full(voxels, -1, np.int32)

    def place(slots: np.ndarray, capacity: int, kind: int) -> tuple[np.ndarray, np.ndarray]:
        voxel = np.full(capacity, -1, np.int32)
        voxel[: len(slots)] = slots
        alive = np.zeros(capacity, np.uint8)
        alive[: len(slots)] = 1
        occ_kind[slots] = kind
        occ_idx[slots] = np.arange(len(slots), dtype=np.int32)
        return voxel, alive

    cap_b = max(16, 2 * n_blasts)
    b_voxel, b_alive = place(where[:n_blasts], cap_b, BLAST)
    b_cd19 = np.zeros(cap_b)
    negative = rng.random(n_blasts) < cd19_negative_fraction
    copies = cd19_median_copies * np.exp(cd19_sigma_log * rng.standard_normal(n_blasts))
    b_cd19[:n_blasts] = np.where(negative, 0.0, copies)
    cap_t = max(16, 2 * n_tcells)
    t_voxel, t_alive = place(where[n_blasts:n_blasts + n_tcells], cap_t, TCELL)
    cap_c = max(16, 2 * n_normal)
    c_voxel, c_alive = place(where[n_blasts + n_tcells:], cap_c, NORMAL)

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
        b_trimers=np.zeros(cap_b, np.int32),
        b_partner=np.full(cap_b, -1, np.int32),
        n_tcells=n_tcells,
        t_voxel=t_voxel,
        t_alive=t_alive,
        t_engaged=np.zeros(cap_t, np.int8),
        t_partner=np.full(cap_t, -1, np.int32),
        t_timer_min=np.zeros(cap_t),
        t_activation=np.zeros(cap_t),
        t_exhaustion=np.zeros(cap_t),
        t_desens=np.zeros(cap_t),
        t_kills=np.zeros(cap_t, np.int32),
        t_bound=np.zeros(cap_t, np.int32),
        t_trimers=np.zeros(cap_t, np.int32),
        t_bridge_blast=np.zeros(cap_t),
        t_bridge_tcell=np.zeros(cap_t),
        t_last_partner=np.full(cap_t, -1, np.int32),
        t_last_trimers=np.zeros(cap_t, np.int32),
        n_normal=n_normal,
        c_voxel=c_voxel,
        c_alive=c_alive,
        n_live_molecules=0,
        free_molecules=0,
        counters=np.zeros(N_COUNTERS, np.int64),
        stimulation=np.zeros(5),
        new_bindings=np.zeros(cap_b + cap_t, np.int64),
        initial_blasts=n_blasts,
        initial_tcells=n_tcells,
        initial_normal=n_normal,
    )
