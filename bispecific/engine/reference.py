"""A plain, slow reference implementation of the step rules of docs/model.md.

Written for clarity, not speed: Python objects per agent, NumPy's `Generator` for randomness
(an independent stream from the kernels' counter-based hash). Tests run it beside the Numba
kernels and check that the two agree in distribution over seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .kernels import constants as k
from .kernels.constants import displacement_sigma_voxels, kernel_constants
from .parameters import ModelParameters
from .state import PatchState

# Moore neighbourhood; the first four are the side (von Neumann) neighbours.
_OFFSETS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]


@dataclass
class RefBlast:
    x: int
    y: int
    cd19: float
    alive: bool = True
    engaged: bool = False
    bound: int = 0


@dataclass
class RefTCell:
    x: int
    y: int
    alive: bool = True
    partner: RefBlast | None = None
    timer_min: float = 0.0
    will_kill: bool = False
    activation: float = 0.0
    exhaustion: float = 0.0
    kills: int = 0
    bound: int = 0
    desens: float = 0.0


@dataclass
class RefMolecule:
    x: int
    y: int
    on: RefBlast | RefTCell | None = None


@dataclass
class ReferencePatch:
    """The whole patch as Python objects, advanced by `step`."""

    width: int
    height: int
    params: ModelParameters
    dt_min: float
    voxel_um: float
    rng: np.random.Generator
    blasts: list[RefBlast] = field(default_factory=list)
    tcells: list[RefTCell] = field(default_factory=list)
    molecules: list[RefMolecule] = field(default_factory=list)
    cells_at: dict[tuple[int, int], RefBlast | RefTCell] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    stimulation: float = 0.0  # cumulative release, killing-synapse-minutes
    c: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per-step constants
    sigma: float = 0.0  # molecule step, voxels per axis

    @classmethod
    def from_state(
        cls, s: PatchState, params: ModelParameters, dt_min: float, voxel_um: float, seed: int
    ) -> ReferencePatch:
        """Start from the same initial cells as a kernel-driven state."""
        ref = cls(s.width, s.height, params, dt_min, voxel_um, np.random.default_rng(seed))
        ref.c = kernel_constants(params, dt_min, voxel_um)
        ref.sigma = displacement_sigma_voxels(params, dt_min, voxel_um)
        for b in range(s.n_blasts):
            v = int(s.b_voxel[b])
            blast = RefBlast(v % s.width, v // s.width, float(s.b_cd19[b]))
            ref.blasts.append(blast)
            ref.cells_at[(blast.x, blast.y)] = blast
        for t in range(s.n_tcells):
            v = int(s.t_voxel[t])
            cell = RefTCell(v % s.width, v // s.width)
            ref.tcells.append(cell)
            ref.cells_at[(cell.x, cell.y)] = cell
        for name in ("entered", "exit", "internalised", "with_cell", "kills", "blast_births",
                     "apoptoses", "t_births", "t_deaths", "synapses"):
            ref.counts[name] = 0
        return ref

    # -- helpers ---------------------------------------------------------------------------
    def _wrap(self, x: int, y: int) -> tuple[int, int]:
        return x % self.width, y % self.height

    def _chance(self, p: float) -> bool:
        return self.rng.random() < p

    def _free_neighbour(self, x: int, y: int) -> tuple[int, int] | None:
        dx, dy = _OFFSETS[self.rng.integers(8)]
        spot = self._wrap(x + dx, y + dy)
        return None if spot in self.cells_at else spot

    # -- the step ------------------------------------------------------------------------
    def step(self, tissue_molecules_per_um3: float) -> None:
        self._tcells_step()
        self._blasts_step()
        self._molecules_step()
        self._entry(tissue_molecules_per_um3)

    def _tcells_step(self) -> None:
        p = self.params
        dt = self.dt_min
        act_decay = 2.0 ** (-dt / (p.activation_half_life_h * 60.0))
        exh_decay = 2.0 ** (-dt / (p.exhaustion_half_life_days * 1440.0))
        des_decay = 2.0 ** (-dt / (p.desensitisation_half_life_days * 1440.0))
        des_gain = 1.0 - math.exp(-p.desensitisation_per_synapse_h / 60.0 * dt)
        for t in list(self.tcells):
            if not t.alive:
                continue
            t.activation *= act_decay
            t.exhaustion *= exh_decay
            t.desens *= des_decay
            if t.partner is not None:
                if not t.partner.alive:
                    t.partner = None
                else:
                    weight = 1.0 if t.will_kill else p.failed_synapse_release_factor
                    self.stimulation += weight * (1.0 - t.desens) * dt
                    t.desens += (1.0 - t.desens) * des_gain
                    t.timer_min -= dt
                    if t.timer_min <= 1e-9:
                        if t.will_kill:
                            self._remove_blast(t.partner)
                            self.counts["kills"] += 1
                            t.kills += 1
                        t.partner.engaged = False
                        t.partner = None
            else:
                self._try_synapse_or_move(t)
            if t.partner is None and t.activation > 0.0:
                rate = p.t_cell_proliferation_per_day / 1440.0 * dt * t.activation * (
                    1.0 - t.exhaustion)
                if self._chance(1.0 - math.exp(-rate)):
                    spot = self._free_neighbour(t.x, t.y)
                    if spot is not None:
                        d = RefTCell(*spot, activation=t.activation, exhaustion=t.exhaustion,
                                     desens=t.desens)
                        self.tcells.append(d)
                        self.cells_at[spot] = d
                        self.counts["t_births"] += 1
            rate = (p.t_cell_death_per_day + p.aicd_per_day * t.activation) / 1440.0 * dt
            if self._chance(1.0 - math.exp(-rate)):
                t.alive = False
                del self.cells_at[(t.x, t.y)]
                if t.partner is not None:
                    t.partner.engaged = False
                    t.partner = None
                self.counts["t_deaths"] += 1

    def _try_synapse_or_move(self, t: RefTCell) -> None:
        p = self.params
        dx, dy = _OFFSETS[self.rng.integers(8)]
        other = self.cells_at.get(self._wrap(t.x + dx, t.y + dy))
        if isinstance(other, RefBlast) and not other.engaged and other.cd19 > 0.0:
            bonds = other.bound + t.bound
            rate = p.adhesion_per_bond * p.contact_bond_fraction * bonds * self.dt_min
            if bonds > 0 and self._chance(1.0 - math.exp(-rate)):
                other.engaged = True
                t.partner = other
                self.counts["synapses"] += 1
                t.will_kill = self._chance(p.kill_probability * (1.0 - t.exhaustion))
                t.timer_min = p.kill_time_min if t.will_kill else p.failed_synapse_min
                t.activation = min(1.0, t.activation + p.activation_per_synapse)
                t.exhaustion = min(1.0, t.exhaustion + p.exhaustion_per_synapse)
                return
        if self._chance(min(1.0, p.t_cell_speed_um_per_min * self.dt_min / self.voxel_um)):
            dx, dy = _OFFSETS[self.rng.integers(4)]
            spot = self._wrap(t.x + dx, t.y + dy)
            if spot not in self.cells_at:
                del self.cells_at[(t.x, t.y)]
                t.x, t.y = spot
                self.cells_at[spot] = t

    def _remove_blast(self, b: RefBlast) -> None:
        b.alive = False
        del self.cells_at[(b.x, b.y)]

    def _blasts_step(self) -> None:
        p = self.params
        p_apoptosis = 1.0 - math.exp(-p.blast_apoptosis_per_day / 1440.0 * self.dt_min)
        p_divide = 1.0 - math.exp(
            -math.log(2.0) / (p.blast_doubling_time_days * 1440.0) * self.dt_min)
        for b in list(self.blasts):
            if not b.alive:
                continue
            if self._chance(p_apoptosis):
                self._remove_blast(b)
                b.engaged = False
                self.counts["apoptoses"] += 1
                continue
            if self._chance(p_divide):
                spot = self._free_neighbour(b.x, b.y)
                if spot is not None:
                    d = RefBlast(*spot, cd19=b.cd19)
                    self.blasts.append(d)
                    self.cells_at[spot] = d
                    self.counts["blast_births"] += 1

    def _molecules_step(self) -> None:
        c, sigma = self.c, self.sigma
        kept: list[RefMolecule] = []
        for m in self.molecules:
            if m.on is None:
                if self._chance(c[k.P_EXIT]):
                    self.counts["exit"] += 1
                    continue
                m.x, m.y = self._wrap(m.x + round(self.rng.normal(0.0, sigma)),
                                      m.y + round(self.rng.normal(0.0, sigma)))
                cell = self.cells_at.get((m.x, m.y))
                if isinstance(cell, RefBlast):
                    free = cell.cd19 - cell.bound
                    if free > 0 and self._chance(
                            1.0 - math.exp(-c[k.BIND_CD19_PER_RECEPTOR] * free)):
                        m.on = cell
                elif isinstance(cell, RefTCell):
                    free = self.params.cd3_copies - cell.bound
                    if free > 0 and self._chance(
                            1.0 - math.exp(-c[k.BIND_CD3_PER_RECEPTOR] * free)):
                        m.on = cell
            elif not m.on.alive:
                self.counts["with_cell"] += 1
                continue
            elif isinstance(m.on, RefBlast):
                u = self.rng.random()
                if u < c[k.P_BLAST_RELEASE] * c[k.FRACTION_UNBIND]:
                    m.x, m.y, m.on = m.on.x, m.on.y, None
                elif u < c[k.P_BLAST_RELEASE]:
                    self.counts["internalised"] += 1
                    continue
            elif self._chance(c[k.P_TCELL_UNBIND]):
                m.x, m.y, m.on = m.on.x, m.on.y, None
            kept.append(m)
        self.molecules = kept
        for cell in self.blasts + self.tcells:
            cell.bound = 0
        for m in self.molecules:
            if m.on is not None:
                m.on.bound += 1

    def _entry(self, tissue_molecules_per_um3: float) -> None:
        c = kernel_constants(self.params, self.dt_min, self.voxel_um)
        volume = self.width * self.height * self.voxel_um**3
        n_new = self.rng.poisson(c[k.P_EXIT] * tissue_molecules_per_um3 * volume)
        for _ in range(n_new):
            v = self.rng.integers(self.width * self.height)
            self.molecules.append(RefMolecule(int(v % self.width), int(v // self.width)))
        self.counts["entered"] += n_new

    # -- readouts ------------------------------------------------------------------------
    def blasts_alive(self) -> int:
        return sum(b.alive for b in self.blasts)

    def tcells_alive(self) -> int:
        return sum(t.alive for t in self.tcells)

    def bound_molecules(self) -> int:
        return sum(m.on is not None for m in self.molecules)
