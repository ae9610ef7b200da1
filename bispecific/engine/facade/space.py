"""`model.grid`: a read-only view of the patch's grid, asked as a Mesa `SingleGrid` is asked.

The patch is a periodic (torus) grid with at most one cell per voxel (docs/model.md s.1);
a position is `(x, y)`, with `x < width` and `y < height`, the same as an agent's `pos`.
The answers come from the occupancy arrays (`PatchState.occ_kind`, `occ_idx`): the view
holds no Python object per voxel and makes agent views only for the cells it returns.
Molecules are not on the grid: they sit on their cells (`Molecule.cell`).

Cells are placed and moved by the kernels only, so the methods that would place or move
one raise; `agent.remove()` takes a cell out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from mesa import Model

from ..core.state import BLAST, EMPTY, NORMAL, TCELL
from .agents import ArrayAgent, Blast, NormalCell, TCell

Position = tuple[int, int]

KIND_NAMES = {EMPTY: "empty", BLAST: "blast", TCELL: "t_cell", NORMAL: "normal"}
_VIEW_OF = {BLAST: Blast, TCELL: TCell, NORMAL: NormalCell}


class PatchGrid:
    """Read-only grid of a `BispecificModel` (see the module docstring)."""

    torus = True

    def __init__(self, model: Model) -> None:
        self._model = model

    @property
    def width(self) -> int:
        return self._model.state.width

    @property
    def height(self) -> int:
        return self._model.state.height

    # -- what is where ------------------------------------------------------------------
    def _voxel(self, pos: Position) -> int:
        x, y = self.torus_adj(pos)
        return y * self.width + x

    def __getitem__(self, pos: Position) -> ArrayAgent | None:
        """The cell at `pos`, or None if the voxel is empty."""
        return self._agent_at(self._voxel(pos))

    def _agent_at(self, voxel: int) -> ArrayAgent | None:
        s = self._model.state
        kind = int(s.occ_kind[voxel])
        if kind == EMPTY:
            return None
        return _VIEW_OF[kind].view(self._model, int(s.occ_idx[voxel]))

    def kind_at(self, pos: Position) -> str:
        """'empty', 'blast', 't_cell' or 'normal'."""
        return KIND_NAMES[int(self._model.state.occ_kind[self._voxel(pos)])]

    def is_cell_empty(self, pos: Position) -> bool:
        return self._model.state.occ_kind[self._voxel(pos)] == EMPTY

    def exists_empty_cells(self) -> bool:
        return bool((self._model.state.occ_kind == EMPTY).any())

    def get_cell_list_contents(self, cell_list: Position | Iterable[Position]) -> list:
        """The cells at the given positions (empty voxels contribute nothing)."""
        return list(self.iter_cell_list_contents(cell_list))

    def iter_cell_list_contents(self, cell_list: Position | Iterable[Position]) -> Iterator:
        if isinstance(cell_list, tuple) and len(cell_list) == 2 and all(
                isinstance(c, int | np.integer) for c in cell_list):
            cell_list = [cell_list]
        for pos in cell_list:
            agent = self[pos]
            if agent is not None:
                yield agent

    def kinds(self) -> np.ndarray:
        """What every voxel holds, as a read-only (height, width) array of the codes in
        `KIND_NAMES` (0 empty, 1 blast, 2 T cell, 3 normal cell): one array, no objects."""
        view = self._model.state.occ_kind.reshape(self.height, self.width).view()
        view.flags.writeable = False
        return view

    # -- neighbourhoods -----------------------------------------------------------------
    def out_of_bounds(self, pos: Position) -> bool:
        x, y = pos
        return not (0 <= x < self.width and 0 <= y < self.height)

    def torus_adj(self, pos: Position) -> Position:
        """The position wrapped onto the periodic grid."""
        x, y = pos
        return int(x) % self.width, int(y) % self.height

    def iter_neighborhood(self, pos: Position, moore: bool = True, include_center: bool = False,
                          radius: int = 1) -> Iterator[Position]:
        """Positions around `pos`: within `radius` steps in any direction (Moore) or along
        the axes (von Neumann, |dx| + |dy| <= radius); each position once, wrapping around."""
        if radius < 1:
            raise ValueError(f"radius = {radius}: must be at least 1")
        x0, y0 = self.torus_adj(pos)
        seen = set()
        for dy in range(-radius, radius + 1):
            for dx in range(-radius, radius + 1):
                if not moore and abs(dx) + abs(dy) > radius:
                    continue
                if dx == 0 and dy == 0 and not include_center:
                    continue
                p = ((x0 + dx) % self.width, (y0 + dy) % self.height)
                if p == (x0, y0) and not include_center:
                    continue  # a radius wider than the patch wraps back to the centre
                if p not in seen:
                    seen.add(p)
                    yield p

    def get_neighborhood(self, pos: Position, moore: bool = True, include_center: bool = False,
                         radius: int = 1) -> list[Position]:
        return list(self.iter_neighborhood(pos, moore, include_center, radius))

    def iter_neighbors(self, pos: Position, moore: bool = True, include_center: bool = False,
                       radius: int = 1) -> Iterator[ArrayAgent]:
        return self.iter_cell_list_contents(
            self.iter_neighborhood(pos, moore, include_center, radius))

    def get_neighbors(self, pos: Position, moore: bool = True, include_center: bool = False,
                      radius: int = 1) -> list[ArrayAgent]:
        """The cells around `pos` (see `iter_neighborhood`)."""
        return list(self.iter_neighbors(pos, moore, include_center, radius))

    # -- the grid is read-only ----------------------------------------------------------
    def _read_only(self, *_args, **_kwargs):
        raise TypeError("the patch grid is read-only: the kernels place and move cells "
                        "(agent.remove() takes one out)")

    place_agent = move_agent = remove_agent = swap_pos = move_to_empty = _read_only

    def __repr__(self) -> str:
        return f"PatchGrid({self.width}x{self.height}, torus)"
