"""Blinatumomab molecules: exit, Brownian motion, binding, unbinding, internalisation
(docs/model.md s.3), then compaction and entry from plasma.

The molecule update is a pure function of the state at the start of the molecule phase and
counter-based draws, so the same body runs serially or under `prange` with identical results.
Its effects that touch shared counters (bound counts, cleared tallies) are deferred to the
serial `compact_and_count`, which also removes cleared molecules in a stable order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import rng
from ..state import (
    BLAST,
    CLEARED_EXIT,
    CLEARED_INTERNALISED,
    CLEARED_WITH_CELL,
    ENTERED,
    FREE,
    N_CLEARED_EXIT,
    N_CLEARED_INTERNALISED,
    N_CLEARED_WITH_CELL,
    ON_BLAST,
    ON_TCELL,
    TCELL,
)
from . import constants as k


def _make_molecule_update(parallel: bool):
    """Build the molecule kernel, serial or under `prange`, from one body.

    The body is written out inside the loop on purpose: a helper taking the ~15 arrays
    costs NRT reference counting per array per call (measured: 145 ns/molecule against
    11 ns inline). `parallel` is a closure variable, so Numba's cache keys the two apart.
    """

    @njit(cache=True, parallel=parallel)
    def molecule_update(
        key, c, width, height, occ_kind, occ_idx, b_voxel, b_alive, b_pbind,
        t_voxel, t_alive, t_pbind, n_molecules, m_voxel, m_state, m_cell,
        move_values, move_threshold, move_alias,
    ):
        p_exit = c[k.P_EXIT]
        p_release = c[k.P_BLAST_RELEASE]
        p_unbind_blast = c[k.P_BLAST_RELEASE] * c[k.FRACTION_UNBIND]
        p_unbind_tcell = c[k.P_TCELL_UNBIND]
        for i in prange(n_molecules):
            s = m_state[i]
            if s == FREE:
                u_exit, u_bind = rng.split32(rng.draw_bits(key, i, rng.M_EVENT))
                if u_exit < p_exit:
                    m_state[i] = CLEARED_EXIT
                    continue
                v = m_voxel[i]
                dx = rng.alias_sample(rng.draw_bits(key, i, rng.M_MOVE_X),
                                      move_values, move_threshold, move_alias)
                dy = rng.alias_sample(rng.draw_bits(key, i, rng.M_MOVE_Y),
                                      move_values, move_threshold, move_alias)
                x = (v % width + dx) % width
                y = (v // width + dy) % height
                v = y * width + x
                m_voxel[i] = v
                kind = occ_kind[v]
                if kind == BLAST:
                    b = occ_idx[v]
                    if u_bind < b_pbind[b]:
                        m_state[i] = ON_BLAST
                        m_cell[i] = b
                elif kind == TCELL:
                    t = occ_idx[v]
                    if u_bind < t_pbind[t]:
                        m_state[i] = ON_TCELL
                        m_cell[i] = t
            elif s == ON_BLAST:
                b = m_cell[i]
                if b_alive[b] == 0:
                    m_state[i] = CLEARED_WITH_CELL
                    continue
                u = rng.uniform(key, i, rng.M_EVENT)
                if u < p_unbind_blast:
                    m_state[i] = FREE
                    m_voxel[i] = b_voxel[b]
                elif u < p_release:
                    m_state[i] = CLEARED_INTERNALISED
            elif s == ON_TCELL:
                t = m_cell[i]
                if t_alive[t] == 0:
                    m_state[i] = CLEARED_WITH_CELL
                    continue
                if rng.uniform(key, i, rng.M_EVENT) < p_unbind_tcell:
                    m_state[i] = FREE
                    m_voxel[i] = t_voxel[t]
        return parallel  # uses the closure variable, which keys the cache entry

    return molecule_update


molecule_update_serial = _make_molecule_update(False)
molecule_update_parallel = _make_molecule_update(True)


@njit(cache=True)
def compact_and_count(
    c, n_molecules, m_voxel, m_state, m_cell,
    n_blasts, b_alive, b_cd19, b_bound, b_pbind,
    n_tcells, t_alive, t_bound, t_pbind, cd3_copies, counters,
):
    """Drop cleared molecules (stable), tally why, recount bound molecules per cell and set
    each cell's binding probability for the next step. Returns (molecules kept, free, bound).
    """
    for b in range(n_blasts):
        b_bound[b] = 0
    for t in range(n_tcells):
        t_bound[t] = 0
    j = 0
    n_free = 0
    for i in range(n_molecules):
        s = m_state[i]
        if s == CLEARED_EXIT:
            counters[N_CLEARED_EXIT] += 1
            continue
        if s == CLEARED_INTERNALISED:
            counters[N_CLEARED_INTERNALISED] += 1
            continue
        if s == CLEARED_WITH_CELL:
            counters[N_CLEARED_WITH_CELL] += 1
            continue
        if s == ON_BLAST:
            b_bound[m_cell[i]] += 1
        elif s == ON_TCELL:
            t_bound[m_cell[i]] += 1
        else:
            n_free += 1
        m_voxel[j] = m_voxel[i]
        m_state[j] = s
        m_cell[j] = m_cell[i]
        j += 1
    for b in range(n_blasts):
        free_receptors = b_cd19[b] - b_bound[b]
        if b_alive[b] == 1 and free_receptors > 0.0:
            b_pbind[b] = 1.0 - np.exp(-c[k.BIND_CD19_PER_RECEPTOR] * free_receptors)
        else:
            b_pbind[b] = 0.0
    for t in range(n_tcells):
        free_receptors = cd3_copies - t_bound[t]
        if t_alive[t] == 1 and free_receptors > 0.0:
            t_pbind[t] = 1.0 - np.exp(-c[k.BIND_CD3_PER_RECEPTOR] * free_receptors)
        else:
            t_pbind[t] = 0.0
    return j, n_free, j - n_free


@njit(cache=True)
def influx(key, n_new, voxels, n_molecules, m_voxel, m_state, m_cell, counters) -> int:
    """Append `n_new` free molecules at uniformly random voxels; returns the new count."""
    for q in range(n_new):
        i = n_molecules + q
        m_voxel[i] = int(rng.uniform(key, q, rng.INFLUX_VOXEL) * voxels)
        m_state[i] = FREE
        m_cell[i] = -1
    counters[ENTERED] += n_new
    return n_molecules + n_new
