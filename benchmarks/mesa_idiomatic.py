"""The rules of docs/model.md written as an idiomatic Mesa 3 model, for the benchmark.

This is how the Mesa documentation teaches a model: `CellAgent` subclasses on an
`OrthogonalMooreGrid` (a torus), one Python object per blast, T cell, normal marrow cell
and bound drug molecule, and `agents_by_type[...].shuffle_do("step")` each step (the T
cells `do("propose")`, then `do("settle")`: their rule has no order). The free
drug is the same well-mixed pool as in the kernels (docs/model.md s.3.1). It follows the
kernels' per-step probabilities (from `kernel_constants`); it is not used for results.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid

from bispecific import units
from bispecific.engine.core.kernels import constants as k
from bispecific.engine.core.kernels.constants import kernel_constants, receptor_step
from bispecific.engine.core.parameters import ModelParameters
from bispecific.engine.core.step import normal_attempts_per_step

SIDES = ((1, 0), (-1, 0), (0, 1), (0, -1))


class Blast(CellAgent):
    def __init__(self, model, cell, cd19):
        super().__init__(model)
        self.cell = cell
        self.cd19 = cd19
        self.molecules: set[Molecule] = set()
        self.partner = None
        self.alive = True

    def die(self):
        self.alive = False
        self.remove()
        self.cell = None

    def step(self):
        if not self.alive:
            return
        m = self.model
        if m.random.random() < m.c[k.P_APOPTOSIS]:
            self.die()
            return
        if m.random.random() < m.c[k.P_DIVIDE]:
            cells = list(self.cell.neighborhood)
            m.random.shuffle(cells)
            target = next((c for c in cells if c.is_empty), None)
            if target is None:
                target = next((c for c in cells if any(
                    isinstance(a, NormalCell) for a in c.agents)), None)
                if target is not None:
                    for a in list(target.agents):
                        a.remove()
            if target is not None:
                Blast(m, target, self.cd19)


class NormalCell(CellAgent):
    def __init__(self, model, cell):
        super().__init__(model)
        self.cell = cell

    def step(self):
        if self.model.random.random() < self.model.c[k.P_NORMAL_TURNOVER]:
            self.remove()


class TCell(CellAgent):
    def __init__(self, model, cell, activation=0.0, exhaustion=0.0):
        super().__init__(model)
        self.cell = cell
        self.engagement = "scanning"
        self.partner = None
        self.timer = 0.0
        self.activation = activation
        self.exhaustion = exhaustion
        self.molecules: set[Molecule] = set()
        self.bridge_blast = 0.0
        self.bridge_tcell = 0.0
        self.kills = 0
        self.alive = True

    def trimers(self):
        return sum(1 for mol in self.molecules if mol.blast is not None)

    def let_go(self):
        if self.partner is not None:
            self.partner.partner = None
        self.partner, self.engagement = None, "scanning"

    def propose(self):
        """Round 1 (docs/model.md s.5): act on the patch as it stood at the step's start;
        what would change it for others is only proposed."""
        m, c = self.model, self.model.c
        self.lets_go, self.kill, self.finds, self.walk_to = None, False, None, None
        self.daughter_cell, self.priority = None, 0.0
        self.activation *= c[k.ACTIVATION_DECAY]
        self.exhaustion *= c[k.EXHAUSTION_DECAY]
        if self.engagement != "scanning" and not self.partner.alive:
            self.partner, self.engagement = None, "scanning"
        if self.engagement == "contact":
            if self.timer <= 0.5 * c[k.DT_MIN] + 1e-9:  # the contact is over
                p_syn = 1 - math.exp(-c[k.ADHESION_PER_TRIMER] * self.trimers())
                if m.random.random() < p_syn:
                    self.engagement, self.timer = "lytic", c[k.KILL_TIME_MIN]
                    self.activation = min(1.0, self.activation + c[k.ACTIVATION_PER_SYNAPSE])
                    self.exhaustion = min(1.0, self.exhaustion + c[k.EXHAUSTION_PER_SYNAPSE])
                else:
                    self.lets_go, self.partner, self.engagement = self.partner, None, "scanning"
            else:
                self.timer -= c[k.DT_MIN]
        over = self.timer <= 0.5 * c[k.DT_MIN] + 1e-9
        if self.engagement in ("lytic", "failed") and over:
            n = self.trimers()
            p_kill = c[k.KILL_PROBABILITY] * (1 - self.exhaustion) * n / (
                n + c[k.TRIMERS_FOR_HALF_KILL])
            if self.engagement == "lytic" and m.random.random() < p_kill:
                self.kill = True
                self.lets_go, self.partner, self.engagement = self.partner, None, "scanning"
            elif self.engagement == "lytic":
                self.engagement = "failed"
                self.timer = c[k.FAILED_SYNAPSE_MIN] - c[k.KILL_TIME_MIN]
            else:
                self.lets_go, self.partner, self.engagement = self.partner, None, "scanning"
        self.priority = m.random.random()
        if self.engagement in ("lytic", "failed"):
            self.timer -= c[k.DT_MIN]
        elif self.engagement == "scanning":
            free = [a for cell in self.cell.neighborhood for a in cell.agents
                    if isinstance(a, Blast) and a.partner is None and a.cd19 > 0]
            hazard = c[k.PROBE_PER_NEIGHBOUR] * len(free)
            u = m.random.random()
            if free and u < 1 - math.exp(-hazard):
                self.finds = m.random.choice(free)
                found_at = -math.log1p(-u) / hazard * c[k.DT_MIN]
                self.timer = c[k.CONTACT_MIN] - (c[k.DT_MIN] - found_at)
            else:
                here = self.cell
                for _ in range(min(int(m.rng.poisson(c[k.MOVE_STEPS_MEAN])), 4)):
                    x, y = here.coordinate
                    dx, dy = m.random.choice(SIDES)
                    target = m.grid[((x + dx) % m.width, (y + dy) % m.height)]
                    if target.is_empty or target is self.cell:
                        here = target
                if here is not self.cell:
                    self.walk_to = here
        if self.engagement == "contact":
            m.bridging_chances(self, c[k.CONTACT_MIN] - self.timer)
        elif self.engagement == "lytic":
            m.bridging_chances(self, c[k.KILL_TIME_MIN] - self.timer)
        elif self.engagement == "failed":
            m.bridging_chances(self, c[k.FAILED_SYNAPSE_MIN] - self.timer)
        if self.engagement == "scanning" and self.finds is None and self.activation > 0:
            rate = c[k.PROLIFERATION_PER_STEP] * self.activation * (1 - self.exhaustion)
            if m.random.random() < 1 - math.exp(-rate):
                empty = [cell for cell in self.cell.neighborhood if cell.is_empty]
                if empty:
                    self.daughter_cell = m.random.choice(empty)
        rate = c[k.DEATH_PER_STEP] + c[k.AICD_PER_STEP] * self.activation
        self.dies = m.random.random() < 1 - math.exp(-rate)

    def claims(self):
        """What it claims, with the bid that settles a tie (lowest wins; a move before a
        daughter)."""
        bid = (self.priority, self.unique_id)
        wanted = [(self.finds, bid + (0,)), (self.walk_to, bid + (0,)),
                  (self.daughter_cell, bid + (1,))]
        return [(target, key) for target, key in wanted if target is not None]

    def settle(self):
        """Round 2: the decisions take effect and the claims that won act."""
        m, c = self.model, self.model.c
        bid = (self.priority, self.unique_id)
        if self.lets_go is not None:
            if self.lets_go.partner is self:
                self.lets_go.partner = None
            if self.kill:
                self.lets_go.die()
                m.kills += 1
                self.kills += 1
        if self.finds is not None and m.winners[self.finds] == bid + (0,):
            self.partner, self.finds.partner, self.engagement = self.finds, self, "contact"
            m.bridging_chances(self, c[k.CONTACT_MIN] - self.timer)
        if self.walk_to is not None and m.winners[self.walk_to] == bid + (0,):
            self.cell = self.walk_to
        if self.daughter_cell is not None and m.winners[self.daughter_cell] == bid + (1,):
            TCell(m, self.daughter_cell, self.activation, self.exhaustion)
        if self.dies:
            self.alive = False
            self.let_go()
            self.remove()
            self.cell = None


class Molecule(mesa.Agent):
    """A drug molecule held by a cell: by its CD19 arm (`blast`), its CD3 arm (`tcell`), or
    both (a trimer)."""

    def __init__(self, model, blast=None, tcell=None):
        super().__init__(model)
        self.blast, self.tcell = blast, tcell
        for cell in (blast, tcell):
            if cell is not None:
                cell.molecules.add(self)

    def leave(self, cell):
        cell.molecules.discard(self)

    def step(self):
        m, c = self.model, self.model.c
        b, t = self.blast, self.tcell
        if b is not None and t is not None:
            if b.alive and t.alive and t.partner is b:
                return
            if b.alive and (not t.alive or m.random.random() < c[k.P_TRIMER_KEEPS_BLAST]):
                self.leave(t)
                self.tcell = None
            else:
                self.leave(b)
                self.blast = None
            if self.blast is None and self.tcell is None:
                self.remove()
            return
        cell = b if b is not None else t
        if not cell.alive:
            self.remove()
            return
        if m.random.random() < (m.release_blast if b is not None else m.release_tcell):
            self.leave(cell)
            if b is None or m.random.random() < c[k.FRACTION_UNBIND]:
                m.free += 1
            self.remove()
            return
        partner = cell.partner
        if partner is None or not partner.alive:
            return
        chance = partner.bridge_blast if b is not None else cell.bridge_tcell
        if m.random.random() < chance:
            if b is not None:
                self.tcell = partner
            else:
                self.blast = partner
            partner.molecules.add(self)


class IdiomaticMesaModel(mesa.Model):
    """The patch as the Mesa docs would write it (a benchmark baseline)."""

    def __init__(self, width=32, height=32, plasma_pg_per_ml=525.0, marrow_blast_fraction=0.5,
                 t_cell_fraction=0.06, seed=None):
        super().__init__(rng=seed)  # seed= is deprecated from Mesa 3.4
        p = ModelParameters()
        self.width, self.height = width, height
        self.c = kernel_constants(p, 1.0, 10.0)
        self.patch_um3 = width * height * 1000.0
        self.normal_attempts = normal_attempts_per_step(p, 1.0, width * height, t_cell_fraction)
        self.cd3 = p.cd3_copies
        self.kills = 0
        self.free = 0
        self.grid = OrthogonalMooreGrid((width, height), torus=True, random=self.random)
        self.params = p
        self.set_plasma(plasma_pg_per_ml)
        cells = round(width * height * p.marrow_cellularity)
        n_blasts = round(cells * marrow_blast_fraction)
        n_tcells = round(cells * t_cell_fraction)
        where = self.random.sample(list(self.grid.all_cells.cells), cells)
        for cell in where[:n_blasts]:
            Blast(self, cell, p.cd19_median_copies * math.exp(
                p.cd19_sigma_log * self.random.gauss(0, 1)))
        for cell in where[n_blasts:n_blasts + n_tcells]:
            TCell(self, cell)
        for cell in where[n_blasts + n_tcells:]:
            NormalCell(self, cell)

    def set_plasma(self, pg_per_ml: float) -> None:
        tissue = self.params.tissue_plasma_partition * units.pg_per_ml_to_molecules_per_um3(
            pg_per_ml)
        self.entry_mean = self.c[k.P_EXIT] * tissue * self.patch_um3

    def bridging_chances(self, t: TCell, age: float) -> None:
        c, b = self.c, t.partner
        zone = 0 if t.engagement == "contact" else 1
        trimers = t.trimers()
        single_b, single_t = len(b.molecules) - trimers, len(t.molecules) - trimers
        free_cd3 = c[k.ZONE_SHARE_TCELL + zone] * max(self.cd3 - len(t.molecules), 0)
        free_cd19 = c[k.ZONE_SHARE_BLAST + zone] * max(b.cd19 - len(b.molecules), 0)

        def chance(single, share, free_other, k2d):
            if single <= 0:
                return 0.0
            total = single + trimers

            def bridged(a):
                n = (1 - (1 - share) * math.exp(-c[k.GATHER_RATE] * a)) * total
                m = free_other + trimers
                s = n + m + k2d
                x = 0.0 if n <= 0 or m <= 0 else (s - math.sqrt(max(s * s - 4 * n * m, 0))) / 2
                return x / total

            now = bridged(age)
            dt = c[k.DT_MIN]
            before = trimers / total if age <= dt + 1e-9 else bridged(age - dt)
            if now <= before or before >= 1.0:
                return 0.0
            return min(1.0, (now - before) / (1.0 - before), free_other / single)

        t.bridge_blast = chance(single_b, c[k.ZONE_SHARE_BLAST + zone], free_cd3,
                                c[k.K2D_CD3_ZONE + zone])
        t.bridge_tcell = chance(single_t, c[k.ZONE_SHARE_TCELL + zone], free_cd19,
                                c[k.K2D_CD19_ZONE + zone])

    def step(self):
        on_dt = self.c[k.KON_DT_UM3] * self.free / self.patch_um3
        bind_blast, self.release_blast = receptor_step(on_dt, self.c[k.BLAST_OFF_DT])
        bind_tcell, self.release_tcell = receptor_step(on_dt, self.c[k.TCELL_OFF_DT])
        if TCell in self.agents_by_type:
            # T cells in two rounds, no order among them (docs/model.md s.5): all propose,
            # the lowest bid wins each blast or cell claimed, then all settle.
            tcells = self.agents_by_type[TCell]
            tcells.do("propose")
            self.winners = {}
            for t in tcells:
                for target, bid in t.claims():
                    if target not in self.winners or bid < self.winners[target]:
                        self.winners[target] = bid
            tcells.do("settle")
        for kind in (Blast, NormalCell, Molecule):
            if kind in self.agents_by_type:
                self.agents_by_type[kind].shuffle_do("step")
        rng = np.random.default_rng(self.random.getrandbits(32))
        for kind, receptors, p_bind in ((Blast, None, bind_blast), (TCell, self.cd3, bind_tcell)):
            for cell in list(self.agents_by_type.get(kind, [])):
                free = math.floor(receptors or cell.cd19) - len(cell.molecules)
                if free > 0 and self.free > 0:
                    got = min(int(rng.binomial(free, p_bind)), self.free)
                    self.free -= got
                    for _ in range(got):
                        Molecule(self, blast=cell) if kind is Blast else Molecule(self, tcell=cell)
        self.free += int(rng.poisson(self.entry_mean)) - int(rng.binomial(self.free,
                                                                          self.c[k.P_EXIT]))
        for _ in range(int(rng.poisson(self.normal_attempts))):
            cell = self.grid.all_cells.select_random_cell()
            if cell.is_empty:
                NormalCell(self, cell)
