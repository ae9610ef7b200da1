"""The molecule and binding passes walk the blasts through a list that drops dead slots
(`state.BlastList`): a dropped slot must hold no molecule, and the run must be the one that
walks every slot, bit for bit."""

import dataclasses

import numpy as np

from bispecific.engine.core.state import BlastList

from .helpers import small_model


def _run(monkeypatch, keep_every_slot: bool):
    with monkeypatch.context() as patch:
        if keep_every_slot:  # the reference: the walk over every slot ever used
            patch.setattr(BlastList, "drop_dead", lambda self, alive, live: None)
        model = small_model(size=32, plasma_pg_per_ml=300.0, seed=11,
                            marrow_blast_fraction=0.5)
        dropped_ever = 0
        for _ in range(8):
            model.run_for(0.25)
            s = model.state
            listed = s.blast_list().slots[: s.blast_list().n]
            off = np.setdiff1d(np.arange(s.n_blasts), listed)
            dropped_ever = max(dropped_ever, off.size)
            assert not s.b_bound[off].any()  # nothing is held by a slot left off
    return model.state, dropped_ever


def test_the_list_skips_dead_slots_and_changes_nothing(monkeypatch):
    listed, dropped = _run(monkeypatch, keep_every_slot=False)
    every, none_dropped = _run(monkeypatch, keep_every_slot=True)
    assert dropped > 200 and none_dropped == 0  # the list did leave slots out
    for f in dataclasses.fields(listed):
        if f.name in ("new_bindings", "bind_block_totals"):  # scratch of the step
            continue
        a, b = getattr(listed, f.name), getattr(every, f.name)
        assert (np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b), f.name
