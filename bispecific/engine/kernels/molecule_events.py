"""Bound molecules by events (docs/model.md s.3.2-3.3 and s.7, "Implementation").

A bound molecule changes in a step only if one of its cells died, its single-arm bond lets
go (the step drawn when it bound has come), it bridges into a trimer (its cell is engaged),
or it is a trimer whose pair came apart. The phase finds exactly these through an index
(`MoleculeIndex`), so its cost is O(events + engaged pairs + cells), not O(molecules):

- a **timing wheel**: each single-arm molecule is in the list of slot `release step mod
  WHEEL_SLOTS`; a step walks one slot's list (a molecule due on a later turn stays);
- **lists per cell**: each blast's single-arm molecules, each blast's trimers, each T cell's
  single-arm molecules;
- each T cell's partner at the end of the last phase (`last_partner`): whose trimers it may
  hold;
- the **free slots** of cleared molecules, which the next bindings reuse (so the molecule
  arrays are never compacted).

The lists are doubly linked through the molecule slots (`*_next`, `*_prev`; -1 ends a list)
so that a molecule leaves or moves in O(1).

The phase, in this order (each stage sees the counts the earlier ones left):

1. molecules on a dead cell by one arm are cleared with it;
2. due releases: a molecule on a blast unbinds (back to the pool) or is internalised, in
   proportion to koff_19 and kint; one on a T cell unbinds;
3. bridging, per engaged pair and side: `Binomial(n, p)` of the side's `n` single-arm
   molecules become trimers, `p` the per-molecule chance of the step (kernels/tcells.py).
   Which ones does not matter: a single-arm molecule's remaining wait for release is
   geometric whatever its age (memoryless), so the molecules of a cell are exchangeable, and
   the phase takes them from the head of the cell's list;
4. trimers of pairs that came apart (a cell died, or the T cell let go) let go of one arm,
   with a fresh release step, or are cleared if both cells died.

Bridging (3) precedes dissolution (4) and follows releases (2), so a molecule does at most
one thing per step, as under the per-molecule rule: the chance that a given molecule bridges
in a step is `p` if its release is not due, and a trimer that just let go does not bridge
again in the same step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from .. import rng
from ..state import CLEARED, ON_BLAST, ON_TCELL, TRIMER, WHEEL_SLOTS
from . import constants as k

_MASK = WHEEL_SLOTS - 1

# Slots of the tallies the phase returns in `tallies`.
UNBOUND = 0  # back to the free pool
INTERNALISED = 1
WITH_CELL = 2  # cleared with a dead cell
FORMED = 3  # trimers formed
N_TALLIES = 4


class MoleculeIndex(NamedTuple):
    """The bound molecules' event index (module docstring); all int32 arrays."""

    wheel: np.ndarray  # [WHEEL_SLOTS] first single-arm molecule due in each wheel slot
    wheel_next: np.ndarray  # [molecule slots]
    wheel_prev: np.ndarray
    cell_next: np.ndarray  # [molecule slots] within a cell's list
    cell_prev: np.ndarray
    blast_single: np.ndarray  # [blast slots] first molecule on the blast by CD19 alone
    blast_trimers: np.ndarray  # [blast slots] first trimer with the blast
    tcell_single: np.ndarray  # [T-cell slots] first molecule on the T cell by CD3 alone
    last_partner: np.ndarray  # [T-cell slots] partner at the end of the last phase, or -1
    free: np.ndarray  # [molecule slots] a stack of the free slots below n_molecules


@njit(cache=True, inline="always")
def _push(i, head, h, nxt, prv):
    """Put slot i first in list `head[h]`."""
    first = head[h]
    nxt[i] = first
    prv[i] = -1
    if first >= 0:
        prv[first] = i
    head[h] = i


@njit(cache=True, inline="always")
def _drop(i, head, h, nxt, prv):
    """Take slot i out of list `head[h]`, which holds it."""
    before = prv[i]
    after = nxt[i]
    if before >= 0:
        nxt[before] = after
    else:
        head[h] = after
    if after >= 0:
        prv[after] = before
    nxt[i] = -1
    prv[i] = -1


