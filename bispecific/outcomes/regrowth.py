"""Regrowth of residual disease after treatment, extrapolated to relapse (docs/model.md s.13).

Once the courses end, no drug acts: each remaining blast divides and dies at its own rates,
independently of the others while blasts are rare, which is a linear birth-death
(branching) process. Its mean grows as `N(t) = N0 exp(r t)`, `r = division - apoptosis`, so
the marrow blast level `L(t) = L0 exp(r t)` reaches the relapse threshold `L_R` after

    t_R = ln(L_R / L0) / r        (r > 0, L0 < L_R)

This is the cheap extrapolation the patch hands off to. Two refinements of the branching
process, both closed forms:

- **extinction**: a residual of `N0` cells dies out with probability `(d / b)^N0` (`b` the
  division rate, `d` apoptosis, `b > d`), so a marrow holding a handful of blasts can be
  cured; `N0 = L0 x MARROW_NUCLEATED_CELLS`;
- the mean conditioned on survival is `N0 exp(r t) / (1 - (d/b)^N0)`, which for any
  `N0 >= 10` is the plain mean to better than 10^-4 (used as is; stated, not corrected).

CD19-positive and CD19-negative residues grow at the same rate once no drug acts, so the
relapse's phenotype is the larger of the two at the end of treatment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .constants import MARROW_NUCLEATED_CELLS, RELAPSE_BLAST_FRACTION


@dataclass(frozen=True)
class Residual:
    """Residual disease at the end of treatment, as fractions of nucleated marrow cells."""

    positive: float  # CD19-positive blast level
    negative: float  # CD19-negative blast level (expected)

    @property
    def level(self) -> float:
        return self.positive + self.negative

    @property
    def cd19_negative(self) -> bool:
        """Whether a relapse from this residue would be mostly CD19-negative."""
        return self.negative > self.positive


def net_growth_per_day(division_per_day: float, apoptosis_per_day: float) -> float:
    """The residue's net growth rate r (/day) with no drug and no crowding."""
    return division_per_day - apoptosis_per_day


def days_to_relapse(level: float, growth_per_day: float,
                    threshold: float = RELAPSE_BLAST_FRACTION) -> float:
    """Days from a blast level (fraction) to the relapse threshold, exponential mean growth.

    0 when the level is already at or above the threshold; infinity when the residue does not
    grow (r <= 0) or there is none (level 0)."""
    if level >= threshold:
        return 0.0
    if level <= 0.0 or growth_per_day <= 0.0:
        return math.inf
    return math.log(threshold / level) / growth_per_day


def extinction_probability(level: float, division_per_day: float, apoptosis_per_day: float,
                           marrow_cells: float = MARROW_NUCLEATED_CELLS) -> float:
    """P(a residue of `level x marrow_cells` blasts dies out by itself): `(d/b)^N0`.

    1 when no blast is left or the residue cannot grow (b <= d)."""
    cells = level * marrow_cells
    if cells <= 0.0 or division_per_day <= apoptosis_per_day:
        return 1.0
    if apoptosis_per_day <= 0.0:
        return 0.0
    return math.exp(cells * math.log(apoptosis_per_day / division_per_day))
