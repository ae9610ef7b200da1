"""Checkpoints: a whole run saved, so a long run can stop and continue to the same result.

A checkpoint is one .npz file, written under a temporary name, flushed to disk and renamed:
a kill at any moment leaves the previous checkpoint or the new one, never a torn file. It
holds the model's state (`BispecificModel.state_dict`: patch arrays, step count, random
generators, the time series so far, every readout: cytokines, CRS, escape, assessments,
snapshots), and what the run is
(`run_identity`: resolved scenario, snapshot and frame times, version). A checkpoint is used
only by the run that wrote it; for any other it is stale and the run starts from day 0.

Arrays go into the .npz as they are; everything else goes into one JSON member, with each
array replaced by a reference. JSON writes floats exactly, so a continued run is bit-identical
to one that never stopped.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..scenario import Scenario

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel

CHECKPOINT = "checkpoint.npz"
_META = "meta"
_ARRAY = "__array__"


class StaleCheckpoint(Exception):
    """A checkpoint that this run must not continue from; the message says why."""


@dataclass(frozen=True)
class Saved:
    """A checkpoint's contents: the model's state, its readouts' included."""

    model: dict[str, Any]


def run_identity(scenario: Scenario, snapshot_days: list[float],
                 frame_every_h: float | None) -> dict[str, Any]:
    """What a run computes: a checkpoint is continued only by a run with the same identity."""
    return {"scenario": scenario.result_dict(),
            "snapshot_days": [float(d) for d in snapshot_days],
            "frame_every_h": frame_every_h, "bispecific_version": __version__}


def _split(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """`value` with arrays moved into `arrays` (and replaced by references), tuples as lists
    and NumPy scalars as Python numbers: what JSON can hold."""
    if isinstance(value, np.ndarray):
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {_ARRAY: name}
    if isinstance(value, dict):
        return {str(k): _split(v, arrays) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_split(v, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _join(value: Any, archive: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_ARRAY}:
            return archive[value[_ARRAY]]
        return {k: _join(v, archive) for k, v in value.items()}
    if isinstance(value, list):
        return [_join(v, archive) for v in value]
    return value


def save_checkpoint(path: Path, identity: dict[str, Any], saved: Saved) -> None:
    """Write the checkpoint atomically: a temporary file, flushed to disk, then renamed."""
    arrays: dict[str, np.ndarray] = {}
    meta = {"identity": identity, "model": _split(saved.model, arrays)}
    text = json.dumps(meta, allow_nan=True)  # NaN would only come from the model itself
    arrays[_META] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path, identity: dict[str, Any]) -> Saved:
    """The checkpoint at `path`, if it was written by the run `identity` describes; raises
    StaleCheckpoint (with the reason) otherwise, and FileNotFoundError if there is none."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(archive[_META].tobytes().decode("utf-8"))
            if meta["identity"] != json.loads(json.dumps(identity)):  # as JSON keeps it
                raise StaleCheckpoint(f"{path} was written by a different run ("
                                      f"{_what_differs(meta['identity'], identity)})")
            return Saved(_join(meta["model"], archive))
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise StaleCheckpoint(f"{path} cannot be read ({type(exc).__name__})") from None


def _what_differs(old: dict[str, Any], new: dict[str, Any]) -> str:
    for key in ("bispecific_version", "snapshot_days", "frame_every_h"):
        if old.get(key) != new.get(key):
            return f"{key} differs"
    return "the scenario differs"


class Checkpointing:
    """How a run keeps checkpoints: in `path`, one every `every_h` simulated hours (None:
    continue from a checkpoint there, save none). Checkpoints are taken at the model's
    record times (hourly by default), so `every_h` rounds up to a whole record. `notify`
    hears, in a line each, what is resumed, saved or discarded."""

    def __init__(self, path: str | Path, every_h: float | None = None,
                 notify: Callable[[str], None] | None = None) -> None:
        if every_h is not None and not (math.isfinite(every_h) and every_h > 0):
            raise ValueError(f"checkpoint interval {every_h!r}: must be a number of hours > 0")
        self.path = Path(path)
        self.every_h = every_h
        self.notify = notify
        self.saved_h: float | None = None  # the time of this run's checkpoint on disk

    def _say(self, message: str) -> None:
        if self.notify is not None:
            self.notify(message)

    def resume(self, model: BispecificModel, identity: dict[str, Any]) -> float | None:
        """Load this run's checkpoint into the freshly built model; its time in hours, or
        None to start from the beginning."""
        try:
            saved = load_checkpoint(self.path, identity)
        except FileNotFoundError:
            return None
        except StaleCheckpoint as exc:
            self._say(f"{exc}: starting from the beginning")
            return None
        model.load_state_dict(saved.model)
        self.saved_h = model.time_h
        self._say(f"continuing from the checkpoint at hour {model.time_h:g} ({self.path})")
        return model.time_h

    def after_record(self, model: BispecificModel, identity: dict[str, Any],
                     end_step: int) -> None:
        """Save if `every_h` has passed since the last checkpoint (never at the very end:
        a finished run writes its outputs instead)."""
        if self.every_h is None or model.steps >= end_step:
            return
        last = self.saved_h or 0.0
        if model.time_h - last < self.every_h - 1e-9:
            return
        save_checkpoint(self.path, identity, Saved(model.state_dict()))
        self.saved_h = model.time_h
        self._say(f"saved a checkpoint at hour {model.time_h:g} ({self.path})")