@njit(cache=True)
def rebuild_index(ix, step, n_molecules, m_state, m_blast, m_tcell, m_release, n_blasts,
                  n_tcells, t_alive, t_partner) -> int:
    """Make the index from the molecule arrays before `step` (after an edit between steps:
    a removal, or a new patch); returns the free slots, stacked so that the lowest is
    reused first. O(molecules + cells). A release step already past is moved to `step`, so
    the coming phase finds it due."""
    ix.wheel[:] = -1
    ix.blast_single[:n_blasts] = -1
    ix.blast_trimers[:n_blasts] = -1
    ix.tcell_single[:n_tcells] = -1
    for t in range(n_tcells):
        ix.last_partner[t] = t_partner[t] if t_alive[t] == 1 else -1
    n_free = 0
    # Backwards: each list ends up in slot order, the free stack with its lowest on top.
    for i in range(n_molecules - 1, -1, -1):
        s = m_state[i]
        ix.wheel_next[i] = -1
        ix.wheel_prev[i] = -1
        if s == CLEARED:
            ix.cell_next[i] = -1
            ix.cell_prev[i] = -1
            ix.free[n_free] = i
            n_free += 1
            continue
        if s == TRIMER:
            _push(i, ix.blast_trimers, m_blast[i], ix.cell_next, ix.cell_prev)
            ix.last_partner[m_tcell[i]] = m_blast[i]
            continue
        if s == ON_BLAST:
            _push(i, ix.blast_single, m_blast[i], ix.cell_next, ix.cell_prev)
        else:
            _push(i, ix.tcell_single, m_tcell[i], ix.cell_next, ix.cell_prev)
        if m_release[i] < step:
            m_release[i] = step
        _push(i, ix.wheel, m_release[i] & _MASK, ix.wheel_next, ix.wheel_prev)
    # The stack was filled from the top slot down; reverse it so the lowest is reused first.
    for j in range(n_free // 2):
        a = ix.free[j]
        ix.free[j] = ix.free[n_free - 1 - j]
        ix.free[n_free - 1 - j] = a
    return n_free


@njit(cache=True, inline="always")
def new_slot(j, n_molecules, free, n_free):
    """The slot of a step's j-th new molecule: the free slots first (from the top of the
    stack), then new ones past the end."""
    if j < n_free:
        return free[n_free - 1 - j]
    return n_molecules + j - n_free


@njit(cache=True)
def index_new(ix, new, n_molecules, n_free, m_state, m_blast, m_tcell, m_release):
    """Index the `new` molecules bound this step, each on one cell by one arm, at the slots
    `new_slot` gave them."""
    for j in range(new):
        i = new_slot(j, n_molecules, ix.free, n_free)
        if m_state[i] == ON_BLAST:
            _push(i, ix.blast_single, m_blast[i], ix.cell_next, ix.cell_prev)
        else:
            _push(i, ix.tcell_single, m_tcell[i], ix.cell_next, ix.cell_prev)
        _push(i, ix.wheel, m_release[i] & _MASK, ix.wheel_next, ix.wheel_prev)


@njit(cache=True)
def molecule_phase(key, step, c, p_release_blast, p_release_tcell, n_blasts, b_alive,
                   b_partner, b_bound, b_trimers, n_tcells, t_alive, t_partner, t_bound,
                   t_trimers, t_bridge_blast, t_bridge_tcell, m_state, m_blast, m_tcell,
                   m_release, ix, n_free, tallies) -> int:
    """The bound molecules' step (module docstring): the cells' counts change as the
    molecules do, `tallies` receives this step's counts by kind; returns the free slots."""
    wheel, wheel_next, wheel_prev = ix.wheel, ix.wheel_next, ix.wheel_prev
    cell_next, cell_prev = ix.cell_next, ix.cell_prev
    blast_single, blast_trimers, tcell_single = ix.blast_single, ix.blast_trimers, \
        ix.tcell_single
    free = ix.free
    unbound = 0
    internalised = 0
    with_cell = 0
    formed = 0
    # 1. Single-arm molecules of dead cells are cleared with them.
    for t in range(n_tcells):
        if t_alive[t] == 0 and tcell_single[t] >= 0:
            i = tcell_single[t]
            while i >= 0:
                following = cell_next[i]
                _drop(i, wheel, m_release[i] & _MASK, wheel_next, wheel_prev)
                cell_next[i] = -1
                cell_prev[i] = -1
                m_state[i] = CLEARED
                free[n_free] = i
                n_free += 1
                t_bound[t] -= 1
                with_cell += 1
                i = following
            tcell_single[t] = -1
    for b in range(n_blasts):
        if b_alive[b] == 0 and blast_single[b] >= 0:
            i = blast_single[b]
            while i >= 0:
                following = cell_next[i]
                _drop(i, wheel, m_release[i] & _MASK, wheel_next, wheel_prev)
                cell_next[i] = -1
                cell_prev[i] = -1
                m_state[i] = CLEARED
                free[n_free] = i
                n_free += 1
                b_bound[b] -= 1
                with_cell += 1
                i = following
            blast_single[b] = -1
    # 2. Releases due this step.
    fraction_unbind = c[k.FRACTION_UNBIND]
    h = step & _MASK
    i = wheel[h]
    while i >= 0:
        following = wheel_next[i]
        if m_release[i] <= step:
            _drop(i, wheel, h, wheel_next, wheel_prev)
            if m_state[i] == ON_BLAST:
                b = m_blast[i]
                _drop(i, blast_single, b, cell_next, cell_prev)
                b_bound[b] -= 1
                # Unbinding and internalisation compete: pick one by their rates.
                if rng.uniform(key, i, rng.M_EVENT) < fraction_unbind:
                    unbound += 1
                else:
                    internalised += 1
            else:
                t = m_tcell[i]
                _drop(i, tcell_single, t, cell_next, cell_prev)
                t_bound[t] -= 1
                unbound += 1
            m_state[i] = CLEARED
            free[n_free] = i
            n_free += 1
        i = following
    # 3. Bridging in every engaged pair, both sides.
    for t in range(n_tcells):
        b = t_partner[t]
        if t_alive[t] == 0 or b < 0 or b_alive[b] == 0:
            continue
        n_b = b_bound[b] - b_trimers[b]
        got_b = rng.binomial(key, t, rng.M_BRIDGE, n_b, t_bridge_blast[t]) if n_b > 0 else 0
        n_t = t_bound[t] - t_trimers[t]
        got_t = rng.binomial(key, t, rng.M_BRIDGE_T, n_t, t_bridge_tcell[t]) if n_t > 0 else 0
        for _ in range(got_b):  # on the blast, capturing the T cell's CD3
            i = blast_single[b]
            _drop(i, blast_single, b, cell_next, cell_prev)
            _drop(i, wheel, m_release[i] & _MASK, wheel_next, wheel_prev)
            _push(i, blast_trimers, b, cell_next, cell_prev)
            m_state[i] = TRIMER
            m_tcell[i] = t
        for _ in range(got_t):  # on the T cell, capturing the blast's CD19
            i = tcell_single[t]
            _drop(i, tcell_single, t, cell_next, cell_prev)
            _drop(i, wheel, m_release[i] & _MASK, wheel_next, wheel_prev)
            _push(i, blast_trimers, b, cell_next, cell_prev)
            m_state[i] = TRIMER
            m_blast[i] = b
        t_bound[t] += got_b
        b_bound[b] += got_t
        t_trimers[t] += got_b + got_t
        b_trimers[b] += got_b + got_t
        formed += got_b + got_t
    # 4. Trimers of pairs that came apart let go of one arm.
    keeps_blast = c[k.P_TRIMER_KEEPS_BLAST]
    for t in range(n_tcells):
        tcell_lives = t_alive[t] == 1
        partner = t_partner[t] if tcell_lives else -1
        if partner >= 0 and b_alive[partner] == 0:
            partner = -1  # a pair with a dead blast holds no trimer after this step
        b = ix.last_partner[t]
        ix.last_partner[t] = partner
        if b < 0 or b == partner:
            continue
        blast_lives = b_alive[b] == 1
        i = blast_trimers[b]
        while i >= 0:
            following = cell_next[i]
            if m_tcell[i] == t:
                _drop(i, blast_trimers, b, cell_next, cell_prev)
                b_trimers[b] -= 1
                t_trimers[t] -= 1
                if not blast_lives and not tcell_lives:
                    m_state[i] = CLEARED
                    free[n_free] = i
                    n_free += 1
                    b_bound[b] -= 1
                    t_bound[t] -= 1
                    with_cell += 1
                elif blast_lives and (not tcell_lives or rng.uniform(
                        key, i, rng.M_EVENT) < keeps_blast):
                    m_state[i] = ON_BLAST
                    m_tcell[i] = -1
                    m_release[i] = step + rng.geometric_steps(
                        rng.uniform(key, i, rng.M_RELEASE), p_release_blast)
                    _push(i, blast_single, b, cell_next, cell_prev)
                    _push(i, wheel, m_release[i] & _MASK, wheel_next, wheel_prev)
                    t_bound[t] -= 1
                else:
                    m_state[i] = ON_TCELL
                    m_blast[i] = -1
                    m_release[i] = step + rng.geometric_steps(
                        rng.uniform(key, i, rng.M_RELEASE), p_release_tcell)
                    _push(i, tcell_single, t, cell_next, cell_prev)
                    _push(i, wheel, m_release[i] & _MASK, wheel_next, wheel_prev)
                    b_bound[b] -= 1
            i = following
    tallies[UNBOUND] = unbound
    tallies[INTERNALISED] = internalised
    tallies[WITH_CELL] = with_cell
    tallies[FORMED] = formed
    return n_free
