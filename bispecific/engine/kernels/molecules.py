"""Blinatumomab molecules: exit, Brownian motion, binding, unbinding, internalisation
(docs/model.md s.3), then bookkeeping and entry from plasma.

Data flow of the molecule phase, all deterministic whatever the number of threads:

1. `molecule_update` (parallel over a fixed number of chunks): each molecule's new state
   is a pure function of the state at the start of the phase and counter-based draws.
   Changes of a cell's bound count are written as events into the chunk's own slice of
   `events`; per-chunk tallies go to `chunk_stats`. A cleared molecule becomes a hole.
2. `apply_events` (serial, over the events only): bound counts and counters.
3. `binding_probabilities` (parallel over cells): each cell's chance to bind a molecule.
4. `compact` (serial, only when holes pass a tenth of the slots): drops holes, stable.
5. `influx`: new free molecules appended.

A cell that dies zeroes its own bound count (cell kernels); its molecules are cleared in
step 1 without events.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import rng
from ..state import (
    BLAST,
    CLEARED,
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

_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)

# Event codes (low 2 bits of an event; the cell slot is in the bits above).
BLAST_GAINS = 0
BLAST_LOSES = 1
TCELL_GAINS = 2
TCELL_LOSES = 3

# Columns of chunk_stats.
EVENTS = 0
FREE_AFTER = 1
EXITS = 2
INTERNALISED = 3
WITH_CELL = 4


def _make_molecule_update(parallel: bool):
    """Build the molecule kernel, serial or under `prange`, from one body.

    The body is written out inside the loop on purpose: a helper taking arrays costs Numba's
    reference counting per array per call (measured: 145 ns/molecule against 11 ns inline).
    `parallel` is a closure variable, so Numba's cache keys the two apart.
    """

    @njit(cache=True, parallel=parallel)
    def molecule_update(
        key, step, c, width, height, occ_kind, occ_idx, b_voxel, b_alive, b_pbind,
        t_voxel, t_alive, t_pbind, n_molecules, m_voxel, m_state, m_cell, m_release,
        move_values, move_threshold, move_alias, events, chunk_stats,
    ):
        p_exit = c[k.P_EXIT]
        p_release_blast = c[k.P_BLAST_RELEASE]
        fraction_unbind = c[k.FRACTION_UNBIND]
        p_release_tcell = c[k.P_TCELL_UNBIND]
        n_columns = move_values.shape[0]
        n_chunks = chunk_stats.shape[0]
        size = (n_molecules + n_chunks - 1) // n_chunks
        for ch in prange(n_chunks):
            lo = ch * size
            hi = min(n_molecules, lo + size)
            n_events = 0
            n_free = 0
            exits = 0
            internalised = 0
            with_cell = 0
            for i in range(lo, hi):
                s = m_state[i]
                if s == FREE:
                    u_exit, u_bind = rng.split32(rng.draw_bits(key, i, rng.M_EVENT))
                    if u_exit < p_exit:
                        m_state[i] = CLEARED
                        exits += 1
                        continue
                    v = m_voxel[i]
                    move = rng.draw_bits(key, i, rng.M_MOVE)  # high 32 bits: x; low: y
                    col, coin = rng.alias_column(move >> _S32, n_columns)
                    dx = move_values[col] if coin < move_threshold[col] else move_alias[col]
                    col, coin = rng.alias_column(move & _LOW32, n_columns)
                    dy = move_values[col] if coin < move_threshold[col] else move_alias[col]
                    x = (v % width + dx) % width
                    y = (v // width + dy) % height
                    v = y * width + x
                    m_voxel[i] = v
                    kind = occ_kind[v]
                    bound = False
                    if kind == BLAST:
                        b = occ_idx[v]
                        if u_bind < b_pbind[b]:
                            bound = True
                            m_state[i] = ON_BLAST
                            m_cell[i] = b
                            m_release[i] = step + rng.geometric_steps(
                                rng.uniform(key, i, rng.M_BIND), p_release_blast)
                            events[lo + n_events] = b * 4 + BLAST_GAINS
                            n_events += 1
                    elif kind == TCELL:
                        t = occ_idx[v]
                        if u_bind < t_pbind[t]:
                            bound = True
                            m_state[i] = ON_TCELL
                            m_cell[i] = t
                            m_release[i] = step + rng.geometric_steps(
                                rng.uniform(key, i, rng.M_BIND), p_release_tcell)
                            events[lo + n_events] = t * 4 + TCELL_GAINS
                            n_events += 1
                    if not bound:
                        n_free += 1
                elif s == ON_BLAST:
                    b = m_cell[i]
                    if b_alive[b] == 0:
                        m_state[i] = CLEARED
                        with_cell += 1
                    elif step >= m_release[i]:
                        events[lo + n_events] = b * 4 + BLAST_LOSES
                        n_events += 1
                        # Unbinding and internalisation compete: pick one by their rates.
                        if rng.uniform(key, i, rng.M_EVENT) < fraction_unbind:
                            m_state[i] = FREE
                            m_voxel[i] = b_voxel[b]
                            n_free += 1
                        else:
                            m_state[i] = CLEARED
                            internalised += 1
                elif s == ON_TCELL:
                    t = m_cell[i]
                    if t_alive[t] == 0:
                        m_state[i] = CLEARED
                        with_cell += 1
                    elif step >= m_release[i]:
                        events[lo + n_events] = t * 4 + TCELL_LOSES
                        n_events += 1
                        m_state[i] = FREE
                        m_voxel[i] = t_voxel[t]
                        n_free += 1
            chunk_stats[ch, EVENTS] = n_events
            chunk_stats[ch, FREE_AFTER] = n_free
            chunk_stats[ch, EXITS] = exits
            chunk_stats[ch, INTERNALISED] = internalised
            chunk_stats[ch, WITH_CELL] = with_cell
        return parallel  # uses the closure variable, which keys the cache entry

    return molecule_update


molecule_update_serial = _make_molecule_update(False)
molecule_update_parallel = _make_molecule_update(True)


@njit(cache=True)
def apply_events(n_molecules, events, chunk_stats, b_bound, t_bound, counters):
    """Apply the chunks' binding events to the bound counts; tally clearances.

    Returns (free molecules, molecules cleared this step). Work is O(events + chunks).
    """
    n_chunks = chunk_stats.shape[0]
    size = (n_molecules + n_chunks - 1) // n_chunks
    n_free = 0
    cleared = 0
    for ch in range(n_chunks):
        lo = ch * size
        for e in range(lo, lo + chunk_stats[ch, EVENTS]):
            code = events[e]
            cell = code >> 2
            kind = code & 3
            if kind == BLAST_GAINS:
                b_bound[cell] += 1
            elif kind == BLAST_LOSES:
                b_bound[cell] -= 1
            elif kind == TCELL_GAINS:
                t_bound[cell] += 1
            else:
                t_bound[cell] -= 1
        n_free += chunk_stats[ch, FREE_AFTER]
        counters[N_CLEARED_EXIT] += chunk_stats[ch, EXITS]
        counters[N_CLEARED_INTERNALISED] += chunk_stats[ch, INTERNALISED]
        counters[N_CLEARED_WITH_CELL] += chunk_stats[ch, WITH_CELL]
        cleared += chunk_stats[ch, EXITS] + chunk_stats[ch, INTERNALISED] + chunk_stats[
            ch, WITH_CELL]
    return n_free, cleared


def _make_binding_probabilities(parallel: bool):
    @njit(cache=True, parallel=parallel)
    def binding_probabilities(c, n_blasts, b_alive, b_cd19, b_bound, b_pbind,
                              n_tcells, t_alive, t_bound, t_pbind, cd3_copies):
        """Each cell's chance to bind a molecule in its voxel next step: 1 - exp(-x R_free)."""
        per19 = c[k.BIND_CD19_PER_RECEPTOR]
        per3 = c[k.BIND_CD3_PER_RECEPTOR]
        for b in prange(n_blasts):
            free_receptors = b_cd19[b] - b_bound[b]
            if b_alive[b] == 1 and free_receptors > 0.0:
                b_pbind[b] = 1.0 - np.exp(-per19 * free_receptors)
            else:
                b_pbind[b] = 0.0
        for t in prange(n_tcells):
            free_receptors = cd3_copies - t_bound[t]
            if t_alive[t] == 1 and free_receptors > 0.0:
                t_pbind[t] = 1.0 - np.exp(-per3 * free_receptors)
            else:
                t_pbind[t] = 0.0
        return parallel

    return binding_probabilities


binding_probabilities_serial = _make_binding_probabilities(False)
binding_probabilities_parallel = _make_binding_probabilities(True)


@njit(cache=True)
def compact(n_molecules, m_voxel, m_state, m_cell, m_release) -> int:
    """Remove holes, keeping order; returns the new slot count."""
    j = 0
    for i in range(n_molecules):
        if m_state[i] == CLEARED:
            continue
        if j != i:
            m_voxel[j] = m_voxel[i]
            m_state[j] = m_state[i]
            m_cell[j] = m_cell[i]
            m_release[j] = m_release[i]
        j += 1
    return j


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
