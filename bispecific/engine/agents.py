"""Mesa agent classes for blasts, T cells and blinatumomab molecules.

The state lives in the arrays of `PatchState`; an agent object is a *view* of one slot, made
on demand by `BispecificModel.agents_by_type`. Millions of molecules therefore cost no Python
objects until someone asks to look at them, and a view always reads the current state.
"""

from __future__ import annotations

from typing import Any

import mesa

from .state import FREE, ON_BLAST, ON_TCELL


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
        return bool(self.model.state.b_engaged[self.index])


class TCell(ArrayAgent):
    """A CD3+ T cell: motile, forms synapses, kills serially, activates and exhausts."""

    @property
    def pos(self) -> tuple[int, int]:
        return self._xy(self.model.state.t_voxel[self.index])

    @property
    def alive(self) -> bool:
        return bool(self.model.state.t_alive[self.index])

    @property
    def in_synapse(self) -> bool:
        return bool(self.model.state.t_partner[self.index] >= 0)

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


_STATE_NAMES = {FREE: "free", ON_BLAST: "bound_cd19", ON_TCELL: "bound_cd3"}


class Molecule(ArrayAgent):
    """One blinatumomab molecule: free, bound to a blast's CD19, or bound to a T cell's CD3."""

    @property
    def state(self) -> str:
        return _STATE_NAMES[int(self.model.state.m_state[self.index])]

    @property
    def cell(self) -> Blast | TCell | None:
        s = int(self.model.state.m_state[self.index])
        slot = int(self.model.state.m_cell[self.index])
        if s == ON_BLAST:
            return Blast.view(self.model, slot)
        if s == ON_TCELL:
            return TCell.view(self.model, slot)
        return None

    @property
    def pos(self) -> tuple[int, int]:
        cell = self.cell
        if cell is not None:
            return cell.pos
        return self._xy(self.model.state.m_voxel[self.index])
