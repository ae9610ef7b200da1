"""The blasts' (s.4) and normal cells' (s.6) events, as waiting times in a queue (s.7).

A cell's chances per step are constant for its life, so each cell draws when its next event
falls instead of drawing every step whether it acts: a blast draws the steps to apoptosis
and to division and keeps the earlier, with its kind, in `b_due`; a normal cell draws the
steps to turnover into `c_due` (-1: not drawn yet). A geometric number of steps with chance
`p` per step is the law of a chance `p` each step, and the earlier of two independent
geometric waits, apoptosis taking ties, is the law of "apoptosis with `p_a`, else division
with `p_d`" each step; after a division (or an attempt with no room) the parent draws anew,
which the waits' lack of memory makes exact.

The waits sit in a binary heap keyed by (step, kind, slot), so a step pops only the cells
whose event falls on it: the work is a few heap operations per event, not a visit per cell.
The events come out in slot order, and `blasts.apply_blast_events` and then
`normal.apply_turnover_events` carry them out in that order. The heap is not state: it is
made again from `b_due` and `c_due` whenever it is missing (a new or restored state), so a
checkpoint holds the waits and nothing else. Entries of cells that died of other causes
(killed, crowded out, removed) stay in the heap until their step and are dropped then; slots
are never reused, so an entry can only ever name its own cell.

The heap is serial: its work follows the events (on the default patch ~1 a step among
~6,000 cells), so it needs no threads, and the result does not depend on their number.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .. import rng
from . import constants as k

# Blast event codes (low bit); the slot is in the bits above.
APOPTOSIS = 0
DIVISION = 1

NOT_DRAWN = -1  # `b_due` / `c_due` of a cell whose next event is not yet drawn
# The latest step a wait can name: waits reaching past it (a chance of ~0) never come due.
LAST_STEP = (1 << 30) - 1

_KIND_SHIFT = np.int64(32)  # heap key: step << 33 | normal << 32 | slot
_STEP_SHIFT = np.int64(33)
_SLOT_MASK = np.int64(0xFFFFFFFF)


@njit(cache=True, inline="always")
def due_step(step: int, u: float, log_stay: float) -> int:
    """The step of the next event of a cell whose wait starts at `step`, with `u` in (0, 1]
    and `log_stay` = log(1 - p): a geometric wait of 1, 2, ... steps, the first `step`."""
    if log_stay >= 0.0:  # p = 0: never
        return LAST_STEP
    wait = math.log(u) / log_stay  # >= 0
    if wait >= LAST_STEP - step:
        return LAST_STEP
    return step + int(wait)


@njit(cache=True, inline="always")
def _log_stay(p: float) -> float:
    return math.log1p(-p) if p < 1.0 else -np.inf


@njit(cache=True, inline="always")
def _blast_code(key, b, purpose, start, stay_apoptosis, stay_divide) -> int:
    """A blast's next event (step x 2 + kind), its waits starting at step `start`."""
    u_apoptosis, u_divide = rng.split32(rng.draw_bits(key, b, purpose))
    at_apoptosis = due_step(start, u_apoptosis, stay_apoptosis)
    at_divide = due_step(start, u_divide, stay_divide)
    if at_apoptosis <= at_divide:
        return 2 * at_apoptosis + APOPTOSIS
    return 2 * at_divide + DIVISION


@njit(cache=True, inline="always")
def _push(heap, n, item) -> int:
    i = n
    heap[i] = item
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent] <= item:
            break
        heap[i] = heap[parent]
        i = parent
    heap[i] = item
    return n + 1


@njit(cache=True, inline="always")
def _pop(heap, n) -> int:
    """Remove the smallest item (heap[0]); returns the new size."""
    n -= 1
    last = heap[n]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= last:
            break
        heap[i] = heap[child]
        i = child
    if n > 0:
        heap[i] = last
    return n


@njit(cache=True)
def cell_events(key, c, step, heap, n_heap, n_blasts, b_upto, b_alive, b_due, b_events,
                n_normal, c_upto, c_alive, c_due, c_events, out) -> None:
    """This step's blast and normal-cell events, in slot order, into `b_events` (slot x 2 +
    kind) and `c_events` (slot); `out` receives (heap size, blast events, normal events).

    First the cells in slots `[b_upto, n_blasts)` and `[c_upto, n_normal)` (those made since
    the last step, or every slot when the heap is made anew) join the heap, drawing their
    waits from this step unless they hold one (`*_due` >= 0). Then every entry due by this
    step is popped; a blast that divides draws its next event from the next step on.
    """
    stay_apoptosis = _log_stay(c[k.P_APOPTOSIS])
    stay_divide = _log_stay(c[k.P_DIVIDE])
    stay_turnover = _log_stay(c[k.P_NORMAL_TURNOVER])
    for b in range(b_upto, n_blasts):
        if b_alive[b] == 1:
            if b_due[b] < 0:
                b_due[b] = _blast_code(key, b, rng.B_APOPTOSIS, step, stay_apoptosis,
                                       stay_divide)
            n_heap = _push(heap, n_heap, (np.int64(b_due[b] >> 1) << _STEP_SHIFT) | b)
    for i in range(c_upto, n_normal):
        if c_alive[i] == 1:
            if c_due[i] < 0:
                c_due[i] = due_step(step, 1.0 - rng.uniform(key, i, rng.N_TURNOVER),
                                    stay_turnover)
            n_heap = _push(heap, n_heap, (np.int64(c_due[i]) << _STEP_SHIFT)
                           | (np.int64(1) << _KIND_SHIFT) | i)
    n_b = 0
    n_c = 0
    while n_heap > 0 and (heap[0] >> _STEP_SHIFT) <= step:
        item = heap[0]
        n_heap = _pop(heap, n_heap)
        slot = item & _SLOT_MASK
        if (item >> _KIND_SHIFT) & 1 == 0:
            if b_alive[slot] == 0:
                continue  # died of another cause; its wait died with it
            b_events[n_b] = 2 * slot + (b_due[slot] & 1)
            n_b += 1
            if b_due[slot] & 1 == DIVISION:  # the parent waits again, from the next step
                b_due[slot] = _blast_code(key, slot, rng.B_REDRAW, step + 1, stay_apoptosis,
                                          stay_divide)
                n_heap = _push(heap, n_heap, (np.int64(b_due[slot] >> 1) << _STEP_SHIFT)
                               | slot)
        elif c_alive[slot] == 1:
            c_events[n_c] = slot
            n_c += 1
    out[0] = n_heap
    out[1] = n_b
    out[2] = n_c

