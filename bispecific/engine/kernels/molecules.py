"""Blinatumomab: bound molecules (agents) and the free pool (docs/model.md s.3).

Data flow of the molecule phase, deterministic whatever the number of threads:

1. `molecule_update` (parallel over a fixed number of chunks): each bound molecule's new
   state is a pure function of the state at the start of the phase and counter-based draws:
   release (to the pool, or internalised), bridging into a trimer with its cell's engaged
   partner, dissolution of trimers whose pair disengaged, clearance with a dead cell. Every
   change of a cell's counts is written as one event into the chunk's own slice of `events`;
   per-chunk tallies go to `chunk_stats`. A cleared molecule becomes a hole.
2. `apply_events` (serial, over the events only): bound and trimer counts, counters.
3. `sort_molecules` (only when holes pass a tenth of the slots): drops the holes and orders
   the molecules by the cell that holds them, so that step 1 reads cells in order.
4. `binding_counts` (parallel over fixed blocks of cells, then a serial pass over the
   blocks): the molecules each cell binds from the pool; `bind_append` (parallel over the
   same blocks) appends them as agents at slots fixed by the blocks' totals; `exchange`: the
   pool's exit and entry.

Every `_make_*` factory builds a serial and a `prange` kernel from one body; the body names
the factory's `parallel` argument, which puts it in the closure and so keys Numba's cache
apart for the two.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .. import rng
from ..state import (
    BIND_BLOCK,
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


# Below this per-receptor chance, binding walks geometric gaps through the receptors of a
# block of cells (a cost per bound molecule); above it, each cell draws its own binomial.
SKIP_BELOW = 0.01
# Draws of the geometric gaps in a block are keyed by block * _GAP_KEYS + j.
_GAP_KEYS = 1 << 24


@njit(cache=True, inline="always")
def _blast_blocks(n_blasts, n_tcells):
    """(blocks of blasts, blocks in all): blasts' blocks first, then the T cells'."""
    blast_blocks = (n_blasts + BIND_BLOCK - 1) // BIND_BLOCK
    return blast_blocks, blast_blocks + (n_tcells + BIND_BLOCK - 1) // BIND_BLOCK


def bind_blocks(n_blasts: int, n_tcells: int) -> int:
    """Number of binding blocks for these slot counts (blasts first, then T cells)."""
    return int(_blast_blocks(n_blasts, n_tcells)[1])


@njit(cache=True, inline="always")
def _block(blk, blast_blocks, n_blasts, n_tcells):
    """Binding block `blk`: (holds blasts, first slot, end slot, offset), the slots among
    its kind's; `offset + slot` indexes `new_bindings` (blasts, then T cells)."""
    if blk < blast_blocks:
        lo = blk * BIND_BLOCK
        return True, lo, min(n_blasts, lo + BIND_BLOCK), 0
    lo = (blk - blast_blocks) * BIND_BLOCK
    return False, lo, min(n_tcells, lo + BIND_BLOCK), n_blasts


def _make_binding_counts(parallel: bool):
    """Build the binding kernel, serial or under `prange` over blocks, from one body."""

    @njit(cache=True, parallel=parallel)
    def binding_counts(key, c, free_molecules, p_bind_blast, p_bind_tcell, n_blasts, b_alive,
                       b_cd19, b_bound, n_tcells, t_alive, t_bound, new_bindings,
                       block_totals) -> int:
        """Molecules each cell binds from the pool this step (docs/model.md s.3.1), into
        `new_bindings` (blasts, then T cells, by slot), with each block's total in
        `block_totals`; returns their total.

        Each of a cell's R free receptors is bound at the end of the step with its per-step
        probability, Binomial(R, p) in all. For a small chance the successes are found by
        geometric gaps through the receptors of a block laid end to end (the j-th gap keyed
        by block and j), the same distribution as one binomial per cell at a cost per bound
        molecule. Cells are served in slot order, and the later ones get what is left if the
        pool runs dry.
        """
        _cache_key = parallel
        blast_blocks, n_blocks = _blast_blocks(n_blasts, n_tcells)
        cd3 = c[k.CD3_COPIES]
        for blk in prange(n_blocks):
            is_blast, lo, hi, offset = _block(blk, blast_blocks, n_blasts, n_tcells)
            p_bind = p_bind_blast if is_blast else p_bind_tcell
            purpose = rng.M_BIND if is_blast else rng.M_BIND_T
            total = 0
            if p_bind <= 0.0 or free_molecules <= 0:
                for i in range(lo, hi):
                    new_bindings[offset + i] = 0
                block_totals[blk] = 0
                continue
            skip = p_bind < SKIP_BELOW
            log_miss = math.log1p(-p_bind)
            base = blk * _GAP_KEYS
            j = 0
            next_hit = 0
            if skip:
                next_hit = int(math.log(rng.uniform(key, base, purpose)) / log_miss)
                j = 1
            position = 0  # receptors of the block passed so far
            for i in range(lo, hi):
                got = 0
                if is_blast:
                    alive = b_alive[i]
                    free = int(math.floor(b_cd19[i])) - b_bound[i]
                else:
                    alive = t_alive[i]
                    free = int(math.floor(cd3)) - t_bound[i]
                if alive == 1 and free > 0:
                    if skip:
                        while next_hit < position + free:
                            got += 1
                            next_hit += 1 + int(
                                math.log(rng.uniform(key, base + j, purpose)) / log_miss)
                            j += 1
                        position += free
                    else:
                        got = rng.binomial(key, i, purpose, free, p_bind)
                new_bindings[offset + i] = got
                total += got
            block_totals[blk] = total
        total = 0
        for blk in range(n_blocks):
            total += block_totals[blk]
        if total <= free_molecules:
            return total
        # The pool runs dry: serve cells in slot order, the later ones get what is left.
        left = free_molecules
        for blk in range(n_blocks):
            _is_blast, lo, hi, offset = _block(blk, blast_blocks, n_blasts, n_tcells)
            got_block = 0
            for cell in range(offset + lo, offset + hi):
                got = min(new_bindings[cell], left)
                new_bindings[cell] = got
                left -= got
                got_block += got
            block_totals[blk] = got_block
        return free_molecules - left

    return binding_counts


