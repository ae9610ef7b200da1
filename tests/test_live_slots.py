"""The decision pass walks a list of slots instead of every slot (`state.LiveSlots`): the
list must hold every live slot, in ascending order, stay short, and give the same events as
the walk over every slot."""

import numpy as np

from bispecific.engine.core.kernels import constants as k
from bispecific.engine.core.kernels.cells import cell_decisions, cell_decisions_parallel
from bispecific.engine.core.state import CELL_CHUNK, LiveSlots

from .helpers import small_model


def test_the_list_holds_every_live_slot_in_order_and_stays_short():
    rng = np.random.default_rng(7)
    alive = np.zeros(100_000, np.uint8)
    lists, n_slots = LiveSlots(), 0
    for _ in range(300):
        born = int(rng.integers(0, 400))  # new cells take new slots at the end
        alive[n_slots: n_slots + born] = 1
        n_slots += born
        live_now = np.flatnonzero(alive[:n_slots])
        if live_now.size:  # and some die anywhere
            alive[rng.choice(live_now, size=live_now.size // 5, replace=False)] = 0
        live = int(alive[:n_slots].sum())
        slots, n = lists.refresh(alive, n_slots, live)
        listed = slots[:n]
        assert np.all(np.diff(listed) > 0)
        assert set(np.flatnonzero(alive[:n_slots])) <= set(listed.tolist())
        assert n <= 2 * live + 64 + born


def _events(decide, constants, state, b_slots, n_b, c_slots, n_c, key):
    """The blast and normal-cell events of one decision pass, in the order applied."""
    b_events = np.zeros(state.b_events.shape[0], np.int64)
    c_events = np.zeros(state.c_events.shape[0], np.int64)
    chunks = np.zeros(state.cell_chunk_events.shape[0] + 8, np.int64)
    decide(key, constants, b_slots, n_b, state.b_alive, b_events, c_slots, n_c,
           state.c_alive, c_events, chunks)
    blast_chunks = (n_b + CELL_CHUNK - 1) // CELL_CHUNK
    normal_chunks = (n_c + CELL_CHUNK - 1) // CELL_CHUNK
    blasts = [b_events[ch * CELL_CHUNK + e] for ch in range(blast_chunks)
              for e in range(chunks[ch])]
    normal = [c_events[ch * CELL_CHUNK + e] for ch in range(normal_chunks)
              for e in range(chunks[blast_chunks + ch])]
    return blasts, normal


def test_walking_the_list_gives_the_events_of_walking_every_slot():
    """A patch run long enough that most normal-cell slots are dead; the events, and their
    order, are those of the pass over every slot (serial and on threads)."""
    model = small_model(size=32, plasma_pg_per_ml=500.0, seed=3, marrow_blast_fraction=0.5)
    model.run_for(8.0)
    s = model.state
    constants = model.config.constants.copy()
    for chance in (k.P_APOPTOSIS, k.P_DIVIDE, k.P_NORMAL_TURNOVER):
        constants[chance] = 0.05  # many events a pass, so their order is tested too
    every_b = np.arange(s.n_blasts, dtype=np.int32)
    every_c = np.arange(s.n_normal, dtype=np.int32)
    running = s.live_slots()  # the list the step keeps
    rebuilt_b = np.flatnonzero(s.b_alive[: s.n_blasts]).astype(np.int32)
    rebuilt_c = np.flatnonzero(s.c_alive[: s.n_normal]).astype(np.int32)
    rebuilt = (rebuilt_b, rebuilt_b.size, rebuilt_c, rebuilt_c.size)  # as just rebuilt
    assert rebuilt_c.size < 0.7 * s.n_normal
    seen = 0
    for decide in (cell_decisions, cell_decisions_parallel):
        for key in range(1, 21):
            want = _events(decide, constants, s, every_b, s.n_blasts, every_c, s.n_normal,
                           np.uint64(key))
            seen += len(want[0]) + len(want[1])
            for listed_b, n_b, listed_c, n_c in (running, rebuilt):
                got = _events(decide, constants, s, listed_b, n_b, listed_c, n_c,
                              np.uint64(key))
                assert got == want
    assert seen > 500
