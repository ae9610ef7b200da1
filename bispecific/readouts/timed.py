"""Readouts taken at chosen times of a run (a `StepReadout` that fires at given hours):
the response assessments and the grid snapshots share when to take, and how a checkpoint
keeps what was taken; each says what it takes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel


class TimedRecorder:
    """Calls `take(model)` at each of `times_h` (hours, each once), at the first record at or
    after it (within half a step, so a time that falls on a step is taken there)."""

    def __init__(self, times_h: Sequence[float]) -> None:
        self.times_h = sorted({float(t) for t in times_h})
        self.taken: list[Any] = []
        self._next = 0

    def take(self, model: BispecificModel) -> Any:
        raise NotImplementedError

    def start(self, model: BispecificModel) -> None:
        self._take_due(model)

    def update(self, model: BispecificModel) -> None:
        self._take_due(model)

    def _take_due(self, model: BispecificModel) -> None:
        eps = model.dt_minutes / 120.0
        while self._next < len(self.times_h) and model.time_h + eps >= self.times_h[self._next]:
            self.taken.append(self.take(model))
            self._next += 1

    def reporters(self) -> dict[str, Callable[[BispecificModel], float]]:
        return {}

    def encode(self, item: Any) -> Any:
        """One taken item as a checkpoint stores it."""
        return item

    def decode(self, stored: Any) -> Any:
        return stored

    def state_dict(self) -> dict:
        """What was taken so far (for checkpoints)."""
        return {"next": self._next, "taken": [self.encode(x) for x in self.taken]}

    def load_state_dict(self, state: dict) -> None:
        self._next = state["next"]
        self.taken = [self.decode(x) for x in state["taken"]]
