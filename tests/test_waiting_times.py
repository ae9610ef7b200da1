"""Cell events drawn as waiting times and popped from a heap (`kernels/cells.py`) follow the
per-step chances of docs/model.md s.4 and s.6, come out in slot order, and do not depend on
when the heap was made (a restored state makes it again from the waits)."""

import math

import numpy as np
import pytest

from bispecific.engine.core.kernels import constants as k
from bispecific.engine.core.kernels.cells import APOPTOSIS, DIVISION, cell_events
from bispecific.engine.core.state import CellQueue

N = 100_000
P_APOPTOSIS, P_DIVIDE, P_TURNOVER = 0.01, 0.02, 0.005


def _constants():
    c = np.zeros(k.N_CONSTANTS)
    c[k.P_APOPTOSIS], c[k.P_DIVIDE], c[k.P_NORMAL_TURNOVER] = P_APOPTOSIS, P_DIVIDE, P_TURNOVER
    return c


class _Cells:
    """N blasts and N normal cells that never move or multiply: blasts that die and normal
    cells that leave are marked dead, a blast that divides stays (its daughter is not made)."""

    def __init__(self):
        self.b_alive = np.ones(N, np.uint8)
        self.c_alive = np.ones(N, np.uint8)
        self.b_due = np.full(N, -1, np.int32)
        self.c_due = np.full(N, -1, np.int32)
        self.b_events = np.zeros(N, np.int64)
        self.c_events = np.zeros(N, np.int64)
        self.queue = CellQueue(_constants())

    def step(self, step):
        q = self.queue
        q.reserve(2 * N)
        cell_events(np.uint64(7_000 + step), q.constants, step, q.heap, q.n, N, q.b_upto,
                    self.b_alive, self.b_due, self.b_events, N, q.c_upto, self.c_alive,
                    self.c_due, self.c_events, q.out)
        q.n, n_b, n_c = q.out.tolist()
        q.b_upto = q.c_upto = N
        blasts = self.b_events[:n_b].copy()
        normal = self.c_events[:n_c].copy()
        self.b_alive[blasts[blasts & 1 == APOPTOSIS] >> 1] = 0
        self.c_alive[normal] = 0
        return blasts, normal


def test_step_by_step_the_events_come_at_the_per_step_chances():
    """Over 300 steps: per live blast and step, apoptosis with P_APOPTOSIS and division with
    (1 - P_APOPTOSIS) x P_DIVIDE (divisions draw the next wait again); a normal cell has
    left by step t with 1 - (1 - P_TURNOVER)^t. Closed forms of the per-step rule."""
    cells = _Cells()
    expected = {APOPTOSIS: 0.0, DIVISION: 0.0}
    seen = {APOPTOSIS: 0, DIVISION: 0}
    steps = 300
    for step in range(steps):
        live = int(cells.b_alive.sum())
        expected[APOPTOSIS] += live * P_APOPTOSIS
        expected[DIVISION] += live * (1 - P_APOPTOSIS) * P_DIVIDE
        blasts, _ = cells.step(step)
        for kind in seen:
            seen[kind] += int((blasts & 1 == kind).sum())
    for kind in seen:
        assert seen[kind] == pytest.approx(expected[kind], abs=4 * math.sqrt(expected[kind]))
    left = N - int(cells.c_alive.sum())
    p_left = 1 - (1 - P_TURNOVER) ** steps
    assert left == pytest.approx(N * p_left, abs=4 * math.sqrt(N * p_left * (1 - p_left)))


def test_the_events_of_a_step_come_out_once_each_in_slot_order():
    cells = _Cells()
    for step in range(50):
        blasts, normal = cells.step(step)
        for slots in (blasts >> 1, normal):
            assert np.all(np.diff(slots) > 0)


def test_a_heap_made_again_from_the_waits_gives_the_same_events():
    """As after a checkpoint: the waits are state, the heap is not. Made anew at step 20
    from `b_due` / `c_due`, it pops the same events as the heap kept since step 0."""
    kept, remade = _Cells(), _Cells()
    for step in range(40):
        if step == 20:
            remade.queue = CellQueue(_constants())  # fills from every slot, keeping waits
        got_kept, got_remade = kept.step(step), remade.step(step)
        assert np.array_equal(got_kept[0], got_remade[0])
        assert np.array_equal(got_kept[1], got_remade[1])
