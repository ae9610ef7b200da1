"""Blinatumomab: the bound molecules' step, binding from the free pool, and the pool's
exchange with plasma (docs/model.md s.3).

Bound molecules are counts on their cells (engine/core/state.py): a cell's single-arm molecules
are exchangeable, since the wait for a release is memoryless, so each step's changes are
binomial counts per cell or per engaged pair, drawn in one pass over the cells:

1. `release` (parallel over the binding's fixed blocks of cells, O(cells + events)):
   molecules held by a dead cell alone are cleared with it; releases, found by geometric
   gaps through each block's live cells' single-arm molecules laid end to end (a cost per
   release, not per molecule), then split between unbinding and internalisation.
   `pairs` (parallel over fixed blocks of T cells): bridging, `Binomial(single-arm,
   chance)` per engaged pair and side; then the trimers of pairs that came apart let go of
   one arm, `Binomial(trimers, P(keeps the blast))` staying on the blast. `tally_molecules`
   adds the blocks' counts in block order.
2. `binding_counts` (parallel over fixed blocks of cells, then a serial pass over the
   blocks): the molecules each cell binds from the pool; `add_bindings` adds them.
3. `exchange`: the pool's exit and entry.

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
    ENTERED,
    N_CLEARED_EXIT,
    N_CLEARED_INTERNALISED,
    N_CLEARED_WITH_CELL,
    TCELL_BLOCK,
    TRIMERS_FORMED,
    UNBINDINGS,
)
from . import constants as k


@njit(cache=True, inline="always")
def _gap(key, j, purpose, log_miss):
    """Molecules passed before the next release: geometric, from the j-th draw."""
    return int(math.log(rng.uniform(key, j, purpose)) / log_miss)


@njit(cache=True, inline="always")
def _clear_and_release(key, blk, slots, first, last, alive, bound, trimers, p_release,
                       gap_purpose, internalised_share, split_purpose, counts):
    """Stages 1-2 for one block of one kind of cell, the listed slots `slots[first:last]`
    (ascending, every slot of the block that may hold a molecule): single-arm molecules
    held by a dead cell are cleared with it; of the live cells', `Binomial(single-arm,
    p_release)` per cell are released, found by geometric gaps through the block's laid
    end to end (the j-th gap keyed by `blk * _GAP_KEYS + j`), and `Binomial(released,
    internalised_share)` of a cell's are internalised. A slot left off the list holds
    nothing, and so adds nothing to the gaps: the draws are those of a walk over every
    slot. Adds (cleared with a cell, internalised, unbound) to `counts`."""
    skip = p_release > 0.0
    log_miss = math.log1p(-p_release) if skip and p_release < 1.0 else -1e300
    j = blk * _GAP_KEYS
    next_hit = _gap(key, j, gap_purpose, log_miss) if skip else 0
    j += 1
    position = 0
    for listed in range(first, last):
        i = slots[listed]
        single = bound[i] - trimers[i]
        if single <= 0:
            continue
        if alive[i] == 0:
            counts[0] += single
            bound[i] -= single
            continue
        if not skip:
            continue
        released = 0
        while next_hit < position + single:
            released += 1
            next_hit += 1 + _gap(key, j, gap_purpose, log_miss)
            j += 1
        position += single
        if released > 0:
            gone = rng.binomial(key, i, split_purpose, released, internalised_share)
            counts[1] += gone
            counts[2] += released - gone
            bound[i] -= released


def _make_release(parallel: bool):
    """Build the release kernel, serial or under `prange` over blocks, from one body."""

    @njit(cache=True, parallel=parallel)
    def release(key, c, p_release_blast, p_release_tcell, b_slots, n_b_listed, n_blasts,
                blasts, t_slots, n_tcells, tcells, block_counts) -> None:
        """Stages 1-2 of the bound molecules' step (module docstring) in the binding's
        fixed blocks of cells (blasts' blocks, then the T cells'), each with its own gaps;
        each block's (cleared with a cell, internalised, unbound) in `block_counts`, which
        `molecule_step` adds up in block order."""
        _cache_key = parallel
        b_alive, b_bound, b_trimers = blasts.alive, blasts.bound, blasts.trimers
        t_alive, t_bound, t_trimers = tcells.alive, tcells.bound, tcells.trimers
        internalised_blast = 1.0 - c[k.FRACTION_UNBIND]
        blast_blocks, n_blocks = _blast_blocks(n_blasts, n_tcells)
        for blk in prange(n_blocks):
            counts = block_counts[blk]
            counts[:] = 0
            is_blast, lo, hi, _offset = _block(blk, blast_blocks, n_blasts, n_tcells)
            first, last = _cells_of(is_blast, lo, hi, b_slots, n_b_listed)
            if is_blast:
                # On blasts: unbinding or internalisation of CD19.
                _clear_and_release(key, blk, b_slots, first, last, b_alive, b_bound,
                                   b_trimers, p_release_blast, rng.M_EVENT,
                                   internalised_blast, rng.M_RELEASE, counts)
            else:
                # On T cells: unbinding only.
                _clear_and_release(key, blk, t_slots, first, last, t_alive, t_bound,
                                   t_trimers, p_release_tcell, rng.M_RELEASE_T, 0.0,
                                   rng.M_RELEASE_T, counts)

    return release


def _make_pairs(parallel: bool):
    """Build the engaged pairs' kernel, serial or under `prange` over fixed blocks of T-cell
    slots, from one body."""

    @njit(cache=True, parallel=parallel)
    def pairs(key, c, blasts, n_tcells, tcells, pair_counts) -> None:
        """Stages 3-4 of the bound molecules' step (module docstring): bridging in every
        engaged pair, then the trimers of pairs that came apart let go of one arm. Each
        stage writes only a T cell's counts and those of its partner, or of its partner at
        the end of the last molecule phase, and a blast is the partner of one T cell at a
        time, so no two T cells write one blast in a stage. Each block's (trimers formed,
        cleared with both cells) in `pair_counts`."""
        _cache_key = parallel
        b_alive, b_bound, b_trimers = blasts.alive, blasts.bound, blasts.trimers
        t_alive, t_partner, t_bound, t_trimers = (tcells.alive, tcells.partner,
                                                  tcells.bound, tcells.trimers)
        t_bridge_blast, t_bridge_tcell = tcells.bridge_blast, tcells.bridge_tcell
        t_last_partner, t_last_trimers = tcells.last_partner, tcells.last_trimers
        n_blocks = (n_tcells + TCELL_BLOCK - 1) // TCELL_BLOCK
        # 3. Bridging in every engaged pair, both sides.
        for blk in prange(n_blocks):
            formed = 0
            for t in range(blk * TCELL_BLOCK, min((blk + 1) * TCELL_BLOCK, n_tcells)):
                b = t_partner[t]
                if t_alive[t] == 0 or b < 0 or b_alive[b] == 0:
                    continue
                got_b = rng.binomial(key, t, rng.M_BRIDGE, b_bound[b] - b_trimers[b],
                                     t_bridge_blast[t])
                got_t = rng.binomial(key, t, rng.M_BRIDGE_T, t_bound[t] - t_trimers[t],
                                     t_bridge_tcell[t])
                t_bound[t] += got_b  # a molecule on the blast now holds the T cell too
                b_bound[b] += got_t
                t_trimers[t] += got_b + got_t
                b_trimers[b] += got_b + got_t
                formed += got_b + got_t
            pair_counts[blk, 0] = formed
        # 4. Trimers of pairs that came apart let go of one arm (or are cleared with both
        # cells).
        keeps_blast = c[k.P_TRIMER_KEEPS_BLAST]
        for blk in prange(n_blocks):
            with_cell = 0
            for t in range(blk * TCELL_BLOCK, min((blk + 1) * TCELL_BLOCK, n_tcells)):
                tcell_lives = t_alive[t] == 1
                partner = t_partner[t] if tcell_lives else -1
                if partner >= 0 and b_alive[partner] == 0:
                    partner = -1  # a pair with a dead blast holds no trimer after this step
                b = t_last_partner[t]
                n = t_last_trimers[t]
                if b >= 0 and b != partner and n > 0:
                    blast_lives = b_alive[b] == 1
                    if blast_lives and tcell_lives:
                        stay = rng.binomial(key, t, rng.M_DISSOLVE, n, keeps_blast)
                    elif blast_lives:
                        stay = n
                    else:
                        stay = 0
                    if not blast_lives and not tcell_lives:
                        with_cell += n
                        b_bound[b] -= n
                        t_bound[t] -= n
                    else:
                        t_bound[t] -= stay  # these let go of the T cell
                        b_bound[b] -= n - stay  # these let go of the blast
                    b_trimers[b] -= n
                    t_trimers[t] -= n
                t_last_partner[t] = partner
                t_last_trimers[t] = t_trimers[t] if partner >= 0 else 0
            pair_counts[blk, 1] = with_cell

    return pairs


@njit(cache=True)
def tally_molecules(n_blocks, block_counts, n_tcells, pair_counts, counters):
    """The blocks' counts of `release` and `pairs` added to the cumulative `counters`, in
    block order. Returns (molecules back to the free pool, molecules cleared) this step."""
    unbound = 0
    cleared = 0
    for blk in range(n_blocks):
        counters[N_CLEARED_WITH_CELL] += block_counts[blk, 0]
        counters[N_CLEARED_INTERNALISED] += block_counts[blk, 1]
        counters[UNBINDINGS] += block_counts[blk, 2]
        unbound += block_counts[blk, 2]
        cleared += block_counts[blk, 0] + block_counts[blk, 1]
    for blk in range((n_tcells + TCELL_BLOCK - 1) // TCELL_BLOCK):
        counters[TRIMERS_FORMED] += pair_counts[blk, 0]
        counters[N_CLEARED_WITH_CELL] += pair_counts[blk, 1]
        cleared += pair_counts[blk, 1]
    return unbound, cleared


release = _make_release(False)
release_parallel = _make_release(True)
pairs = _make_pairs(False)
pairs_parallel = _make_pairs(True)


# `release`, `pairs` and `tally_molecules` in one call each (one dispatch: the bundles'
# arrays are unboxed once). Written out twice, not made by a factory: a kernel that closes
# over other kernels is compiled again in every process (Numba's cache misses it).
@njit(cache=True)
def molecule_step(key, c, p_release_blast, p_release_tcell, b_slots, n_b_listed, n_blasts,
                  blasts, t_slots, n_tcells, tcells, block_counts, pair_counts, counters):
    """The bound molecules' step (module docstring), on one thread. Returns (molecules back
    to the free pool, molecules cleared) this step."""
    release(key, c, p_release_blast, p_release_tcell, b_slots, n_b_listed, n_blasts, blasts,
            t_slots, n_tcells, tcells, block_counts)
    pairs(key, c, blasts, n_tcells, tcells, pair_counts)
    n_blocks = _blast_blocks(n_blasts, n_tcells)[1]
    return tally_molecules(n_blocks, block_counts, n_tcells, pair_counts, counters)


@njit(cache=True)
def molecule_step_parallel(key, c, p_release_blast, p_release_tcell, b_slots, n_b_listed,
                           n_blasts, blasts, t_slots, n_tcells, tcells, block_counts,
                           pair_counts, counters):
    """`molecule_step` with `release` and `pairs` on threads."""
    release_parallel(key, c, p_release_blast, p_release_tcell, b_slots, n_b_listed,
                     n_blasts, blasts, t_slots, n_tcells, tcells, block_counts)
    pairs_parallel(key, c, blasts, n_tcells, tcells, pair_counts)
    n_blocks = _blast_blocks(n_blasts, n_tcells)[1]
    return tally_molecules(n_blocks, block_counts, n_tcells, pair_counts, counters)


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


@njit(cache=True, inline="always")
def _cells_of(is_blast, lo, hi, b_slots, n_b_listed):
    """The range of a block's cells to visit: for blasts, the positions in the list of the
    listed slots in [lo, hi); for T cells, the slots themselves."""
    if not is_blast:
        return lo, hi
    return (np.searchsorted(b_slots[:n_b_listed], lo),
            np.searchsorted(b_slots[:n_b_listed], hi))


def _make_binding_counts(parallel: bool):
    """Build the binding kernel, serial or under `prange` over blocks, from one body."""

    @njit(cache=True, parallel=parallel)
    def binding_counts(key, c, free_molecules, p_bind_blast, p_bind_tcell, n_blasts, b_slots,
                       n_b_listed, b_alive, b_cd19, b_bound, n_tcells, t_alive, t_bound,
                       new_bindings, block_totals) -> int:
        """Molecules each cell binds from the pool this step (docs/model.md s.3.1), into
        `new_bindings` (blasts, then T cells, by slot), with each block's total in
        `block_totals`; returns their total.

        Each of a cell's R free receptors is bound at the end of the step with its per-step
        probability, Binomial(R, p) in all. For a small chance the successes are found by
        geometric gaps through the receptors of a block laid end to end (the j-th gap keyed
        by block and j), the same distribution as one binomial per cell at a cost per bound
        molecule. Cells are served in slot order, and the later ones get what is left if the
        pool runs dry.

        Blasts are visited through their list (`b_slots[:n_b_listed]`, ascending, every live
        blast among them): a dead blast binds nothing and adds nothing to a block's gaps, so
        the draws are those of a walk over every slot. Only the listed blasts' entries of
        `new_bindings` are written, and only they are read (`add_bindings`).
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
                first, last = _cells_of(is_blast, lo, hi, b_slots, n_b_listed)
                for listed in range(first, last):
                    i = b_slots[listed] if is_blast else listed
                    new_bindings[offset + i] = 0
                block_totals[blk] = 0
                continue
            skip = p_bind < SKIP_BELOW
            log_miss = math.log1p(-p_bind)
            base = blk * _GAP_KEYS
            j = 0
            next_hit = 0
            if skip:
                next_hit = _gap(key, base, purpose, log_miss)
                j = 1
            position = 0  # receptors of the block passed so far
            first, last = _cells_of(is_blast, lo, hi, b_slots, n_b_listed)
            for listed in range(first, last):
                i = b_slots[listed] if is_blast else listed
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
                            next_hit += 1 + _gap(key, base + j, purpose, log_miss)
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
            is_blast, lo, hi, offset = _block(blk, blast_blocks, n_blasts, n_tcells)
            got_block = 0
            first, last = _cells_of(is_blast, lo, hi, b_slots, n_b_listed)
            for listed in range(first, last):
                cell = offset + (b_slots[listed] if is_blast else listed)
                got = min(new_bindings[cell], left)
                new_bindings[cell] = got
                left -= got
                got_block += got
            block_totals[blk] = got_block
        return free_molecules - left

    return binding_counts


binding_counts = _make_binding_counts(False)
binding_counts_parallel = _make_binding_counts(True)


@njit(cache=True)
def add_bindings(n_blasts, b_slots, n_b_listed, n_tcells, new_bindings, b_bound, t_bound):
    """Add this step's bindings (`binding_counts`) to the cells' counts (blasts: the listed
    ones, whose entries `binding_counts` wrote)."""
    for listed in range(n_b_listed):
        b = b_slots[listed]
        b_bound[b] += new_bindings[b]
    for t in range(n_tcells):
        t_bound[t] += new_bindings[n_blasts + t]


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
