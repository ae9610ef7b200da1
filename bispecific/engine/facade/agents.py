"""Mesa agent classes for blasts, T cells, normal marrow cells and bound blinatumomab.

The state lives in the arrays of `PatchState`; an agent object is a *view* of one slot, made
on demand by `BispecificModel.agents_by_type`. Millions of molecules therefore cost no Python
objects until someone asks to look at them, and a view always reads the current state.

A `Molecule` is a molecule held by a cell: by one arm, or bridging a blast and a T cell (a
trimer). Free drug is a well-mixed pool (docs/model.md s.3.1), `model.free_molecules`.

Views behave as Mesa agents do:
- two views of the same agent are equal and hash alike, however and whenever they were
  made (same model, type and slot);
- `unique_id` is unique across all agents of a model and never reused: cells keep their
  slot for life, and a molecule's id carries the step it was listed after (below);
- `remove()` removes the agent through the arrays (`bispecific.engine.facade.removal`);
- `step()` and `advance()` raise: the kernels advance every agent together in
  `model.step()`, so `agents.do("step")` would otherwise do nothing without saying so.

Bound molecules are counts on the cells that hold them (a cell's single-arm molecules are
exchangeable, docs/model.md s.3.2); `model.molecule_rows()` lists them one by one after each
step, and a `Molecule` view is a row of that list. A view is therefore valid until the next
step; after it, reading the view raises `StaleAgentView` instead of reading another
molecule. Removals between steps keep the other rows (a removed molecule reads as cleared).
Cell views stay valid for good (a dead cell reads as dead).
"""

from __future__ import annotations

from typing import Any

import mesa

from ..core.state import CLEARED, ENGAGEMENT_NAMES, ON_BLAST, ON_TCELL, TRIMER
from . import removal

# unique_id = N_TYPES * serial + type code: disjoint across types, and >= 1 as in Mesa.
N_TYPES = 4


class StaleAgentView(RuntimeError):
    """A molecule view made before the last step (its row may be another molecule now)."""


