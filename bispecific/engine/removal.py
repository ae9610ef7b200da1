"""Removing one agent through the arrays: what `Agent.remove()` does for array-backed agents.

A removal leaves the patch as a step of the kernels would leave it, so every rule of
docs/model.md still holds afterwards (the checks in tests/helpers.py `assert_invariants`):

- a **cell** dies: its voxel empties and its death is counted where the model counts such a
  death (a blast as an apoptosis, the only death of a blast that no T cell caused; a T cell
  or a normal cell as a death). Its engaged partner lets go. Molecules held by the cell
  alone are cleared with it (`molecules_cleared_with_cell`); a trimer keeps its other arm
  and stays on the partner, with a fresh release time (docs/model.md s.3.2), drawn from the
  model's `rng`.
- a **molecule** leaves the patch (`molecules_cleared_exit`): the cells that held it lose a
  bound receptor, and a trimer its bridge. If holes then pass a tenth of the molecule slots
  they are compacted and sorted by cell, as the step does; within
  `deferred_compaction(model)` (used by `AgentSet.do` on views) that waits until the last
  removal, so that the molecule views still to be removed stay valid.

Each removal is O(bound molecules) NumPy work; nothing here runs during a step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from mesa import Model

from .kernels import constants as kc
from .state import (
    BLAST_APOPTOSES,
    CLEARED,
    EMPTY,
    N_CLEARED_EXIT,
    N_CLEARED_WITH_CELL,
    NORMAL_DEATHS,
    ON_BLAST,
    ON_TCELL,
    SCANNING,
    T_DEATHS,
    TRIMER,
)
from .step import COMPACT_FRACTION, compact_molecules


class AgentGone(ValueError):
    """The agent a view points at no longer exists in the model's arrays."""


def _release_steps(model: Model, n: int, off_dt_index: int) -> np.ndarray:
    """Steps until `n` single-arm bonds let go, drawn as the kernels draw them (the
    per-step chance of release at the current free drug, docs/model.md s.3.2)."""
    s, c = model.state, model.config.constants
    on_dt = c[kc.KON_DT_UM3] * s.free_molecules / model.config.patch_um3
    _bind, p = kc.receptor_step(on_dt, c[off_dt_index])
    if p >= 1.0:
        return np.ones(n, np.int64)
    if p <= 0.0:
        return np.full(n, 2**30, np.int64)
    u = 1.0 - model.rng.random(n)  # in (0, 1]
    return 1 + np.minimum(np.log(u) / np.log1p(-p), 2.0**30).astype(np.int64)


def _empty_voxel(model: Model, voxel: int) -> None:
    model.state.occ_kind[voxel] = EMPTY
    model.state.occ_idx[voxel] = -1


def _clear(model: Model, slots: np.ndarray, counter: int) -> None:
    s = model.state
    s.m_state[slots] = CLEARED
    s.n_live_molecules -= len(slots)
    s.counters[counter] += len(slots)


@contextmanager
def deferred_compaction(model: Model) -> Iterator[None]:
    """Removals inside wait until the end to compact the molecule slots."""
    model._compaction_deferred += 1
    try:
        yield
    finally:
        model._compaction_deferred -= 1
        compact_if_due(model)


def compact_if_due(model: Model) -> None:
    """Compact the molecule slots when holes pass a tenth of them, as the step does."""
    s = model.state
    if model._compaction_deferred:
        return
    if s.n_molecules - s.n_live_molecules > COMPACT_FRACTION * s.n_molecules:
        before = s.n_molecules
        compact_molecules(s)
        model._molecules_compacted(before)


def remove_blast(model: Model, b: int) -> None:
    s = model.state
    if not s.b_alive[b]:
        raise AgentGone(f"blast {b} is not alive: it cannot be removed again")
    nm = s.n_molecules
    states, m_blast = s.m_state[:nm], s.m_blast[:nm]
    own = np.flatnonzero((states == ON_BLAST) & (m_blast == b))
    _clear(model, own, N_CLEARED_WITH_CELL)
    bridges = np.flatnonzero((states == TRIMER) & (m_blast == b))
    t = int(s.b_partner[b])
    if len(bridges):  # the bridges stay on the T cell, now held by CD3 alone
        s.m_state[bridges] = ON_TCELL
        s.m_blast[bridges] = -1
        s.m_release[bridges] = (model.steps - 1) + _release_steps(
            model, len(bridges), kc.TCELL_OFF_DT)
        s.t_trimers[t] -= len(bridges)
    if t >= 0 and s.t_partner[t] == b:
        s.t_partner[t] = -1
        s.t_engaged[t] = SCANNING
        s.t_timer_min[t] = 0.0
        s.t_bridge_blast[t] = 0.0
        s.t_bridge_tcell[t] = 0.0
    s.b_alive[b] = 0
    s.b_partner[b] = -1
    s.b_bound[b] = 0
    s.b_trimers[b] = 0
    _empty_voxel(model, int(s.b_voxel[b]))
    s.counters[BLAST_APOPTOSES] += 1
    model._agents_changed()
    compact_if_due(model)


def remove_tcell(model: Model, t: int) -> None:
    s = model.state
    if not s.t_alive[t]:
        raise AgentGone(f"T cell {t} is not alive: it cannot be removed again")
    nm = s.n_molecules
    states, m_tcell = s.m_state[:nm], s.m_tcell[:nm]
    own = np.flatnonzero((states == ON_TCELL) & (m_tcell == t))
    _clear(model, own, N_CLEARED_WITH_CELL)
    bridges = np.flatnonzero((states == TRIMER) & (m_tcell == t))
    b = int(s.t_partner[t])
    if len(bridges):  # the bridges stay on the blast, now held by CD19 alone
        s.m_state[bridges] = ON_BLAST
        s.m_tcell[bridges] = -1
        s.m_release[bridges] = (model.steps - 1) + _release_steps(
            model, len(bridges), kc.BLAST_OFF_DT)
        s.b_trimers[b] -= len(bridges)
    if b >= 0 and s.b_partner[b] == t:
        s.b_partner[b] = -1
    s.t_alive[t] = 0
    s.t_partner[t] = -1
    s.t_engaged[t] = SCANNING
    s.t_bound[t] = 0
    s.t_trimers[t] = 0
    _empty_voxel(model, int(s.t_voxel[t]))
    s.counters[T_DEATHS] += 1
    model._agents_changed()
    compact_if_due(model)


def remove_normal(model: Model, i: int) -> None:
    s = model.state
    if not s.c_alive[i]:
        raise AgentGone(f"normal cell {i} is not alive: it cannot be removed again")
    s.c_alive[i] = 0
    _empty_voxel(model, int(s.c_voxel[i]))
    s.counters[NORMAL_DEATHS] += 1
    model._agents_changed()


def remove_molecule(model: Model, i: int) -> None:
    s = model.state
    state = int(s.m_state[i]) if i < s.n_molecules else CLEARED
    if state == CLEARED:
        raise AgentGone(f"molecule {i} is no longer bound: it cannot be removed again")
    b, t = int(s.m_blast[i]), int(s.m_tcell[i])
    if state in (ON_BLAST, TRIMER):
        s.b_bound[b] -= 1
    if state in (ON_TCELL, TRIMER):
        s.t_bound[t] -= 1
    if state == TRIMER:
        s.b_trimers[b] -= 1
        s.t_trimers[t] -= 1
    _clear(model, np.array([i]), N_CLEARED_EXIT)
    model._agents_changed()
    compact_if_due(model)
