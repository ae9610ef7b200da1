"""A plain, slow reference implementation of the step rules of docs/model.md.

Written for clarity, not speed: Python objects per agent, NumPy's `Generator` for randomness
(an independent stream from the kernels' counter-based hash), per-step probabilities where
the kernels draw waiting times, and every rate computed here from the specification's
formulas and the parameters' units. It shares no code with the kernels or their constant
table, so a unit error there shows up as a disagreement: tests run the two side by side and
check that they agree in distribution over seeds.

`transport="brownian"` replaces the well-mixed pool of free drug (docs/model.md s.3.1) by
free molecules that are agents of their own, moved by Brownian motion of coefficient
`diffusion_um2_per_s` and binding only the cell in their voxel: the explicit process that
the pool stands in for, used to test that the pool is exact at this scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .core.parameters import ModelParameters
from .core.state import PatchState

# Moore neighbourhood, in the kernels' direction order; the first four are the sides.
_OFFSETS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]
_AVOGADRO = 6.02214076e23
_UM3_PER_LITRE = 1e15


@dataclass(eq=False)
class RefBlast:
    x: int
    y: int
    cd19: float
    alive: bool = True
    partner: RefTCell | None = None


@dataclass(eq=False)
class RefTCell:
    x: int
    y: int
    alive: bool = True
    engagement: str = "scanning"  # scanning, contact, lytic, failed
    partner: RefBlast | None = None
    timer_min: float = 0.0
    activation: float = 0.0
    exhaustion: float = 0.0
    desens: float = 0.0
    kills: int = 0
    bridge_blast: float = 0.0  # this step's bridging chances (s.3.3)
    bridge_tcell: float = 0.0


@dataclass(eq=False)
class RefNormal:
    x: int
    y: int
    alive: bool = True


@dataclass(eq=False)
class RefMolecule:
    blast: RefBlast | None = None
    tcell: RefTCell | None = None


@dataclass
class Rates:
    """The specification's rates, per minute or per step, computed from the parameters."""

    dt: float
    kon_um3_per_min: float
    koff19: float
    koff3: float
    kint: float
    p_exit: float
    k_acc: float  # /min, molecules drifting into a zone (s.3.3)
    share_blast: tuple[float, float]
    share_tcell: tuple[float, float]
    k2d_cd3_zone: tuple[float, float]
    k2d_cd19_zone: tuple[float, float]

    @classmethod
    def from_spec(cls, p: ModelParameters, dt: float) -> Rates:
        # kon: /M/s -> um^3 per molecule per minute (1 M = N_A molecules per litre).
        kon = p.kon_per_M_per_s * _UM3_PER_LITRE / _AVOGADRO * 60.0
        # koff = kon * KD, in /min, with KD in mol/L.
        koff19 = p.kon_per_M_per_s * p.kd_cd19_nM * 1e-9 * 60.0
        koff3 = p.kon_per_M_per_s * p.kd_cd3_nM * 1e-9 * 60.0
        area_b = 4.0 * math.pi * p.blast_radius_um**2 * p.membrane_folding
        area_t = 4.0 * math.pi * p.t_cell_radius_um**2 * p.membrane_folding
        k_acc = math.log(2.0) / p.zone_gathering_half_life_min
        h_um = p.confinement_length_nm / 1000.0

        def per_um3(kd_nM: float) -> float:
            return kd_nM * 1e-9 * _AVOGADRO / _UM3_PER_LITRE

        zones = (p.contact_area_um2, p.synapse_area_um2)
        share_b = tuple(min(1.0, a / area_b) for a in zones)
        share_t = tuple(min(1.0, a / area_t) for a in zones)
        return cls(
            dt=dt, kon_um3_per_min=kon, koff19=koff19, koff3=koff3,
            kint=p.cd19_internalisation_per_min,
            p_exit=1.0 - math.exp(-p.exchange_per_min * dt),
            k_acc=k_acc,
            share_blast=share_b, share_tcell=share_t,
            k2d_cd3_zone=tuple(per_um3(p.kd_cd3_nM) * h_um * a for a in zones),
            k2d_cd19_zone=tuple(per_um3(p.kd_cd19_nM) * h_um * a for a in zones),
        )