class ArrayAgent(mesa.Agent):
    """A view of one agent slot in the model's arrays (see the module docstring)."""

    TYPE_CODE = 0

    def __init__(self, model: Any, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            f"{type(self).__name__} agents live in the model's arrays; get them from "
            "model.agents_by_type instead of creating them")

    @classmethod
    def view(cls, model: mesa.Model, index: int) -> ArrayAgent:
        obj = cls.__new__(cls)
        obj.model = model
        obj.index = int(index)
        return obj

    @property
    def unique_id(self) -> int:
        return N_TYPES * self.index + self.TYPE_CODE

    def _key(self) -> tuple:
        return (type(self), self.index)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArrayAgent):
            return NotImplemented
        return other.model is self.model and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def step(self) -> None:
        raise TypeError(
            f"{type(self).__name__} agents cannot step one by one: the kernels advance every "
            "agent together in model.step()")

    def advance(self) -> None:
        raise TypeError(
            f"{type(self).__name__} agents cannot advance one by one: the kernels advance "
            "every agent together in model.step()")

    def _xy(self, voxel: int) -> tuple[int, int]:
        width = self.model.state.width
        return int(voxel % width), int(voxel // width)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(index={self.index}, pos={self.pos})"


class Blast(ArrayAgent):
    """A leukaemic blast (CD19+ unless `cd19_positive` is False)."""

    TYPE_CODE = 1

    def remove(self) -> None:
        """Kill the blast (counted as an apoptosis); its engaged T cell lets go."""
        removal.remove_blast(self.model, self.index)

    @property
    def pos(self) -> tuple[int, int]:
        return self._xy(self.model.state.b_voxel[self.index])

    @property
    def alive(self) -> bool:
        return bool(self.model.state.b_alive[self.index])

    @property
    def cd19_copies(self) -> float:
        return float(self.model.state.b_cd19[self.index])

    @property
    def cd19_positive(self) -> bool:
        return self.cd19_copies > 0.0

    @property
    def bound_molecules(self) -> int:
        return int(self.model.state.b_bound[self.index])

    @property
    def engaged(self) -> bool:
        """In contact or in a synapse with a T cell."""
        return bool(self.model.state.b_partner[self.index] >= 0)


class NormalCell(ArrayAgent):
    """A normal nucleated marrow cell (haematopoiesis): it holds space and turns over."""

    TYPE_CODE = 3

    def remove(self) -> None:
        """The cell dies (counted as a normal-cell death)."""
        removal.remove_normal(self.model, self.index)

    @property
    def pos(self) -> tuple[int, int]:
        return self._xy(self.model.state.c_voxel[self.index])

    @property
    def alive(self) -> bool:
        return bool(self.model.state.c_alive[self.index])


class TCell(ArrayAgent):
    """A CD3+ T cell: motile, forms synapses, kills serially, activates and exhausts."""

    TYPE_CODE = 2

    def remove(self) -> None:
        """Kill the T cell (counted as a T-cell death); its partner blast is let go."""
        removal.remove_tcell(self.model, self.index)

    @property
    def pos(self) -> tuple[int, int]:
        return self._xy(self.model.state.t_voxel[self.index])

    @property
    def alive(self) -> bool:
        return bool(self.model.state.t_alive[self.index])

    @property
    def engagement(self) -> str:
        """'scanning', 'contact', 'lytic synapse' or 'failed synapse'."""
        return ENGAGEMENT_NAMES[int(self.model.state.t_engaged[self.index])]

    @property
    def in_synapse(self) -> bool:
        return self.engagement.endswith("synapse")

    @property
    def trimers(self) -> int:
        """Drug bridges between this T cell and its partner blast."""
        return int(self.model.state.t_trimers[self.index])

    @property
    def partner(self) -> Blast | None:
        b = int(self.model.state.t_partner[self.index])
        return Blast.view(self.model, b) if b >= 0 else None

    @property
    def kills(self) -> int:
        return int(self.model.state.t_kills[self.index])

    @property
    def activation(self) -> float:
        return float(self.model.state.t_activation[self.index])

    @property
    def exhaustion(self) -> float:
        return float(self.model.state.t_exhaustion[self.index])

    @property
    def bound_molecules(self) -> int:
        return int(self.model.state.t_bound[self.index])


_STATE_NAMES = {ON_BLAST: "on_blast", ON_TCELL: "on_t_cell", TRIMER: "trimer",
                CLEARED: "cleared"}


class Molecule(ArrayAgent):
    """A blinatumomab molecule held by a cell: its CD19 arm on a blast ('on_blast'), its CD3
    arm on a T cell ('on_t_cell'), or both, bridging the two ('trimer').

    Valid until the next step (module docstring)."""

    TYPE_CODE = 4

    @classmethod
    def view(cls, model: mesa.Model, index: int) -> Molecule:
        obj = super().view(model, index)
        obj.epoch = model.molecule_epoch
        obj._serial = model.molecule_id_base + obj.index
        return obj

    @property
    def unique_id(self) -> int:
        return N_TYPES * self._serial + self.TYPE_CODE

    def _key(self) -> tuple:
        return (type(self), self.index, self.epoch)

    def _row(self) -> int:
        if self.epoch != self.model.molecule_epoch:
            raise StaleAgentView(
                f"molecule view {self.index} was made before the last step; get a fresh "
                "view from model.agents_by_type[Molecule]")
        return self.index

    def remove(self) -> None:
        """The molecule leaves the patch (counted as cleared by exit)."""
        rows, i = self.model.molecule_rows(), self._row()
        state = int(rows.state[i])
        if state == CLEARED:
            raise removal.AgentGone(
                f"molecule {i} is no longer bound: it cannot be removed again")
        removal.remove_molecule(self.model, state, int(rows.blast[i]), int(rows.tcell[i]))
        rows.state[i] = CLEARED

    @property
    def state(self) -> str:
        return _STATE_NAMES[int(self.model.molecule_rows().state[self._row()])]

    @property
    def blast(self) -> Blast | None:
        b = int(self.model.molecule_rows().blast[self._row()])
        return Blast.view(self.model, b) if b >= 0 else None

    @property
    def t_cell(self) -> TCell | None:
        t = int(self.model.molecule_rows().tcell[self._row()])
        return TCell.view(self.model, t) if t >= 0 else None

    @property
    def cell(self) -> Blast | TCell:
        """The cell it sits on: the blast for a trimer (its CD19 arm's cell)."""
        blast = self.blast
        return blast if blast is not None else self.t_cell

    @property
    def pos(self) -> tuple[int, int] | None:
        """Its cell's position; None once the molecule is cleared (unbound or gone)."""
        if self.model.molecule_rows().state[self._row()] == CLEARED:
            return None
        return self.cell.pos

    def __repr__(self) -> str:
        if self.epoch != self.model.molecule_epoch:
            return f"Molecule(index={self.index}, stale)"
        return super().__repr__()


AGENT_TYPES = (Blast, TCell, NormalCell, Molecule)