binding_counts = _make_binding_counts(False)
binding_counts_parallel = _make_binding_counts(True)


def _make_bind_append(parallel: bool):
    """Build the kernel that appends this step's bound molecules as agents, serial or under
    `prange` over the binding blocks, from one body."""

    @njit(cache=True, parallel=parallel)
    def bind_append(key, step, p_release_blast, p_release_tcell, n_blasts, b_bound, n_tcells,
                    t_bound, new_bindings, block_totals, n_molecules, m_state, m_blast,
                    m_tcell, m_release) -> int:
        """Append the molecules of `new_bindings` as agents, blasts then T cells in slot
        order (the slots they get, and so their draws, do not depend on the number of
        threads); returns the slots in use."""
        _cache_key = parallel
        blast_blocks, n_blocks = _blast_blocks(n_blasts, n_tcells)
        starts = np.empty(n_blocks + 1, np.int64)
        starts[0] = n_molecules
        for blk in range(n_blocks):
            starts[blk + 1] = starts[blk] + block_totals[blk]
        for blk in prange(n_blocks):
            if block_totals[blk] == 0:
                continue
            is_blast, lo, hi, offset = _block(blk, blast_blocks, n_blasts, n_tcells)
            i = starts[blk]
            for cell in range(offset + lo, offset + hi):
                got = new_bindings[cell]
                if got == 0:
                    continue
                for _ in range(got):
                    u = rng.uniform(key, i, rng.M_NEW)
                    if is_blast:
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
                if is_blast:
                    b_bound[cell] += got
                else:
                    t_bound[cell - n_blasts] += got
        return starts[n_blocks]

    return bind_append


bind_append = _make_bind_append(False)
bind_append_parallel = _make_bind_append(True)


@njit(cache=True)
def exchange(key, c, entry_mean, free_molecules, bound, counters):
    """Take this step's `bound` molecules out of the pool, then let free molecules leave
    and enter (docs/model.md s.3.1). Returns the free molecules."""
    free_molecules -= bound
    counters[BINDINGS] += bound
    exits = rng.binomial(key, 0, rng.POOL_EXIT, free_molecules, c[k.P_EXIT])
    entries = rng.poisson(key, 0, rng.POOL_ENTRY, entry_mean)
    counters[N_CLEARED_EXIT] += exits
    counters[ENTERED] += entries
    return free_molecules - exits + entries


@njit(cache=True)
def sort_molecules(n_molecules, m_state, m_blast, m_tcell, m_release, n_blasts, n_tcells,
                   d_state, d_blast, d_tcell, d_release) -> int:
    """Copy the molecules that are not cleared into the `d_*` arrays, ordered by the cell
    that holds them (by blast slot for molecules on a blast and trimers, then by T-cell slot),
    keeping their order within a cell; returns how many.

    A counting sort, O(molecules + cells). Molecules bound in the same step are appended in
    cell order, so most of the array is already in order and both passes read and write
    nearly sequentially. Afterwards the molecule phase reads the cells' arrays in order
    instead of at random.
    """
    counts = np.zeros(n_blasts + n_tcells + 1, np.int64)
    for i in range(n_molecules):
        s = m_state[i]
        if s == CLEARED:
            continue
        cell = n_blasts + m_tcell[i] if s == ON_TCELL else m_blast[i]
        counts[cell + 1] += 1
    for cell in range(n_blasts + n_tcells):
        counts[cell + 1] += counts[cell]
    for i in range(n_molecules):
        s = m_state[i]
        if s == CLEARED:
            continue
        cell = n_blasts + m_tcell[i] if s == ON_TCELL else m_blast[i]
        j = counts[cell]
        counts[cell] = j + 1
        d_state[j] = s
        d_blast[j] = m_blast[i]
        d_tcell[j] = m_tcell[i]
        d_release[j] = m_release[i]
    return counts[n_blasts + n_tcells]
