"""Death as a hazard tied to the disease state (docs/model.md s.13).

From the first day of treatment a patient is in one of four states, each with a constant
death hazard (`constants.py`): active disease on treatment (from day 0 until a response or
the end of treatment), in remission (from the response day), and active disease after
treatment (refractory after the end of treatment without a response, or relapsed). So the
time of death is piecewise exponential: with `E ~ Exp(1)`, death comes when the
cumulative hazard reaches `E`. Deaths during the courses count: a patient can die before
the response the patch would have shown, or during consolidation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .constants import (
    HAZARD_ON_TREATMENT_PER_DAY,
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
    on_treatment: float = HAZARD_ON_TREATMENT_PER_DAY


def death_day(treatment_end: float, remission_from: float | None, remission_until: float,
              exposure: float, hazards: DeathHazards) -> float:
    """The day of death (from the start of treatment) for a unit-exponential draw `exposure`.

    Args:
        treatment_end: the day treatment ended; until then (or the response) active disease
            carries the on-treatment hazard.
        remission_from: the response day; None for a patient who never responds (refractory
            after the end of treatment).
        remission_until: the day remission ends (relapse; infinity for none), after which
            the relapsed hazard applies. Ignored without a response.
        exposure: a draw of Exp(1), the cumulative hazard at death.
        hazards: per-day hazards by state.
    """
    if remission_from is None:
        pieces = [(0.0, hazards.on_treatment), (treatment_end, hazards.refractory)]
    else:
        until = max(remission_until, remission_from)
        pieces = [(0.0, hazards.on_treatment), (remission_from, hazards.remission),
                  (until, hazards.relapsed)]
    return _piecewise_exponential(pieces, exposure)


def _piecewise_exponential(pieces: list[tuple[float, float]], exposure: float) -> float:
    """When the cumulative hazard of (start day, hazard per day) pieces reaches `exposure`;
    each piece lasts until the next one starts, the last for ever."""
    spent = 0.0
    for n, (start, hazard) in enumerate(pieces):
        end = pieces[n + 1][0] if n + 1 < len(pieces) else math.inf
        if end <= start:
            continue
        if hazard > 0.0 and spent + hazard * (end - start) >= exposure:
            return start + (exposure - spent) / hazard
        spent += hazard * (end - start) if math.isfinite(end) else 0.0
    return math.inf
