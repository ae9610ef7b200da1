"""Neighbour look-ups on the periodic grid (docs/model.md s.1)."""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def neighbour(voxel: int, direction: int, width: int, height: int) -> int:
    """The voxel next to `voxel` in `direction` (0-3 sides, 4-7 corners), wrapping around.

    One division (for x and y); the wrap is a comparison, not a modulo: integer division by
    a width known only at run time costs tens of cycles, and this is called for every T
    cell in every step.
    """
    y = voxel // width
    x = voxel - y * width
    if direction == 0:
        x += 1
    elif direction == 1:
        x -= 1
    elif direction == 2:
        y += 1
    elif direction == 3:
        y -= 1
    elif direction == 4:
        x += 1
        y += 1
    elif direction == 5:
        x += 1
        y -= 1
    elif direction == 6:
        x -= 1
        y += 1
    else:
        x -= 1
        y -= 1
    if x >= width:
        x -= width
    elif x < 0:
        x += width
    if y >= height:
        y -= height
    elif y < 0:
        y += height
    return y * width + x


@njit(cache=True, inline="always")
def free_neighbour(voxel: int, start: int, occ_kind, width: int, height: int, kind: int) -> int:
    """The first Moore neighbour holding `kind` (e.g. EMPTY), searching from direction
    `start` onwards; -1 if there is none."""
    for i in range(8):
        v = neighbour(voxel, (start + i) & 7, width, height)
        if occ_kind[v] == kind:
            return v
    return -1
