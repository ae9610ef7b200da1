"""Removing one agent through the arrays: what `Agent.remove()` does for array-backed agents.

A removal leaves the patch as a step of the kernels would leave it, so every rule of
docs/model.md still holds afterwards (the checks in tests/helpers.py `assert_invariants`):

- a **cell** dies: its voxel empties and its death is counted where the model counts such a
  death (a blast as an apoptosis, the only death of a blast that no T cell caused; a T cell
  or a normal cell as a death). Its engaged partner lets go. Molecules held by the cell
  alone are cleared with it (`molecules_cleared_with_cell`); a trimer keeps its other arm
  and stays on the partner (docs/model.md s.3.2).
- a **molecule** leaves the patch (`molecules_cleared_exit`): the cells that held it lose a
  bound receptor, and a trimer its bridge.

Bound molecules are counts on the cells (engine/core/state.py), so each removal is O(1) array
work; nothing here runs during a step.
"""

from __future__ import annotations

from mesa import Model

from ..core.state import (
    BLAST_APOPTOSES,
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


class AgentGone(ValueError):
    """The agent a view points at no longer exists in the model's arrays."""


def _empty_voxel(model: Model, voxel: int) -> None:
    model.state.occ_kind[voxel] = EMPTY
    model.state.occ_idx[voxel] = -1


def _cleared(model: Model, n: int, counter: int) -> None:
    s = model.state
    s.n_live_molecules -= n
    s.counters[counter] += n


def remove_blast(model: Model, b: int) -> None:
    s = model.state
    if not s.b_alive[b]:
        raise AgentGone(f"blast {b} is not alive: it cannot be removed again")
    trimers = int(s.b_trimers[b])
    _cleared(model, int(s.b_bound[b]) - trimers, N_CLEARED_WITH_CELL)
    t = int(s.b_partner[b])
    if trimers:  # the bridges stay on the T cell, now held by CD3 alone
        s.t_trimers[t] -= trimers
    if t >= 0 and s.t_partner[t] == b:
        s.t_partner[t] = -1
        s.t_engaged[t] = SCANNING
        s.t_timer_min[t] = 0.0
        s.t_bridge_blast[t] = 0.0
        s.t_bridge_tcell[t] = 0.0
    if t >= 0 and s.t_last_partner[t] == b:
        s.t_last_partner[t] = -1  # its trimers are let go of already
        s.t_last_trimers[t] = 0
    s.b_alive[b] = 0
    s.b_partner[b] = -1
    s.b_bound[b] = 0
    s.b_trimers[b] = 0
    _empty_voxel(model, int(s.b_voxel[b]))
    s.counters[BLAST_APOPTOSES] += 1
    model._cell_removed_from_rows(blast=b)
    model._agents_changed()


def remove_tcell(model: Model, t: int) -> None:
    s = model.state
    if not s.t_alive[t]:
        raise AgentGone(f"T cell {t} is not alive: it cannot be removed again")
    trimers = int(s.t_trimers[t])
    _cleared(model, int(s.t_bound[t]) - trimers, N_CLEARED_WITH_CELL)
    b = int(s.t_partner[t])
    if trimers:  # the bridges stay on the blast, now held by CD19 alone
        s.b_trimers[b] -= trimers
    if b >= 0 and s.b_partner[b] == t:
        s.b_partner[b] = -1
    s.t_alive[t] = 0
    s.t_partner[t] = -1
    s.t_last_partner[t] = -1
    s.t_last_trimers[t] = 0
    s.t_engaged[t] = SCANNING
    s.t_bound[t] = 0
    s.t_trimers[t] = 0
    _empty_voxel(model, int(s.t_voxel[t]))
    s.counters[T_DEATHS] += 1
    model._cell_removed_from_rows(tcell=t)
    model._agents_changed()


def remove_normal(model: Model, i: int) -> None:
    s = model.state
    if not s.c_alive[i]:
        raise AgentGone(f"normal cell {i} is not alive: it cannot be removed again")
    s.c_alive[i] = 0
    _empty_voxel(model, int(s.c_voxel[i]))
    s.counters[NORMAL_DEATHS] += 1
    model._agents_changed()


def remove_molecule(model: Model, state: int, b: int, t: int) -> None:
    """One molecule in `state` (ON_BLAST on blast b, ON_TCELL on T cell t, or a TRIMER of
    the pair) leaves the patch."""
    s = model.state
    if state in (ON_BLAST, TRIMER):
        s.b_bound[b] -= 1
    if state in (ON_TCELL, TRIMER):
        s.t_bound[t] -= 1
    if state == TRIMER:
        s.b_trimers[b] -= 1
        s.t_trimers[t] -= 1
        if s.t_last_partner[t] == b:
            s.t_last_trimers[t] -= 1
    _cleared(model, 1, N_CLEARED_EXIT)
    model._agents_changed()
