"""Death as a hazard tied to the disease state (docs/model.md s.13).

A patient is in one of three states after the simulated courses: refractory (no
remission), in remission, or relapsed. Each has a constant death hazard
(`constants.py`, pending calibration), so the time of death is piecewise exponential: with
`E ~ Exp(1)`, death comes when the cumulative hazard reaches `E`. Deaths during the
simulated courses are not modelled (the hazard starts when treatment ends).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .constants import (
    HAZARD_REFRACTORY_PER_DAY,
    HAZARD_RELAPSED_PER_DAY,
    HAZARD_REMISSION_PER_DAY,
)


@dataclass(frozen=True)
class DeathHazards:
    """Death hazards per day by disease state."""

    refractory: float = HAZARD_REFRACTORY_PER_DAY
    remission: float = HAZARD_REMISSION_PER_DAY
    relapsed: float = HAZARD_RELAPSED_PER_DAY


def death_day(start: float, remission_until: float | None, exposure: float,
              hazards: DeathHazards) -> float:
    """The day of death for a unit-exponential draw `exposure`.

    Args:
        start: the day the hazard starts (end of treatment).
        remission_until: None for a refractory patient; otherwise the day remission ends
            (relapse; infinity for none), after which the relapsed hazard applies.
        exposure: a draw of Exp(1), the cumulative hazard at death.
        hazards: per-day hazards by state.
    """
    if remission_until is None:
        return start + exposure / hazards.refractory if hazards.refractory > 0 else math.inf
    if math.isinf(remission_until) or exposure <= hazards.remission * max(
            remission_until - start, 0.0):
        return start + exposure / hazards.remission if hazards.remission > 0 else math.inf
    if hazards.relapsed <= 0:
        return math.inf
    spent = hazards.remission * max(remission_until - start, 0.0)
    return max(remission_until, start) + (exposure - spent) / hazards.relapsed
