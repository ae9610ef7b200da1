"""The per-cell draws of blasts (s.4) and normal cells (s.6) in one pass over fixed chunks.

Nearly every cell does nothing in a step: the pass draws each live cell's chances and writes
the few that act (a blast that dies or divides, a normal cell that leaves) into its chunk's
own slice of an event buffer, by slot. `blasts.apply_blast_events` and then
`normal.apply_turnover_events` carry them out serially in slot order, exactly as a serial
loop over the cells would: the outcome does not depend on the number of threads.

The pass reads the slots from a list (`state.LiveSlots`): every live slot in ascending
order, with some that have died since the list was last rebuilt. Dead slots are never
reused, so over a course they pile up (26,830 normal-cell slots for 5,453 live cells by day
28 of the default course); walking the list instead of every slot skips most of them. The
draws are keyed by slot, and the list keeps slot order, so the outcome is the same, bit for
bit, as the walk over every slot.
"""

from __future__ import annotations

from numba import njit, prange

from .. import rng
from ..state import CELL_CHUNK
from . import constants as k

# Blast event codes (low bit); the slot is in the bits above.
APOPTOSIS = 0
DIVISION = 1


def _make_cell_decisions(parallel: bool):
    """Build the decision pass, serial or under `prange`, from one body."""

    @njit(cache=True, parallel=parallel)
    def cell_decisions(key, c, b_slots, n_b_slots, b_alive, b_events, c_slots, n_c_slots,
                       c_alive, c_events, chunk_events):
        """Fill `b_events`/`c_events` chunk by chunk over the listed slots (`b_slots[:n]`,
        `c_slots[:n]`, ascending); `chunk_events[ch]` is chunk ch's count (blast chunks
        first, then normal-cell chunks)."""
        _cache_key = parallel
        p_apoptosis = c[k.P_APOPTOSIS]
        p_divide = c[k.P_DIVIDE]
        p_turnover = c[k.P_NORMAL_TURNOVER]
        blast_chunks = (n_b_slots + CELL_CHUNK - 1) // CELL_CHUNK
        n_chunks = blast_chunks + (n_c_slots + CELL_CHUNK - 1) // CELL_CHUNK
        for ch in prange(n_chunks):
            n = 0
            if ch < blast_chunks:
                lo = ch * CELL_CHUNK
                for j in range(lo, min(n_b_slots, lo + CELL_CHUNK)):
                    b = b_slots[j]
                    if b_alive[b] == 0:
                        continue
                    u_apoptosis, u_divide = rng.split32(rng.draw_bits(key, b, rng.B_APOPTOSIS))
                    if u_apoptosis < p_apoptosis:
                        b_events[lo + n] = 2 * b + APOPTOSIS
                        n += 1
                    elif u_divide < p_divide:
                        b_events[lo + n] = 2 * b + DIVISION
                        n += 1
            else:
                lo = (ch - blast_chunks) * CELL_CHUNK
                for j in range(lo, min(n_c_slots, lo + CELL_CHUNK)):
                    i = c_slots[j]
                    if c_alive[i] == 1 and rng.uniform(key, i, rng.N_TURNOVER) < p_turnover:
                        c_events[lo + n] = i
                        n += 1
            chunk_events[ch] = n

    return cell_decisions


cell_decisions = _make_cell_decisions(False)
cell_decisions_parallel = _make_cell_decisions(True)
