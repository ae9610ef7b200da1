"""CD19-negative escape in expectation (docs/model.md s.11).

A few per cent of a blast population can lack CD19 ([Ning2005]: 1 of 116 B-ALL); the drug
cannot touch them. On a patch of a few thousand blasts such a subclone is a handful of
sampled cells, and whether 2 or 15 of them exist would decide a patient's outcome. Here the
subclone is carried as its expected size instead: it starts at `cd19_negative_fraction` of
the baseline blasts and grows like untreated blasts in the current marrow, dividing into an
empty or normal neighbour (absent when all 8 neighbours hold blasts or T cells, a mean-field
chance q^8) and dying by apoptosis.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel


class ExpectedEscape:
    """The expected number of CD19-negative blasts in the patch (a step observer)."""

    def __init__(self, cd19_negative_fraction: float) -> None:
        self.fraction = cd19_negative_fraction
        self.expected = 0.0

    def start(self, model: BispecificModel) -> None:
        self.expected = self.fraction * model.state.initial_blasts
        p = model.params
        self._divide_per_min = p.blast_division_per_day / 1440.0
        self._die_per_min = p.blast_apoptosis_per_day / 1440.0

    def update(self, model: BispecificModel) -> None:
        s = model.state
        crowded = (s.blasts_alive_count() + s.tcells_alive_count()) / s.voxels
        rate = self._divide_per_min * (1.0 - crowded**8) - self._die_per_min
        self.expected *= math.exp(rate * model.dt_minutes)

    def reporters(self) -> dict[str, Callable[[BispecificModel], float]]:
        return {"blasts_cd19_negative_expected": lambda _m: self.expected}

    def state_dict(self) -> dict[str, float]:
        return {"expected": self.expected}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.expected = state["expected"]
