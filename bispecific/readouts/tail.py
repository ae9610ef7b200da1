"""The last CD19-positive blasts as a branching process, so that MRD resolves 10^-4 and below
(docs/model.md s.11).

A 64^2 patch holds about a thousand blasts, so it can tell a surviving fraction of 10^-3 and
no less: once it is empty, all it says is "below ~1/k0", and a patient at 50% blasts needs
10^-4 / 0.5 = 2x10^-4 of them gone to be MRD-negative. In a marrow of ~10^11 blasts the
last ones are not few: they are many independent cells, each dying at the rate the T cells
impose and dividing at its own rate, which is a linear birth-death (branching) process whose
mean falls exponentially at the net rate.

So once the patch holds fewer than `HANDOFF_BLASTS` CD19-positive blasts, the readout hands
off: from then on the marrow's CD19-positive surviving fraction is
`s(t) = s(t_h) * exp(-integral of (h(u) + apoptosis - division) du)`, where

- `s(t_h) ~ Gamma(k_h + 1/2, k0)` is the patch's surviving fraction at the hand-off;
- `h` is the per-blast kill hazard measured in the patch (kills per CD19-positive
  blast-minute whenever the patch holds fewer than `WINDOW_BLASTS`, before the hand-off and
  after it, while any are left), with posterior `Gamma(kills + 1/2, blast-minutes)`;
- after the hand-off the hazard follows the drug: `h(u) = h * min(1, c(u) / c_w)` with `c_w`
  the mean tissue concentration over the window. It never rises above what was measured:
  as blasts get scarcer each T cell spends less time engaged and the per-blast hazard, if
  anything, rises, so the extrapolation is conservative (it understates depth).

If the patch's CD19-positive blasts climb back to `HANDOFF_BLASTS` (regrowth), the patch
takes over again. The model's own limit is stated in each summary: the hand-off level and
the hazard's relative uncertainty; the assay limit (10^-4) is the readout's threshold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..engine.core.state import KILLS

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel

HANDOFF_BLASTS = 20  # below this many CD19+ blasts the patch hands off to the tail
WINDOW_BLASTS = 4 * HANDOFF_BLASTS  # the hazard is measured while the patch holds fewer
MONTE_CARLO_DRAWS = 4000  # draws of (s_h, h) behind a probability; fixed generator below
_DRAWS_SEED = 20_150_115


@dataclass(frozen=True)
class TailSnapshot:
    """What the tail knows at one moment (all counts are the patch's)."""

    handed_off: bool
    positive_now: float  # CD19+ blasts in the patch now
    positive_at_handoff: float  # k_h
    window_kills: float
    window_blast_minutes: float
    log_decay: float  # integral of the drug-scaled hazard since the hand-off, over h
    log_growth: float  # integral of (division - apoptosis) since the hand-off

    def as_list(self) -> list[float]:
        return [float(self.handed_off), self.positive_now, self.positive_at_handoff,
                self.window_kills, self.window_blast_minutes, self.log_decay, self.log_growth]

    @classmethod
    def from_list(cls, v: list[float]) -> TailSnapshot:
        return cls(bool(v[0]), *(float(x) for x in v[1:]))


class ResidualTail:
    """A step observer: the hand-off window, then the extrapolated CD19+ surviving fraction."""

    def __init__(self) -> None:
        self.handed_off = False
        self.at_handoff = 0.0
        self.window_kills = 0.0
        self.window_blast_minutes = 0.0
        self.window_drug_minutes = 0.0  # tissue concentration x minutes, for c_w
        self.log_decay = 0.0
        self.log_growth = 0.0
        self._kills_before = 0
        self._positive = 0.0

    def start(self, model: BispecificModel) -> None:
        self._kills_before = int(model.state.counters[KILLS])
        self._positive = float(_positive_blasts(model))

    def update(self, model: BispecificModel) -> None:
        s = model.state
        dt = model.dt_minutes
        kills = int(s.counters[KILLS])
        new_kills = kills - self._kills_before
        self._kills_before = kills
        drug = max(model.drug_plasma_pg_per_ml, 0.0)
        before = self._positive  # the blasts at risk over this step
        self._positive = float(_positive_blasts(model))
        # The hazard is measured whenever the patch holds a few CD19+ blasts, after the
        # hand-off too: the patch keeps killing its last blasts, and that is evidence.
        if 0.0 < before < WINDOW_BLASTS:
            self.window_kills += new_kills
            self.window_blast_minutes += before * dt
            self.window_drug_minutes += drug * before * dt
        if self.handed_off:
            if self._positive >= HANDOFF_BLASTS:
                self.handed_off = False  # regrowth: the patch resolves the level again
            else:
                self._extend(model, drug, dt)
                return
        if self._positive < HANDOFF_BLASTS and self.window_blast_minutes > 0.0:
            self.handed_off = True
            self.at_handoff = self._positive
            self.log_decay = 0.0
            self.log_growth = 0.0

    def _extend(self, model: BispecificModel, drug: float, dt: float) -> None:
        """One step of the branching process: drug-scaled hazard and net growth."""
        mean_drug = self.window_drug_minutes / self.window_blast_minutes
        scale = 1.0 if mean_drug <= 0.0 else min(1.0, drug / mean_drug)
        self.log_decay += scale * dt
        p = model.params
        s = model.state
        crowded = (s.blasts_alive_count() + s.tcells_alive_count()) / s.voxels
        net = p.blast_division_per_day * (1.0 - crowded**8) - p.blast_apoptosis_per_day
        self.log_growth += net / 1440.0 * dt

    def snapshot(self, model: BispecificModel) -> TailSnapshot:
        return TailSnapshot(self.handed_off, float(_positive_blasts(model)), self.at_handoff,
                            self.window_kills, self.window_blast_minutes, self.log_decay,
                            self.log_growth)

    def reporters(self) -> dict[str, Callable[[BispecificModel], float]]:
        return {}

    def state_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in _STATE}

    def load_state_dict(self, state: dict[str, float]) -> None:
        for name in _STATE:
            setattr(self, name, type(getattr(self, name))(state[name]))


