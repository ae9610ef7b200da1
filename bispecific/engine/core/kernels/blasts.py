"""Blasts: apoptosis and contact-inhibited division (docs/model.md s.4).

`cells.cell_events` finds the few blasts whose event falls on this step; this carries them
out, in slot order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng
from ..state import BLAST, BLAST_APOPTOSES, BLAST_BIRTHS, EMPTY, NORMAL, NORMAL_DEATHS
from .cells import APOPTOSIS
from .grid import free_neighbour

_S32 = np.uint64(32)


@njit(cache=True)
def apply_blast_events(key, grid, n_blasts, blasts, c_alive, b_events, n_events,
                       counters) -> int:
    """Carry out this step's apoptoses and divisions (`b_events[:n_events]`, slot x 2 +
    kind, in slot order); returns the new slot count (`grid`, `blasts`: `state.GridArrays`,
    `BlastArrays`). A daughter takes an empty Moore neighbour, else a normal cell's place,
    searched from a random one onwards.

    A blast that dies keeps its bound counts: its molecules are cleared (or, for trimers,
    handed to the T cell) in the molecule phase, which brings the counts to zero.
    """
    width, height, occ_kind, occ_idx = grid.width, grid.height, grid.kind, grid.idx
    b_voxel, b_alive, b_cd19 = blasts.voxel, blasts.alive, blasts.cd19
    b_bound, b_trimers, b_partner = blasts.bound, blasts.trimers, blasts.partner
    n_slots = n_blasts
    for e in range(n_events):
        code = b_events[e]
        b = code >> 1
        v = b_voxel[b]
        if code & 1 == APOPTOSIS:
            b_alive[b] = 0  # an engaged T cell lets go on its next step
            occ_kind[v] = EMPTY
            occ_idx[v] = -1
            counters[BLAST_APOPTOSES] += 1
            continue
        bits = rng.draw_bits(key, b, rng.B_DAUGHTER)
        start = int(((bits >> _S32) * np.uint64(8)) >> _S32)
        dv = free_neighbour(v, start, occ_kind, width, height, EMPTY)
        if dv < 0:
            dv = free_neighbour(v, start, occ_kind, width, height, NORMAL)
            if dv >= 0:  # the daughter crowds out a normal marrow cell
                c_alive[occ_idx[dv]] = 0
                counters[NORMAL_DEATHS] += 1
        if dv >= 0 and n_slots < b_voxel.shape[0]:
            d = n_slots  # a new slot: its wait is drawn on the next step (cells.py)
            n_slots += 1
            b_voxel[d] = dv
            b_alive[d] = 1
            b_cd19[d] = b_cd19[b]
            b_bound[d] = 0
            b_trimers[d] = 0
            b_partner[d] = -1
            occ_kind[dv] = BLAST
            occ_idx[dv] = d
            counters[BLAST_BIRTHS] += 1
    return n_slots
