"""The expected cytokine release of the patch, given its contacts (docs/model.md s.9.1).

The patch's realized release counts the few T cells in a synapse; the patient's marrow,
~10^10 synapses, has no such noise. The expectation given the patch's contacts keeps the
patch's biology and drops its sampling noise: every contact contributes its chance of
becoming a synapse, `p_syn (1 - d)`, and each expected synapse then releases along its
expected course.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.core.parameters import ModelParameters

LETHAL_WINDOW_HALF_LIFE_H = 6.0  # how far back the mean lethal-hit chance looks


def phase_steps(length_min: float, dt_min: float) -> int:
    """Steps a timed phase lasts: it ends once at most dt / 2 is left (at least one)."""
    return max(1, math.ceil(length_min / dt_min - 0.5 - 1e-9))


class ExpectedRelease:
    """Release per step, in synapse-minutes, expected from the contacts of recent steps."""

    def __init__(self, params: ModelParameters, dt_min: float) -> None:
        self.dt = dt_min
        # Steps on which the kernel releases: the lytic phase, then a failed synapse's rest;
        # a phase ends on the step nearest its length (docs/model.md s.5).
        self.lytic_steps = phase_steps(params.kill_time_min, dt_min)
        rest = params.failed_synapse_min - params.kill_time_min
        self.failed_steps = phase_steps(rest, dt_min) if rest > 1e-9 else 0
        ages = np.arange(self.lytic_steps + self.failed_steps)
        # (1 - d) falls by exp(-g dt) each step of synapse (docs/model.md s.5).
        gain = params.desensitisation_per_synapse_h / 60.0
        self._fade = np.exp(-gain * dt_min * ages)
        self._lytic = ages < self.lytic_steps
        self._recent = np.zeros(len(ages))  # expected new synapses by age, newest first
        self._keep = 0.5 ** (dt_min / (LETHAL_WINDOW_HALF_LIFE_H * 60.0))
        self._chances = 0.0
        self._decisions = 0.0
        self.prior_lethal = params.kill_probability * (1.0 - params.regulatory_suppression) / 2.0

    @property
    def mean_lethal_chance(self) -> float:
        """L: the mean lethal-hit chance of recent decisions (a prior before any)."""
        return self._chances / self._decisions if self._decisions > 1e-12 else self.prior_lethal

    def update(self, expected_new: float, lethal_chances: float, decisions: int) -> float:
        """Take a step's inputs (kernels/tcells.py); return its expected release."""
        self._chances = self._chances * self._keep + lethal_chances
        self._decisions = self._decisions * self._keep + decisions
        self._recent[1:] = self._recent[:-1]
        self._recent[0] = expected_new
        staying = np.where(self._lytic, 1.0, 1.0 - self.mean_lethal_chance)
        return float(np.dot(self._recent, self._fade * staying)) * self.dt

    def state_dict(self) -> dict:
        return {"recent": self._recent.tolist(), "chances": self._chances,
                "decisions": self._decisions}

    def load_state_dict(self, state: dict) -> None:
        self._recent = np.asarray(state["recent"], float)
        self._chances = float(state["chances"])
        self._decisions = float(state["decisions"])