_STATE = ("handed_off", "at_handoff", "window_kills", "window_blast_minutes",
          "window_drug_minutes", "log_decay", "log_growth", "_kills_before", "_positive")


def _positive_blasts(model: BispecificModel) -> int:
    return model.state.blasts_cd19_positive()


def positive_fraction_draws(tail: TailSnapshot, baseline_positive: float) -> np.ndarray:
    """Draws of the CD19+ surviving fraction of the marrow (relative to the patch's baseline
    CD19+ blasts): the patch's own posterior before a hand-off, the branching tail after."""
    rng = np.random.default_rng(_DRAWS_SEED)
    k0 = max(baseline_positive, 1e-12)
    if not tail.handed_off:
        return rng.gamma(tail.positive_now + 0.5, size=MONTE_CARLO_DRAWS) / k0
    at_handoff = rng.gamma(tail.positive_at_handoff + 0.5, size=MONTE_CARLO_DRAWS) / k0
    hazard = rng.gamma(tail.window_kills + 0.5, size=MONTE_CARLO_DRAWS) / max(
        tail.window_blast_minutes, 1e-12)
    return at_handoff * np.exp(-hazard * tail.log_decay + tail.log_growth)


def tail_limit(tail: TailSnapshot, baseline_positive: float) -> float:
    """The model's own resolution as a surviving fraction: 1/k0 before a hand-off; after it,
    the level below which the hazard's uncertainty (one SD in log) exceeds a factor of 10."""
    k0 = max(baseline_positive, 1.0)
    if not tail.handed_off or tail.window_kills <= 0:
        return 1.0 / k0
    rel_sd = 1.0 / math.sqrt(tail.window_kills + 0.5)
    decades = math.log(10.0) / rel_sd  # log-survival at which one SD of h spans a decade
    return (tail.positive_at_handoff + 0.5) / k0 * math.exp(-decades)