def _two_state(on_rate: float, off_rate: float, dt: float) -> tuple[float, float]:
    """A receptor's exact per-step chances free -> bound and bound -> free (s.3.1)."""
    total = on_rate + off_rate
    if total <= 0.0:
        return 0.0, 0.0
    moved = 1.0 - math.exp(-total * dt)
    return on_rate / total * moved, off_rate / total * moved


def _zone_trimers(n: float, m: float, k_zone: float) -> float:
    """The root below min(n, m) of x = (n - x)(m - x) / K (s.3.3)."""
    if n <= 0.0 or m <= 0.0:
        return 0.0
    s = n + m + k_zone
    return (s - math.sqrt(max(s * s - 4.0 * n * m, 0.0))) / 2.0


@dataclass(eq=False)
class _Proposal:
    """What one T cell does to others in a step, decided in round 1 (s.5)."""

    tcell: RefTCell
    slot: int
    priority: float = 0.0
    let_go: RefBlast | None = None  # its partner, let go (or killed, with `kill`)
    kill: bool = False
    blast: RefBlast | None = None  # the blast it found, and the contact's timer if it wins
    contact_timer: float = 0.0
    voxel: tuple[int, int] | None = None  # where its walk ends, if not where it started
    daughter: tuple[int, int] | None = None  # its daughter's voxel
    dies: bool = False

    def claims(self) -> list[tuple[tuple, int]]:
        """What it claims, each with its kind (0: a blast or its own move, 1: its
        daughter, which loses a tie to its mother's move)."""
        found = []
        if self.blast is not None:
            found.append((("blast", id(self.blast)), 0))
        if self.voxel is not None:
            found.append((("voxel", self.voxel), 0))
        if self.daughter is not None:
            found.append((("voxel", self.daughter), 1))
        return found


