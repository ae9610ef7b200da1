"""Normal marrow cells: turnover, and production into free space (docs/model.md s.6)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng
from ..state import EMPTY, NORMAL, NORMAL_BIRTHS, NORMAL_DEATHS

_S32 = np.uint64(32)


@njit(cache=True)
def apply_turnover_events(occ_kind, occ_idx, c_voxel, c_alive, c_events, n_events,
                          counters) -> None:
    """The normal cells whose turnover falls on this step (`cells.cell_events`,
    `c_events[:n_events]`) leave, in slot order; one crowded out by a dividing blast earlier
    in the step is already gone."""
    for e in range(n_events):
        i = c_events[e]
        if c_alive[i] == 1:
            c_alive[i] = 0
            v = c_voxel[i]
            occ_kind[v] = EMPTY
            occ_idx[v] = -1
            counters[NORMAL_DEATHS] += 1


@njit(cache=True)
def normal_production(key, mean_attempts, voxels, occ_kind, occ_idx, n_normal, c_voxel,
                      c_alive, counters) -> int:
    """Poisson(mean_attempts) new cells at uniformly random voxels, made where the voxel is
    empty; returns the new slot count."""
    attempts = rng.poisson(key, 0, rng.NORMAL_PRODUCTION, mean_attempts)
    n_slots = n_normal
    for j in range(attempts):
        bits = rng.draw_bits(key, j, rng.NORMAL_VOXEL)
        v = int(((bits >> _S32) * np.uint64(voxels)) >> _S32)
        if occ_kind[v] == EMPTY and n_slots < c_voxel.shape[0]:
            c_voxel[n_slots] = v
            c_alive[n_slots] = 1
            occ_kind[v] = NORMAL
            occ_idx[v] = n_slots
            n_slots += 1
            counters[NORMAL_BIRTHS] += 1
    return n_slots
