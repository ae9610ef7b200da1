"""The rules of docs/model.md written as an idiomatic Mesa 3 model, for the benchmark.

This is how the Mesa documentation teaches a model: `CellAgent` subclasses on an
`OrthogonalMooreGrid` (a torus), one Python object per blast, T cell and molecule, and
`agents_by_type[...].shuffle_do("step")` each step. It follows the same rules and per-step
probabilities as the Numba kernels (from `kernel_constants`); it is not used for results.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid

from bispecific import units
from bispecific.engine.kernels import constants as k
from bispecific.engine.kernels.constants import displacement_sigma_voxels, kernel_constants
from bispecific.engine.parameters import ModelParameters


class Blast(CellAgent):
    def __init__(self, model, cell, cd19):
        super().__init__(model)
        self.cell = cell
        self.cd19 = cd19
        self.bound = 0
        self.engaged = False
        self.alive = True

    def die(self):
        self.alive = False
        self.engaged = False
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
            target = self.cell.neighborhood.select_random_cell()
            if m.holds_no_cell(target):
                Blast(m, target, self.cd19)


class TCell(CellAgent):
    def __init__(self, model, cell, activation=0.0, exhaustion=0.0):
        super().__init__(model)
        self.cell = cell
        self.partner = None
        self.timer = 0.0
        self.will_kill = False
        self.activation = activation
        self.exhaustion = exhaustion
        self.bound = 0
        self.kills = 0
        self.alive = True

    def step(self):
        m, c = self.model, self.model.c
        self.activation *= c[k.ACTIVATION_DECAY]
        self.exhaustion *= c[k.EXHAUSTION_DECAY]
        if self.partner is not None:
            if not self.partner.alive:
                self.partner = None
            else:
                self.timer -= c[k.DT_MIN]
                if self.timer <= 1e-9:
                    if self.will_kill:
                        self.partner.die()
                        m.kills += 1
                        self.kills += 1
                    self.partner.engaged = False
                    self.partner = None
        else:
            target = self.cell.neighborhood.select_random_cell()
            blast = m.blast_in(target)
            formed = False
            if blast is not None and not blast.engaged and blast.cd19 > 0:
                bonds = blast.bound + self.bound
                p = 1.0 - math.exp(-c[k.ADHESION_PER_BOND_STEP] * bonds)
                if bonds > 0 and m.random.random() < p:
                    formed = True
                    blast.engaged = True
                    self.partner = blast
                    self.will_kill = m.random.random() < c[k.KILL_PROBABILITY] * (
                        1 - self.exhaustion)
                    self.timer = c[k.KILL_TIME_MIN] if self.will_kill else c[
                        k.FAILED_SYNAPSE_MIN]
                    self.activation = min(1.0, self.activation + c[k.ACTIVATION_PER_SYNAPSE])
                    self.exhaustion = min(1.0, self.exhaustion + c[k.EXHAUSTION_PER_SYNAPSE])
            if not formed and m.random.random() < c[k.P_MOVE]:
                x, y = self.cell.coordinate
                dx, dy = m.random.choice(((1, 0), (-1, 0), (0, 1), (0, -1)))
                target = m.grid[((x + dx) % m.width, (y + dy) % m.height)]
                if m.holds_no_cell(target):
                    self.cell = target
        if self.partner is None and self.activation > 0:
            rate = c[k.PROLIFERATION_PER_STEP] * self.activation * (1 - self.exhaustion)
            if m.random.random() < 1 - math.exp(-rate):
                target = self.cell.neighborhood.select_random_cell()
                if m.holds_no_cell(target):
                    TCell(m, target, self.activation, self.exhaustion)
        rate = c[k.DEATH_PER_STEP] + c[k.AICD_PER_STEP] * self.activation
        if m.random.random() < 1 - math.exp(-rate):
            self.alive = False
            if self.partner is not None:
                self.partner.engaged = False
            self.remove()
            self.cell = None


class Molecule(CellAgent):
    def __init__(self, model, cell):
        super().__init__(model)
        self.cell = cell
        self.on = None

    def step(self):
        m, c = self.model, self.model.c
        if self.on is None:
            if m.random.random() < c[k.P_EXIT]:
                self.remove()
                self.cell = None
                return
            x, y = self.cell.coordinate
            dx = round(m.random.gauss(0.0, m.sigma))
            dy = round(m.random.gauss(0.0, m.sigma))
            self.cell = m.grid[((x + dx) % m.width, (y + dy) % m.height)]
            for agent in self.cell.agents:
                if isinstance(agent, Blast):
                    free, per = agent.cd19 - agent.bound, c[k.BIND_CD19_PER_RECEPTOR]
                elif isinstance(agent, TCell):
                    free, per = m.cd3 - agent.bound, c[k.BIND_CD3_PER_RECEPTOR]
                else:
                    continue
                if free > 0 and m.random.random() < 1 - math.exp(-per * free):
                    self.on = agent
                    agent.bound += 1
                break
        elif not self.on.alive:
            self.remove()
            self.cell = None
        else:
            on_blast = isinstance(self.on, Blast)
            p = c[k.P_BLAST_RELEASE] if on_blast else c[k.P_TCELL_UNBIND]
            u = m.random.random()
            if u < p:
                self.on.bound -= 1
                self.cell = self.on.cell
                if on_blast and u >= p * c[k.FRACTION_UNBIND]:
                    self.remove()
                    self.cell = None
                    return
                self.on = None


class IdiomaticMesaModel(mesa.Model):
    """The patch as the Mesa docs would write it (a benchmark baseline)."""

    def __init__(self, width=32, height=32, plasma_pg_per_ml=525.0, marrow_blast_fraction=0.5,
                 t_cells_per_blast=0.1, seed=None):
        super().__init__(seed=seed)
        p = ModelParameters()
        self.width, self.height = width, height
        self.c = kernel_constants(p, 1.0, 10.0)
        self.sigma = displacement_sigma_voxels(p, 1.0, 10.0)
        self.cd3 = p.cd3_copies
        self.kills = 0
        self.grid = OrthogonalMooreGrid((width, height), torus=True, random=self.random)
        self.params = p
        self.set_plasma(plasma_pg_per_ml)
        n_blasts = round(width * height * p.marrow_cellularity * marrow_blast_fraction)
        cells = self.random.sample(list(self.grid.all_cells.cells),
                                   n_blasts + round(n_blasts * t_cells_per_blast))
        for cell in cells[:n_blasts]:
            Blast(self, cell, p.cd19_median_copies * math.exp(
                p.cd19_sigma_log * self.random.gauss(0, 1)))
        for cell in cells[n_blasts:]:
            TCell(self, cell)

    def set_plasma(self, pg_per_ml: float) -> None:
        tissue = self.params.tissue_plasma_partition * units.pg_per_ml_to_molecules_per_um3(
            pg_per_ml)
        self.influx_mean = self.c[k.P_EXIT] * tissue * self.width * self.height * 1000.0

    def blast_in(self, cell):
        for agent in cell.agents:
            if isinstance(agent, Blast):
                return agent
        return None

    def holds_no_cell(self, cell):
        return not any(isinstance(a, Blast | TCell) for a in cell.agents)

    def step(self):
        for kind in (TCell, Blast, Molecule):
            if kind in self.agents_by_type:
                self.agents_by_type[kind].shuffle_do("step")
        for _ in range(np.random.default_rng(self.random.getrandbits(32)).poisson(
                self.influx_mean)):
            Molecule(self, self.grid.all_cells.select_random_cell())
