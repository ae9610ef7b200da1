"""Checkpoints: an interrupted run, continued, ends exactly where an uninterrupted one does."""

import dataclasses
import filecmp
from pathlib import Path

import numpy as np
import pytest

from bispecific.engine.facade.mesa_compat import model_time
from bispecific.outputs.files import write_run
from bispecific.scenario import load_scenario
from bispecific.simulation import checkpoint as ckpt
from bispecific.simulation.checkpoint import Checkpointing
from bispecific.simulation.run import RunInterrupted, run_scenario

SCENARIOS = Path(__file__).parent.parent / "scenarios"


def _scenario(days: float = 1.0, seed: int | None = None):
    s = load_scenario(SCENARIOS / "continuous_4wk.toml").with_changes(days=days)
    if seed is not None:
        s = s.with_changes(seed=seed)
    return dataclasses.replace(s, grid=dataclasses.replace(s.grid, width=24, height=24))


def _patch(result) -> dict:
    s = result.model.state
    return {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}


def _assert_same_run(a, b) -> None:
    for (name, x), y in zip(_patch(a).items(), _patch(b).values(), strict=True):
        assert np.array_equal(x, y), name
    assert a.timeseries.equals(b.timeseries)
    assert a.summary == b.summary
    for (ta, sa), (tb, sb) in zip(a.snapshots.taken, b.snapshots.taken, strict=True):
        assert ta == tb and all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def uninterrupted():
    return run_scenario(_scenario(), frame_every_h=6.0)


def test_a_resumed_run_is_bit_identical_to_an_uninterrupted_one(uninterrupted, tmp_path):
    notes = []
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(RunInterrupted) as info:
        run_scenario(_scenario(), frame_every_h=6.0, stop_after_h=13.0,
                     checkpointing=Checkpointing(path, every_h=5.0, notify=notes.append))
    assert (info.value.at_h, info.value.checkpoint_h, info.value.checkpoint) == (13, 10, path)
    resumed = run_scenario(_scenario(), frame_every_h=6.0,
                           checkpointing=Checkpointing(path, every_h=5.0, notify=notes.append))
    assert resumed.resumed_from_h == 10.0
    # Mesa 3.4+'s clock went on from the checkpoint with the steps (older Mesa: steps only).
    assert model_time(resumed.model) == resumed.model.steps == 24 * 60
    assert notes[2] == f"continuing from the checkpoint at hour 10 ({path})"
    _assert_same_run(uninterrupted, resumed)
    a, b = tmp_path / "a", tmp_path / "b"
    write_run(uninterrupted, a)
    write_run(resumed, b)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and "checkpoint.npz" not in names
    for name in names:  # every file but the wall time, byte for byte
        assert name == "timing.json" or filecmp.cmp(a / name, b / name, shallow=False), name


def test_a_checkpoint_of_another_run_is_not_used(uninterrupted, tmp_path):
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(RunInterrupted):
        run_scenario(_scenario(seed=99), frame_every_h=6.0, stop_after_h=3.0,
                     checkpointing=Checkpointing(path, every_h=1.0))
    notes = []
    again = run_scenario(_scenario(), frame_every_h=6.0,
                         checkpointing=Checkpointing(path, notify=notes.append))
    assert again.resumed_from_h is None
    assert notes == [f"{path} was written by a different run (the scenario differs): starting "
                     "from the beginning"]
    _assert_same_run(uninterrupted, again)


def test_a_damaged_checkpoint_starts_the_run_again(tmp_path):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    notes = []
    result = run_scenario(_scenario(days=0.1), checkpointing=Checkpointing(
        path, notify=notes.append))
    assert result.resumed_from_h is None and "cannot be read" in notes[0]


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(RunInterrupted):
        run_scenario(_scenario(), stop_after_h=2.0,
                     checkpointing=Checkpointing(path, every_h=1.0))
    identity = ckpt.run_identity(_scenario(), [0.0, 0.25, 0.5, 1.0], None)
    saved = ckpt.load_checkpoint(path, identity)
    assert saved.model["numbers"]["steps"] == 120  # the last save, at hour 2

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckpt.np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        ckpt.save_checkpoint(path, identity, saved)
    assert ckpt.load_checkpoint(path, identity).model["numbers"]["steps"] == 120
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]


def test_interval_must_be_positive(tmp_path):
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="must be a number of hours > 0"):
            Checkpointing(tmp_path / "c.npz", every_h=bad)
