"""Outcomes do not depend on the time step (docs/model.md s.3.3, s.5).

Probing, walking, contact length and the trimers a contact gathers are all stated per
minute, so the same patient at dt = 0.5, 1 and 2 min must give the same contacts per day,
kills per day and 14-day log reduction within the seeds' noise. Under 0.2's rules (one
probe per step, a contact one step long) contacts per day went as 1/dt: 19,000 / 10,100 /
6,300 at dt = 0.5 / 1 / 2 (issue 21), far outside these bounds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bispecific.engine.facade.model import BispecificModel

SEEDS = range(1, 7)
STEPS_MIN = (0.5, 1.0, 2.0)
# Two-sided bound on a difference of two seed means, in standard errors. Six seeds per arm
# and three readouts: at 3.5 SE a correct model fails about once in 400 runs of this file.
Z_BOUND = 3.5


def _course(dt_min: float, seed: int, days: float) -> tuple[float, float, float]:
    """Contacts per day, kills per day and the log10 reduction of blasts over `days`, for a
    patient whose blasts fall about a log in two weeks (no CD19-negative clone). T cells
    are 4% of the marrow: at 6% 0.6.0's calibrated killing clears the patch in two weeks."""
    m = BispecificModel(width=40, height=40, dt_minutes=dt_min, plasma_pg_per_ml=300.0,
                        seed=seed, marrow_blast_fraction=0.5, t_cell_fraction=0.04,
                        cd19_negative_fraction=0.0)
    before = m.state.blasts_alive()
    m.run_for(days)
    after = max(m.state.blasts_alive(), 0.5)  # half a blast: a cleared patch's censoring
    return (m.counter("contacts_total") / days, m.counter("kills_total") / days,
            math.log10(before / after))


@pytest.fixture(scope="module")
def courses() -> dict[float, np.ndarray]:
    return {dt: np.array([_course(dt, seed, 14.0) for seed in SEEDS]) for dt in STEPS_MIN}


@pytest.mark.parametrize("column, name", [(0, "contacts/day"), (1, "kills/day"),
                                          (2, "14-day log10 reduction")])
@pytest.mark.parametrize("dt_min", [0.5, 2.0])
def test_readouts_agree_with_the_one_minute_step(courses, column, name, dt_min):
    ref, other = courses[1.0][:, column], courses[dt_min][:, column]
    se = math.sqrt(ref.var(ddof=1) / len(ref) + other.var(ddof=1) / len(other))
    gap = abs(other.mean() - ref.mean())
    assert gap <= Z_BOUND * se + 1e-12, (
        f"{name} at dt = {dt_min} min: {other.mean():.3g} against {ref.mean():.3g} at 1 min "
        f"(gap {gap:.3g}, {Z_BOUND} SE = {Z_BOUND * se:.3g})")


def test_the_course_is_informative(courses):
    """The comparison means something only if the patient is neither untouched nor cleared:
    between 0.3 and 2.5 logs in 14 days, with dozens of kills a day."""
    logs = courses[1.0][:, 2]
    assert 0.3 < logs.mean() < 2.5
    assert courses[1.0][:, 1].mean() > 20
