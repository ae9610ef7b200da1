"""Blinatumomab: bound molecules (agents) and the free pool (docs/model.md s.3).

Data flow of the molecule phase, deterministic whatever the number of threads:

1. `molecule_update` (parallel over a fixed number of chunks): each bound molecule's new
   state is a pure function of the state at the start of the phase and counter-based draws:
   release (to the pool, or internalised), bridging into a trimer with its cell's engaged
   partner, dissolution of trimers whose pair disengaged, clearance with a dead cell. Every
   change of a cell's counts is written as one event into the chunk's own slice of `events`;
   per-chunk tallies go to `chunk_stats`. A cleared molecule becomes a hole.
2. `apply_events` (serial, over the events only): bound and trimer counts, counters.
3. `binding_counts` then `bind_and_exchange` (serial, over cells): each cell binds molecules
   from the pool; the new ones are appended as agents; then the pool's exit and entry.
4. `compact` (serial, only when holes pass a tenth of the slots): drops holes, stable.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .. import rng
from ..state import (
    BINDINGS,
    CLEARED,
    ENTERED,
    N_CLEARED_EXIT,
    N_CLEARED_INTERNALISED,
    N_CLEARED_WITH_CELL,
    ON_BLAST,
    ON_TCELL,
    TRIMER,
    TRIMERS_FORMED,
    UNBINDINGS,
)
from . import constants as k

# Event codes (low 3 bits); the blast slot is in bits 3-32, the T-cell slot in bits 33-62.
BLAST_LOSES = 0  # a molecule held by the blast alone leaves it
TCELL_LOSES = 1  # a molecule held by the T cell alone leaves it
BRIDGED_FROM_BLAST = 2  # a molecule on the blast captured the T cell's CD3
BRIDGED_FROM_TCELL = 3  # a molecule on the T cell captured the blast's CD19
TRIMER_TO_BLAST = 4  # a trimer let go of the T cell
TRIMER_TO_TCELL = 5  # a trimer let go of the blast
TRIMER_CLEARED = 6  # both cells died

_B_SHIFT = np.int64(3)
_T_SHIFT = np.int64(33)
_SLOT_MASK = np.int64((1 << 30) - 1)

# Columns of chunk_stats.
EVENTS = 0
UNBOUND = 1
INTERNALISED = 2
WITH_CELL = 3
FORMED = 4
N_STATS = 5


@njit(cache=True, inline="always")
def _event(code: int, b: int, t: int) -> np.int64:
    return np.int64(code) | (np.int64(max(b, 0)) << _B_SHIFT) | (np.int64(max(t, 0)) << _T_SHIFT)


def _make_molecule_update(parallel: bool):
    """Build the bound-molecule kernel, serial or under `prange`, from one body.

    The body is written out inside the loop on purpose: a helper taking arrays costs Numba's
    reference counting per array per call (measured: 145 ns/molecule against 11 ns inline).
    `parallel` is a closure variable, so Numba's cache keys the two apart.
    """

    @njit(cache=True, parallel=parallel)
    def molecule_update(
        key, step, c, p_release_blast, p_release_tcell, b_alive, b_partner, t_alive,
        t_partner, t_bridge_blast, t_bridge_tcell, n_molecules, m_state, m_blast, m_tcell,
        m_release, events, chunk_stats,
    ):
        fraction_unbind = c[k.FRACTION_UNBIND]
        keeps_blast = c[k.P_TRIMER_KEEPS_BLAST]
        n_chunks = chunk_stats.shape[0]
        size = (n_molecules + n_chunks - 1) // n_chunks
        for ch in prange(n_chunks):
            lo = ch * size
            hi = min(n_molecules, lo + size)
            n_events = 0
            unbound = 0
            internalised = 0
            with_cell = 0
            formed = 0
            for i in range(lo, hi):
                s = m_state[i]
                if s == ON_BLAST:
                    b = m_blast[i]
                    if b_alive[b] == 0:
                        m_state[i] = CLEARED
                        with_cell += 1
                        events[lo + n_events] = _event(BLAST_LOSES, b, 0)
                        n_events += 1
                    elif step >= m_release[i]:
                        m_state[i] = CLEARED
                        events[lo + n_events] = _event(BLAST_LOSES, b, 0)
                        n_events += 1
                        # Unbinding and internalisation compete: pick one by their rates.
                        if rng.uniform(key, i, rng.M_EVENT) < fraction_unbind:
                            unbound += 1
                        else:
                            internalised += 1
                    else:
                        t = b_partner[b]
                        if t >= 0 and t_alive[t] == 1 and (
                                rng.uniform(key, i, rng.M_BRIDGE) < t_bridge_blast[t]):
                            m_state[i] = TRIMER
                            m_tcell[i] = t
                            formed += 1
                            events[lo + n_events] = _event(BRIDGED_FROM_BLAST, b, t)
                            n_events += 1
                elif s == ON_TCELL:
                    t = m_tcell[i]
                    if t_alive[t] == 0:
                        m_state[i] = CLEARED
                        with_cell += 1
                        events[lo + n_events] = _event(TCELL_LOSES, 0, t)
                        n_events += 1
                    elif step >= m_release[i]:
                        m_state[i] = CLEARED
                        unbound += 1
                        events[lo + n_events] = _event(TCELL_LOSES, 0, t)
                        n_events += 1
                    else:
                        b = t_partner[t]
                        if b >= 0 and b_alive[b] == 1 and (
                                rng.uniform(key, i, rng.M_BRIDGE) < t_bridge_tcell[t]):
                            m_state[i] = TRIMER
                            m_blast[i] = b
                            formed += 1
                            events[lo + n_events] = _event(BRIDGED_FROM_TCELL, b, t)
                            n_events += 1
                elif s == TRIMER:
                    b = m_blast[i]
                    t = m_tcell[i]
                    blast_lives = b_alive[b] == 1
                    tcell_lives = t_alive[t] == 1
                    if blast_lives and tcell_lives and t_partner[t] == b:
                        continue  # the pair is still engaged: the bridge holds
                    if not blast_lives and not tcell_lives:
                        m_state[i] = CLEARED
                        with_cell += 1
                        code = TRIMER_CLEARED
                    elif blast_lives and (not tcell_lives or rng.uniform(
                            key, i, rng.M_EVENT) < keeps_blast):
                        m_state[i] = ON_BLAST
                        m_tcell[i] = -1
                        m_release[i] = step + rng.geometric_steps(
                            rng.uniform(key, i, rng.M_RELEASE), p_release_blast)
                        code = TRIMER_TO_BLAST
                    else:
                        m_state[i] = ON_TCELL
                        m_blast[i] = -1
                        m_release[i] = step + rng.geometric_steps(
                            rng.uniform(key, i, rng.M_RELEASE), p_release_tcell)
                        code = TRIMER_TO_TCELL
                    events[lo + n_events] = _event(code, b, t)
                    n_events += 1
            chunk_stats[ch, EVENTS] = n_events
            chunk_stats[ch, UNBOUND] = unbound
            chunk_stats[ch, INTERNALISED] = internalised
            chunk_stats[ch, WITH_CELL] = with_cell
            chunk_stats[ch, FORMED] = formed
        return parallel  # uses the closure variable, which keys the cache entry

    return molecule_update


molecule_update_serial = _make_molecule_update(False)
molecule_update_parallel = _make_molecule_update(True)


@njit(cache=True)
def apply_events(n_molecules, events, chunk_stats, b_bound, b_trimers, t_bound, t_trimers,
                 counters):
    """Apply the chunks' events to the cells' counts and tally the counters.

    Returns (molecules returned to the free pool, molecules cleared this step, bound
    molecules that left their slot). Work is O(events + chunks).
    """
    n_chunks = chunk_stats.shape[0]
    size = (n_molecules + n_chunks - 1) // n_chunks
    unbound = 0
    cleared = 0
    for ch in range(n_chunks):
        lo = ch * size
        for e in range(lo, lo + chunk_stats[ch, EVENTS]):
            code = events[e]
            kind = code & 7
            b = (code >> _B_SHIFT) & _SLOT_MASK
            t = (code >> _T_SHIFT) & _SLOT_MASK
            if kind == BLAST_LOSES:
                b_bound[b] -= 1
            elif kind == TCELL_LOSES:
                t_bound[t] -= 1
            elif kind == BRIDGED_FROM_BLAST:
                t_bound[t] += 1
                t_trimers[t] += 1
                b_trimers[b] += 1
            elif kind == BRIDGED_FROM_TCELL:
                b_bound[b] += 1
                t_trimers[t] += 1
                b_trimers[b] += 1
            elif kind == TRIMER_TO_BLAST:
                t_bound[t] -= 1
                t_trimers[t] -= 1
                b_trimers[b] -= 1
            elif kind == TRIMER_TO_TCELL:
                b_bound[b] -= 1
                t_trimers[t] -= 1
                b_trimers[b] -= 1
            else:
                b_bound[b] -= 1
                t_bound[t] -= 1
                t_trimers[t] -= 1
                b_trimers[b] -= 1
        unbound += chunk_stats[ch, UNBOUND]
        counters[N_CLEARED_INTERNALISED] += chunk_stats[ch, INTERNALISED]
        counters[N_CLEARED_WITH_CELL] += chunk_stats[ch, WITH_CELL]
        counters[TRIMERS_FORMED] += chunk_stats[ch, FORMED]
        cleared += chunk_stats[ch, INTERNALISED] + chunk_stats[ch, WITH_CELL]
    counters[UNBINDINGS] += unbound
    return unbound, cleared


# Below this per-receptor chance, binding walks geometric gaps through the receptors of all
# cells (a cost per bound molecule); above it, each cell draws its own binomial.
SKIP_BELOW = 0.01


@njit(cache=True)
def _bind_population(key, purpose, p_bind, offset, n_cells, alive, receptors, bound, per_cell,
                     new_bindings, left):
    """Molecules each of `n_cells` cells binds, into new_bindings[offset + i]; returns the
    total. Every free receptor is an independent trial with chance `p_bind`: for a small
    chance, successes are found by geometric gaps through the cells' receptors laid end to
    end (the j-th gap keyed by j), which is the same distribution as one binomial per cell
    and costs nothing for a cell that binds nothing."""
    total = 0
    if p_bind <= 0.0 or left <= 0:
        for i in range(n_cells):
            new_bindings[offset + i] = 0
        return 0
    skip = p_bind < SKIP_BELOW
    log_miss = math.log1p(-p_bind)
    j = 0
    next_hit = 0
    if skip:
        next_hit = int(math.log(rng.uniform(key, 0, purpose)) / log_miss)
        j = 1
    position = 0  # receptors passed so far
    for i in range(n_cells):
        got = 0
        copies = per_cell if per_cell > 0.0 else receptors[i]
        free = int(math.floor(copies)) - bound[i]
        if alive[i] == 1 and free > 0 and left > 0:
            if skip:
                while next_hit < position + free:
                    got += 1
                    next_hit += 1 + int(math.log(rng.uniform(key, j, purpose)) / log_miss)
                    j += 1
                position += free
            else:
                got = rng.binomial(key, i, purpose, free, p_bind)
            got = min(got, left)
        new_bindings[offset + i] = got
        left -= got
        total += got
    return total


@njit(cache=True)
def binding_counts(key, c, free_molecules, p_bind_blast, p_bind_tcell, n_blasts, b_alive,
                   b_cd19, b_bound, n_tcells, t_alive, t_bound, new_bindings) -> int:
    """Molecules each cell binds from the pool this step (docs/model.md s.3.1), into
    `new_bindings` (blasts, then T cells, by slot); returns their total.

    Each of a cell's R free receptors is bound at the end of the step with its per-step
    probability, Binomial(R, p) in all. Cells are served in slot order, and the later ones
    get what is left if the pool runs dry.
    """
    total = _bind_population(key, rng.M_BIND, p_bind_blast, 0, n_blasts, b_alive, b_cd19,
                             b_bound, 0.0, new_bindings, free_molecules)
    total += _bind_population(key, rng.M_BIND_T, p_bind_tcell, n_blasts, n_tcells, t_alive,
                              b_cd19, t_bound, c[k.CD3_COPIES], new_bindings,
                              free_molecules - total)
    return total


@njit(cache=True)
def bind_and_exchange(key, step, c, entry_mean, p_release_blast, p_release_tcell,
                      free_molecules, n_blasts, b_bound, n_tcells, t_bound, new_bindings,
                      n_molecules, m_state, m_blast, m_tcell, m_release, counters):
    """Append the molecules bound this step as agents, then let free molecules leave and
    enter (docs/model.md s.3.1). Returns (slots in use, free molecules)."""
    i = n_molecules
    bound = 0
    for cell in range(n_blasts + n_tcells):
        got = new_bindings[cell]
        if got == 0:
            continue
        for _ in range(got):
            u = rng.uniform(key, i, rng.M_NEW)
            if cell < n_blasts:
                m_state[i] = ON_BLAST
                m_blast[i] = cell
                m_tcell[i] = -1
                m_release[i] = step + rng.geometric_steps(u, p_release_blast)
            else:
                m_state[i] = ON_TCELL
                m_blast[i] = -1
                m_tcell[i] = cell - n_blasts
                m_release[i] = step + rng.geometric_steps(u, p_release_tcell)
            i += 1
        if cell < n_blasts:
            b_bound[cell] += got
        else:
            t_bound[cell - n_blasts] += got
        bound += got
    free_molecules -= bound
    counters[BINDINGS] += bound
    exits = rng.binomial(key, 0, rng.POOL_EXIT, free_molecules, c[k.P_EXIT])
    entries = rng.poisson(key, 0, rng.POOL_ENTRY, entry_mean)
    counters[N_CLEARED_EXIT] += exits
    counters[ENTERED] += entries
    return i, free_molecules - exits + entries


@njit(cache=True)
def compact(n_molecules, m_state, m_blast, m_tcell, m_release) -> int:
    """Drop cleared molecules, keeping the order of the rest; returns the new count."""
    j = 0
    for i in range(n_molecules):
        if m_state[i] != CLEARED:
            if j != i:
                m_state[j] = m_state[i]
                m_blast[j] = m_blast[i]
                m_tcell[j] = m_tcell[i]
                m_release[j] = m_release[i]
            j += 1
    return j