@dataclass
class ReferencePatch:
    """The whole patch as Python objects, advanced by `step`."""

    width: int
    height: int
    params: ModelParameters
    dt_min: float
    voxel_um: float
    t_cell_fraction: float
    rng: np.random.Generator
    transport: str = "pool"
    diffusion_um2_per_s: float = 50.0
    blasts: list[RefBlast] = field(default_factory=list)
    tcells: list[RefTCell] = field(default_factory=list)
    normals: list[RefNormal] = field(default_factory=list)
    molecules: list[RefMolecule] = field(default_factory=list)
    free: int = 0  # the pool (transport "pool")
    free_xy: list[tuple[int, int]] = field(default_factory=list)  # (transport "brownian")
    cells_at: dict[tuple[int, int], object] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    stimulation: float = 0.0  # cumulative release, synapse-minutes
    rates: Rates | None = None
    _bound: dict[int, int] = field(default_factory=dict)
    _trimers: dict[int, int] = field(default_factory=dict)

    @classmethod
    def from_state(
        cls, s: PatchState, params: ModelParameters, dt_min: float, voxel_um: float,
        t_cell_fraction: float, seed: int, transport: str = "pool",
        diffusion_um2_per_s: float = 50.0,
    ) -> ReferencePatch:
        """Start from the same initial cells as a kernel-driven state."""
        ref = cls(s.width, s.height, params, dt_min, voxel_um, t_cell_fraction,
                  np.random.default_rng(seed), transport, diffusion_um2_per_s)
        ref.rates = Rates.from_spec(params, dt_min)
        for b in range(s.n_blasts):
            v = int(s.b_voxel[b])
            ref._add(ref.blasts, RefBlast(v % s.width, v // s.width, float(s.b_cd19[b])))
        for t in range(s.n_tcells):
            v = int(s.t_voxel[t])
            ref._add(ref.tcells, RefTCell(v % s.width, v // s.width))
        for i in range(s.n_normal):
            v = int(s.c_voxel[i])
            ref._add(ref.normals, RefNormal(v % s.width, v // s.width))
        for name in ("entered", "exit", "internalised", "with_cell", "kills", "blast_births",
                     "apoptoses", "t_births", "t_deaths", "synapses", "contacts",
                     "normal_births", "normal_deaths", "trimers_formed", "bindings"):
            ref.counts[name] = 0
        return ref

    # -- helpers ---------------------------------------------------------------------------
    def _add(self, population: list, cell) -> None:
        population.append(cell)
        self.cells_at[(cell.x, cell.y)] = cell

    def _wrap(self, x: int, y: int) -> tuple[int, int]:
        return x % self.width, y % self.height

    def _chance(self, p: float) -> bool:
        return self.rng.random() < p

    def _neighbour_holding(self, x: int, y: int, wanted) -> tuple[int, int] | None:
        """The first Moore neighbour, from a random one onwards, that `wanted(occupant)`."""
        start = int(self.rng.integers(8))
        for i in range(8):
            dx, dy = _OFFSETS[(start + i) % 8]
            spot = self._wrap(x + dx, y + dy)
            if wanted(self.cells_at.get(spot)):
                return spot
        return None

    def _census(self) -> None:
        """Molecules holding each cell, and trimers, counted from the agents themselves."""
        bound: dict[int, int] = {}
        trimers: dict[int, int] = {}
        for m in self.molecules:
            for cell in (m.blast, m.tcell):
                if cell is not None:
                    bound[id(cell)] = bound.get(id(cell), 0) + 1
            if m.blast is not None and m.tcell is not None:
                trimers[id(m.tcell)] = trimers.get(id(m.tcell), 0) + 1
                trimers[id(m.blast)] = trimers.get(id(m.blast), 0) + 1
        self._bound, self._trimers = bound, trimers

    def bound_on(self, cell) -> int:
        """Molecules holding a cell (by one arm or in a trimer), as of the last census."""
        return self._bound.get(id(cell), 0)

    def trimers_of(self, cell) -> int:
        return self._trimers.get(id(cell), 0)

    # -- the step ------------------------------------------------------------------------
    def step(self, tissue_molecules_per_um3: float) -> None:
        self._tcells_step()
        self._blasts_step()
        self._normal_turnover()
        self._molecules_step()
        self._pool_step(tissue_molecules_per_um3)
        self._normal_production()

    def _tcells_step(self) -> None:
        """T cells in two rounds (s.5, "Two rounds, no order"): each acts on the patch as it
        stood at the start of the step and proposes; then the proposals take effect, the
        lowest priority winning a blast or voxel claimed twice."""
        self._census()
        proposals = [self._propose(slot, t) for slot, t in enumerate(list(self.tcells))
                     if t.alive]
        claims: dict = {}
        for pr in proposals:
            for where, kind in pr.claims():
                bid = (pr.priority, pr.slot, kind)
                if where not in claims or bid < claims[where]:
                    claims[where] = bid
        for pr in proposals:
            self._settle(pr, claims)

    def _propose(self, slot: int, t: RefTCell) -> _Proposal:
        """Round 1 for one T cell: its own state changes now; what would change the patch for
        others (a blast let go or killed, a contact, a move, a daughter) is proposed."""
        p, dt = self.params, self.dt_min
        pr = _Proposal(t, slot)
        t.activation *= 2.0 ** (-dt / (p.activation_half_life_h * 60.0))
        t.exhaustion *= 2.0 ** (-dt / (p.exhaustion_half_life_days * 1440.0))
        t.desens *= 2.0 ** (-dt / (p.desensitisation_half_life_days * 1440.0))
        if t.engagement != "scanning" and not t.partner.alive:
            t.partner, t.engagement = None, "scanning"
        if t.engagement == "contact":
            # The timer is the contact's time left after the last step (s.5).
            if self._phase_over(t.timer_min):
                n = self.trimers_of(t)
                if self._chance(1.0 - math.exp(-p.adhesion_per_trimer * n)):
                    t.engagement, t.timer_min = "lytic", p.kill_time_min
                    self.counts["synapses"] += 1
                    t.activation = min(1.0, t.activation + p.activation_per_synapse)
                    t.exhaustion = min(1.0, t.exhaustion + p.exhaustion_per_synapse)
                else:
                    pr.let_go, t.partner, t.engagement = t.partner, None, "scanning"
            else:
                t.timer_min -= dt
        if t.engagement in ("lytic", "failed") and self._phase_over(t.timer_min):
            # The phase ended at this step's start: decide; letting go, scan this step.
            detach = True
            if t.engagement == "lytic":
                n = self.trimers_of(t)
                lysis = p.kill_probability * (1.0 - p.regulatory_suppression)
                p_kill = lysis * (1.0 - t.exhaustion) * n / (n + p.trimers_for_half_kill)
                if self._chance(p_kill):
                    pr.kill = True
                else:
                    t.engagement = "failed"
                    t.timer_min = p.failed_synapse_min - p.kill_time_min
                    detach = t.timer_min <= 1e-9
            if detach:
                pr.let_go, t.partner, t.engagement = t.partner, None, "scanning"
        pr.priority = self.rng.random()
        if t.engagement in ("lytic", "failed"):
            self.stimulation += (1.0 - t.desens) * dt
            t.desens += (1.0 - t.desens) * (
                1.0 - math.exp(-p.desensitisation_per_synapse_h / 60.0 * dt))
            t.timer_min -= dt
        elif t.engagement == "scanning":
            self._find_or_walk(t, pr)
        if t.engagement == "contact":
            self._bridging_chances(t, p.contact_duration_min - t.timer_min)
        elif t.engagement == "lytic":
            self._bridging_chances(t, p.kill_time_min - t.timer_min)
        elif t.engagement == "failed":
            self._bridging_chances(t, p.failed_synapse_min - t.timer_min)
        if t.engagement == "scanning" and pr.blast is None and t.activation > 0.0:
            prolif = p.t_cell_proliferation_per_day * (1.0 - p.regulatory_suppression)
            rate = prolif / 1440.0 * t.activation * (1.0 - t.exhaustion)
            if self._chance(1.0 - math.exp(-rate * dt)):
                pr.daughter = self._neighbour_holding(t.x, t.y, lambda c: c is None)
        rate = (p.t_cell_death_per_day + p.aicd_per_day * t.activation) / 1440.0
        pr.dies = self._chance(1.0 - math.exp(-rate * dt))
        return pr

    def _find_or_walk(self, t: RefTCell, pr: _Proposal) -> None:
        """Probes at a rate per minute, each at a random Moore neighbour; else a Poisson
        number of steps (s.5); all on the patch as it stood at the step's start, so a blast
        engaged then is not free, and a walk steps only into voxels empty then."""
        p = self.params
        free = []
        for dx, dy in _OFFSETS:
            other = self.cells_at.get(self._wrap(t.x + dx, t.y + dy))
            if isinstance(other, RefBlast) and other.partner is None and other.cd19 > 0.0:
                free.append(other)
        rate = p.probe_rate_per_min * len(free) / 8.0
        if free and self._chance(1.0 - math.exp(-rate * self.dt_min)):
            # When in the step the first probe found a blast: exponential, given within dt.
            found_at = -math.log1p(-self.rng.random() * -math.expm1(-rate * self.dt_min)) / rate
            pr.blast = free[int(self.rng.integers(len(free)))]
            pr.contact_timer = p.contact_duration_min - (self.dt_min - found_at)
            return
        walk = self.rng.poisson(p.t_cell_speed_um_per_min * self.dt_min / self.voxel_um)
        start = here = (t.x, t.y)
        for _ in range(min(int(walk), 4)):
            dx, dy = _OFFSETS[self.rng.integers(4)]
            spot = self._wrap(here[0] + dx, here[1] + dy)
            if spot not in self.cells_at or spot == start:
                here = spot
        if here != start:
            pr.voxel = here

    def _settle(self, pr: _Proposal, claims: dict) -> None:
        """Round 2 for one T cell: its decisions take effect, and the claims it won act."""
        t, p = pr.tcell, self.params
        if pr.let_go is not None:
            if pr.let_go.partner is t:
                pr.let_go.partner = None
            if pr.kill:
                self._kill(pr.let_go)
                t.kills += 1
        if pr.blast is not None and claims[("blast", id(pr.blast))] == (pr.priority, pr.slot, 0):
            t.partner, pr.blast.partner, t.engagement = pr.blast, t, "contact"
            t.timer_min = pr.contact_timer
            self.counts["contacts"] += 1
            self._bridging_chances(t, p.contact_duration_min - t.timer_min)
        if pr.voxel is not None and claims[("voxel", pr.voxel)] == (pr.priority, pr.slot, 0):
            del self.cells_at[(t.x, t.y)]
            t.x, t.y = pr.voxel
            self.cells_at[pr.voxel] = t
        if pr.daughter is not None and claims[("voxel", pr.daughter)] == (
                pr.priority, pr.slot, 1):
            self._add(self.tcells, RefTCell(*pr.daughter, activation=t.activation,
                                            exhaustion=t.exhaustion, desens=t.desens))
            self.counts["t_births"] += 1
        if pr.dies:
            t.alive = False
            del self.cells_at[(t.x, t.y)]
            if t.partner is not None:
                self._let_go(t)
            self.counts["t_deaths"] += 1

    def _let_go(self, t: RefTCell) -> None:
        if t.partner is not None and t.partner.partner is t:
            t.partner.partner = None
        t.partner, t.engagement = None, "scanning"

    def _kill(self, b: RefBlast) -> None:
        b.alive = False
        del self.cells_at[(b.x, b.y)]
        self.counts["kills"] += 1

    def _phase_over(self, timer_min: float) -> bool:
        """A timed phase ends on the step nearest its length (s.5)."""
        return timer_min <= 0.5 * self.dt_min + 1e-9

    def _bridging_chances(self, t: RefTCell, age_min: float) -> None:
        """Each side's chance to bridge this step: the zone's quasi-equilibrium at its age
        `age_min` at the end of the step, less the pair's trimers (s.3.3)."""
        r, b = self.rates, t.partner
        zone = 0 if t.engagement == "contact" else 1
        bound_b, bound_t = self.bound_on(b), self.bound_on(t)
        trimers = self.trimers_of(t)
        single_b, single_t = bound_b - trimers, bound_t - trimers
        free_cd3 = r.share_tcell[zone] * max(self.params.cd3_copies - bound_t, 0.0)
        free_cd19 = r.share_blast[zone] * max(b.cd19 - bound_b, 0.0)

        def chance(single: int, share: float, free_other: float, k_zone: float) -> float:
            # Each molecule is bridged by zone age tau with probability P(tau); one not yet
            # bridged converts with the conditional chance of this step (s.3.3).
            if single <= 0:
                return 0.0
            total = single + trimers

            def bridged(age: float) -> float:
                gathered = 1.0 - (1.0 - share) * math.exp(-r.k_acc * age)
                return _zone_trimers(gathered * total, free_other + trimers, k_zone) / total

            now = bridged(age_min)
            before = trimers / total if age_min <= self.dt_min + 1e-9 else bridged(
                age_min - self.dt_min)
            if now <= before or before >= 1.0:
                return 0.0
            return min(1.0, (now - before) / (1.0 - before), free_other / single)

        t.bridge_blast = chance(single_b, r.share_blast[zone], free_cd3, r.k2d_cd3_zone[zone])
        t.bridge_tcell = chance(single_t, r.share_tcell[zone], free_cd19,
                                r.k2d_cd19_zone[zone])

    def _blasts_step(self) -> None:
        p = self.params
        p_apoptosis = 1.0 - math.exp(-p.blast_apoptosis_per_day / 1440.0 * self.dt_min)
        p_divide = 1.0 - math.exp(-p.blast_division_per_day / 1440.0 * self.dt_min)
        for b in list(self.blasts):
            if not b.alive:
                continue
            if self._chance(p_apoptosis):
                b.alive = False
                del self.cells_at[(b.x, b.y)]
                self.counts["apoptoses"] += 1
                continue
            if self._chance(p_divide):
                start = self.rng.integers(8)
                spot = None
                for wanted in (lambda c: c is None, lambda c: isinstance(c, RefNormal)):
                    for i in range(8):
                        dx, dy = _OFFSETS[(start + i) % 8]
                        candidate = self._wrap(b.x + dx, b.y + dy)
                        if wanted(self.cells_at.get(candidate)):
                            spot = candidate
                            break
                    if spot is not None:
                        break
                if spot is not None:
                    crowded = self.cells_at.get(spot)
                    if crowded is not None:
                        crowded.alive = False
                        self.counts["normal_deaths"] += 1
                    self._add(self.blasts, RefBlast(*spot, cd19=b.cd19))
                    self.counts["blast_births"] += 1

    def _normal_turnover(self) -> None:
        p_turnover = 1.0 - math.exp(-self.params.normal_turnover_per_day / 1440.0 * self.dt_min)
        for c in self.normals:
            if c.alive and self._chance(p_turnover):
                c.alive = False
                del self.cells_at[(c.x, c.y)]
                self.counts["normal_deaths"] += 1

    def _normal_production(self) -> None:
        p = self.params
        voxels = self.width * self.height
        healthy = voxels * p.marrow_cellularity * (1.0 - self.t_cell_fraction)
        per_day = p.normal_turnover_per_day * healthy / max(1.0 - p.marrow_cellularity, 1e-9)
        for _ in range(self.rng.poisson(per_day / 1440.0 * self.dt_min)):
            v = int(self.rng.integers(voxels))
            spot = (v % self.width, v // self.width)
            if spot not in self.cells_at:
                self._add(self.normals, RefNormal(*spot))
                self.counts["normal_births"] += 1

    def _free_concentration(self) -> float:
        volume = self.width * self.height * self.voxel_um**3
        return self.free / volume

    def _molecules_step(self) -> None:
        r = self.rates
        on = r.kon_um3_per_min * self._free_concentration()
        _, off_blast = _two_state(on, r.koff19 + r.kint, r.dt)
        _, off_tcell = _two_state(on, r.koff3, r.dt)
        keeps_blast = r.koff3 / (r.koff3 + r.koff19)
        kept: list[RefMolecule] = []
        for m in self.molecules:
            b, t = m.blast, m.tcell
            if b is not None and t is not None:  # a trimer
                if b.alive and t.alive and t.partner is b:
                    kept.append(m)
                    continue
                if not b.alive and not t.alive:
                    self.counts["with_cell"] += 1
                    continue
                if b.alive and (not t.alive or self._chance(keeps_blast)):
                    m.tcell = None
                else:
                    m.blast = None
                kept.append(m)
            elif b is not None:
                if not b.alive:
                    self.counts["with_cell"] += 1
                elif self._chance(off_blast):
                    if self._chance(r.koff19 / (r.koff19 + r.kint)):
                        self._return_free(b)
                    else:
                        self.counts["internalised"] += 1
                else:
                    if (b.partner is not None and b.partner.alive
                            and self._chance(b.partner.bridge_blast)):
                        m.tcell = b.partner
                        self.counts["trimers_formed"] += 1
                    kept.append(m)
            else:
                if not t.alive:
                    self.counts["with_cell"] += 1
                elif self._chance(off_tcell):
                    self._return_free(t)
                else:
                    if (t.partner is not None and t.partner.alive
                            and self._chance(t.bridge_tcell)):
                        m.blast = t.partner
                        self.counts["trimers_formed"] += 1
                    kept.append(m)
        self.molecules = kept

    def _return_free(self, cell) -> None:
        if self.transport == "pool":
            self.free += 1
        else:
            self.free_xy.append((cell.x, cell.y))

    def _pool_step(self, tissue_molecules_per_um3: float) -> None:
        if self.transport == "brownian":
            self._brownian_step(tissue_molecules_per_um3)
            return
        self._census()
        r = self.rates
        on = r.kon_um3_per_min * self._free_concentration()
        on_blast, _ = _two_state(on, r.koff19 + r.kint, r.dt)
        on_tcell, _ = _two_state(on, r.koff3, r.dt)
        for cell, receptors, p_on in (
                [(b, math.floor(b.cd19), on_blast) for b in self.blasts]
                + [(t, math.floor(self.params.cd3_copies), on_tcell) for t in self.tcells]):
            free_receptors = receptors - self.bound_on(cell)
            if not cell.alive or free_receptors <= 0 or self.free <= 0:
                continue
            got = min(int(self.rng.binomial(free_receptors, p_on)), self.free)
            self.free -= got
            self.counts["bindings"] += got
            for _ in range(got):
                if isinstance(cell, RefBlast):
                    self.molecules.append(RefMolecule(blast=cell))
                else:
                    self.molecules.append(RefMolecule(tcell=cell))
        exits = int(self.rng.binomial(self.free, r.p_exit))
        self.free -= exits
        self.counts["exit"] += exits
        volume = self.width * self.height * self.voxel_um**3
        entering = int(self.rng.poisson(r.p_exit * tissue_molecules_per_um3 * volume))
        self.free += entering
        self.counts["entered"] += entering

    def _brownian_step(self, tissue_molecules_per_um3: float) -> None:
        """Free molecules one by one: move by Brownian motion, bind the cell in the voxel they
        reach (rate kon x its free receptors / voxel volume) or else leave, then entry at
        random voxels."""
        self._census()
        r = self.rates
        sigma = math.sqrt(2.0 * self.diffusion_um2_per_s * r.dt * 60.0) / self.voxel_um
        voxel_um3 = self.voxel_um**3
        still_free = []
        bound_now: dict[int, int] = {}
        for x, y in self.free_xy:
            x, y = self._wrap(x + round(self.rng.normal(0.0, sigma)),
                              y + round(self.rng.normal(0.0, sigma)))
            cell = self.cells_at.get((x, y))
            if isinstance(cell, RefBlast | RefTCell):
                receptors = (cell.cd19 if isinstance(cell, RefBlast)
                             else self.params.cd3_copies)
                free_receptors = receptors - self.bound_on(cell) - bound_now.get(id(cell), 0)
                rate = r.kon_um3_per_min * free_receptors / voxel_um3
                if free_receptors > 0 and self._chance(1.0 - math.exp(-rate * r.dt)):
                    bound_now[id(cell)] = bound_now.get(id(cell), 0) + 1
                    self.counts["bindings"] += 1
                    self.molecules.append(RefMolecule(blast=cell) if isinstance(
                        cell, RefBlast) else RefMolecule(tcell=cell))
                    continue
            if self._chance(r.p_exit):  # binding, then exit, then entry, as in s.3.1
                self.counts["exit"] += 1
                continue
            still_free.append((x, y))
        volume = self.width * self.height * voxel_um3
        entering = int(self.rng.poisson(r.p_exit * tissue_molecules_per_um3 * volume))
        for _ in range(entering):
            v = int(self.rng.integers(self.width * self.height))
            still_free.append((v % self.width, v // self.width))
        self.counts["entered"] += entering
        self.free_xy = still_free

    # -- readouts ------------------------------------------------------------------------
    def blasts_alive(self) -> int:
        return sum(b.alive for b in self.blasts)

    def tcells_alive(self) -> int:
        return sum(t.alive for t in self.tcells)

    def normal_alive(self) -> int:
        return sum(c.alive for c in self.normals)

    def bound_molecules(self) -> int:
        return len(self.molecules)

    def trimers(self) -> int:
        return sum(m.blast is not None and m.tcell is not None for m in self.molecules)

    def free_molecules(self) -> int:
        return self.free if self.transport == "pool" else len(self.free_xy)
