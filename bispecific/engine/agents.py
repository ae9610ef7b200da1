"""Mesa agent classes for blasts, T cells, normal marrow cells and bound blinatumomab.

The state lives in the arrays of `PatchState`; an agent object is a *view* of one slot, made
on demand by `BispecificModel.agents_by_type`. Millions of molecules therefore cost no Python
objects until someone asks to look at them, and a view always reads the current state.

A `Molecule` is a molecule held by a cell: by one arm, or bridging a blast and a T cell (a
trimer). Free drug is a well-mixed pool (docs/model.md s.3.1), `model.free_molecules`.
"""

from __future__ import annotations

from typing import Any

import mesa

from .state import ENGAGEMENT_NAMES, ON_BLAST, ON_TCELL, TRIMER


class ArrayAgent(mesa.Agent):
    """A read-only view of one agent slot; not registered with the model."""

    def __init__(self, model: Any, *args: Any, **kwargs: Any) -> None:  # pragma: no cover
        raise TypeError(
            f"{type(self).__name__} agents live in the model's arrays; get them from "
            "model.agents_by_type instead of creating them")

    @classmethod
    def view(cls, model: mesa.Model, index: int) -> ArrayAgent:
        obj = cls.__new__(cls)
        obj.model = model
        obj.index = int(index)
        obj.unique_id = int(index) + 1
        return obj

    def _xy(self, voxel: int) -> tuple[int, int]:
        width = self.model.state.width
        return int(voxel % width), int(voxel // width)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(index={self.index}, pos={self.pos})"


class Blast(ArrayAgent):
    """A leukaemic blast (CD19+ unless `cd19_positive` is False)."""

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

    @property
    def pos(self) -> tuple[int, int]:
        return self._xy(self.model.state.c_voxel[self.index])

    @property
    def alive(self) -> bool:
        return bool(self.model.state.c_alive[self.index])


class TCell(ArrayAgent):
    """A CD3+ T cell: motile, forms synapses, kills serially, activates and exhausts."""

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


_STATE_NAMES = {ON_BLAST: "on_blast", ON_TCELL: "on_t_cell", TRIMER: "trimer"}


class Molecule(ArrayAgent):
    """A blinatumomab molecule held by a cell: its CD19 arm on a blast ('on_blast'), its CD3
    arm on a T cell ('on_t_cell'), or both, bridging the two ('trimer')."""

    @property
    def state(self) -> str:
        return _STATE_NAMES[int(self.model.state.m_state[self.index])]

    @property
    def blast(self) -> Blast | None:
        b = int(self.model.state.m_blast[self.index])
        return Blast.view(self.model, b) if b >= 0 else None

    @property
    def t_cell(self) -> TCell | None:
        t = int(self.model.state.m_tcell[self.index])
        return TCell.view(self.model, t) if t >= 0 else None

    @property
    def cell(self) -> Blast | TCell:
        """The cell it sits on: the blast for a trimer (its CD19 arm's cell)."""
        blast = self.blast
        return blast if blast is not None else self.t_cell

    @property
    def pos(self) -> tuple[int, int]:
        return self.cell.pos


AGENT_TYPES = (Blast, TCell, NormalCell, Molecule)
