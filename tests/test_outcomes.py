"""Relapse and death after the simulated courses (bispecific/outcomes; docs/model.md s.13).

The extrapolation is checked against independent numbers: a birth-death process simulated
cell by cell (its mean crossing time and its extinction chance), and the full grid left to
regrow with no drug (the hand-off must not bias the relapse time beyond the stated noise).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bispecific.engine.core.parameters import ModelParameters
from bispecific.engine.facade.model import BispecificModel
from bispecific.outcomes.events import OutcomeRules, patient_events, residual
from bispecific.outcomes.hazards import DeathHazards, death_day
from bispecific.outcomes.regrowth import days_to_relapse, extinction_probability
from bispecific.readouts.response import marrow_blast_percent

B, D = 0.105, 0.04  # the default blast division and apoptosis (/day)


def _crossing_days(n0: int, target: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Days for a linear birth-death process of n0 cells to reach `target` (tau-leaping,
    0.05-day steps), conditioned on not dying out."""
    dt = 0.05
    n = np.full(reps, n0, dtype=np.int64)
    t = np.full(reps, np.nan)
    for step in range(1, 20_000):
        n = n + rng.poisson(B * dt * n) - rng.poisson(D * dt * n)
        n = np.maximum(n, 0)
        hit = np.isnan(t) & (n >= target)
        t[hit] = step * dt
        if not np.isnan(t).any():
            break
    return t


def test_relapse_time_is_the_mean_crossing_time_of_a_branching_process():
    rng = np.random.default_rng(7)
    n0, level = 2000, 0.005  # 2,000 cells at 0.5%; relapse at 5% = 20,000 cells
    t = _crossing_days(n0, int(n0 * 0.05 / level), 400, rng)
    # Noise: the log of a birth-death population of n0 has variance (b + d) / (r n0) at
    # large times, so one crossing time has SD sqrt((b + d) / (r n0)) / r.
    sd = math.sqrt((B + D) / ((B - D) * n0)) / (B - D)
    expected = days_to_relapse(level, B - D)
    assert abs(expected - math.log(10) / 0.065) < 1e-9 * expected
    assert abs(np.nanmean(t) - expected) < 4 * sd / math.sqrt(t.size) + 0.05


def test_a_handful_of_cells_dies_out_as_the_branching_process_says():
    rng = np.random.default_rng(11)
    reps, extinct = 20_000, 0
    n = np.full(reps, 3)
    while True:  # embedded jump chain: each event is a birth with p = b / (b + d)
        alive = (n > 0) & (n < 200)
        if not alive.any():
            break
        births = rng.random(alive.sum()) < B / (B + D)
        n[alive] += np.where(births, 1, -1)
    extinct = np.mean(n == 0)
    p = extinction_probability(3e-12, B, D, marrow_cells=1e12)
    assert abs(p - (D / B) ** 3) < 1e-12
    assert abs(extinct - p) < 4 * math.sqrt(p * (1 - p) / reps)
    assert extinction_probability(1e-4, B, D) == 0.0  # 10^8 cells never die out by chance


def test_no_growth_no_relapse_and_already_relapsed_is_day_zero():
    assert math.isinf(days_to_relapse(1e-4, 0.0))
    assert math.isinf(days_to_relapse(0.0, 0.065))
    assert days_to_relapse(0.2, 0.065) == 0.0


def _grid_crossing(seed: int, size: int, fraction: float) -> tuple[float, float]:
    """(level at the start, days until marrow blasts >= 5%) on the full grid, no drug."""
    m = BispecificModel(width=size, height=size, plasma_pg_per_ml=0.0, seed=seed,
                        marrow_blast_fraction=fraction, t_cell_fraction=0.06)
    s = m.state

    def level() -> float:
        return float(marrow_blast_percent(s.blasts_alive_count(), s.tcells_alive_count(),
                                          s.normal_alive_count())) / 100.0

    start, before = level(), level()
    steps = int(round(1440 / m.dt_minutes))
    for day in range(1, 80):
        for _ in range(steps):
            m.step()
        now = level()
        if now >= 0.05:  # interpolate in log between the two days
            return start, day - 1 + math.log(0.05 / before) / math.log(now / before)
        before = now
    raise AssertionError("no relapse in 80 days")


def test_the_hand_off_does_not_bias_the_relapse_time_against_the_full_grid():
    p = ModelParameters()
    r = p.blast_division_per_day - p.blast_apoptosis_per_day
    grid, extrapolated, blasts = [], [], []
    for seed in range(1, 7):
        start, days = _grid_crossing(seed, 96, 0.02)
        grid.append(days)
        extrapolated.append(days_to_relapse(start, r))
        blasts.append(start * 96 * 96 * 0.6)
    # Stated noise: one crossing's SD from a birth-death of ~110 cells (see above), over
    # six seeds, plus half a day for the grid's own bookkeeping (displaced normal cells).
    n0 = float(np.mean(blasts))
    sd = math.sqrt((p.blast_division_per_day + p.blast_apoptosis_per_day) / (r * n0)) / r
    bias = float(np.mean(grid) - np.mean(extrapolated))
    assert abs(bias) < 3 * sd / math.sqrt(len(grid)) + 0.5, (grid, extrapolated)


def test_death_is_piecewise_exponential_by_state():
    h = DeathHazards(refractory=0.01, remission=0.001, relapsed=0.02, on_treatment=0.005)
    # no response: 70 days on treatment (0.35 spent), then 0.65 at the refractory 0.01/day
    assert death_day(70.0, None, math.inf, 1.0, h) == pytest.approx(70.0 + 0.65 / 0.01)
    # response on day 10 (0.05 spent on treatment), then 0.95 at 0.001/day of remission
    assert death_day(70.0, 10.0, math.inf, 1.0, h) == pytest.approx(10.0 + 0.95 / 0.001)
    # and relapse on day 110: 0.05 + 0.1 spent, the remaining 0.85 at 0.02/day
    assert death_day(70.0, 10.0, 110.0, 1.0, h) == pytest.approx(110.0 + 0.85 / 0.02)
    # an exposure spent before the response: death on treatment, before day 10
    assert death_day(70.0, 10.0, 110.0, 0.025, h) == pytest.approx(5.0)
    # median survival after failure: ln 2 / hazard past the end of treatment, many draws
    draws = np.random.default_rng(3).exponential(size=20_000)
    times = np.array([death_day(0.0, None, math.inf, e, h) for e in draws])
    assert abs(np.median(times) - math.log(2) / 0.01) < 0.03 * math.log(2) / 0.01


def test_deaths_during_the_courses_follow_the_on_treatment_hazard():
    """Death starts on day 0: the share of non-responders dead by the end of two cycles
    (day 70) is 1 - exp(-70 h), the closed form, over 4,000 virtual patients."""
    h = 0.005
    rules = OutcomeRules(hazards=DeathHazards(0.5, 0.0, 0.0, on_treatment=h),
                         transplant_probability=0.0, follow_up_days=10_000.0)
    dead = [patient_events(_summary(seed=s, p_complete_response=0.0, days=70.0), 0.5, B, D,
                           rules).death_day <= 70.0 for s in range(4000)]
    expected = 1.0 - math.exp(-70.0 * h)
    assert abs(np.mean(dead) - expected) < 4 * math.sqrt(expected * (1 - expected) / 4000)


def test_a_stopped_treatment_ends_where_the_rule_fired():
    """A run that a stopping rule ended on day 70 is a failure dated day 70 (EFS), not at
    the scenario's planned last day."""
    rules = OutcomeRules(hazards=DeathHazards(0.0, 0.0, 0.0, 0.0), transplant_probability=0.0)
    e = patient_events(_summary(p_complete_response=0.0, days=210.0, treatment_end_day=70.0,
                                marrow_blast_percent_at_assessments="[60.0, 70.0]"),
                       0.5, B, D, rules)
    assert not e.response and e.efs_days == 70.0 and e.efs_event


def _summary(**kw):
    base = {"seed": 5, "days": 84.0, "p_complete_response": 1.0, "mrd_level_estimate": 1e-4,
            "initial_blasts": 1000, "final_blasts_cd19_negative_expected": 0.0,
            "assessment_days": "[42.0, 84.0]", "marrow_blast_percent_at_assessments":
            "[0.5, 0.01]"}
    base.update(kw)
    return base


def test_a_responder_relapses_when_the_residue_reaches_five_percent():
    rules = OutcomeRules(transplant_probability=0.0, hazards=DeathHazards(0.0, 0.0, 0.0, 0.0),
                         follow_up_days=10_000.0)
    e = patient_events(_summary(), 0.5, B, D, rules)
    assert e.response and e.response_day == 42.0
    assert e.relapse_day == pytest.approx(84.0 + math.log(0.05 / 1e-4) / (B - D))
    assert e.efs_event and e.efs_days == pytest.approx(e.relapse_day)
    assert not e.os_event  # no death hazard: censored at the end of follow-up
    assert not e.relapse_cd19_negative


def test_cd19_negative_residue_gives_a_cd19_negative_relapse():
    s = _summary(final_blasts_cd19_negative_expected=0.15)  # 0.5 x 0.15 / 1000 = 7.5e-5
    res = residual(s, 0.5)
    assert res.negative == pytest.approx(7.5e-5) and res.cd19_negative


def test_transplant_censors_both_endpoints_on_its_day():
    rules = OutcomeRules(transplant_probability=1.0, transplant_days=30.0,
                         hazards=DeathHazards(0.0, 0.0, 0.0, 0.0))
    e = patient_events(_summary(mrd_level_estimate=1e-9), 0.5, B, D, rules)
    assert math.isinf(e.relapse_day) or e.relapse_day > 114.0  # 1e-9 needs ~60 days
    assert (e.os_days, e.os_event, e.efs_days, e.efs_event) == (114.0, False, 114.0, False)


def test_a_non_responder_fails_at_the_last_assessment():
    e = patient_events(_summary(p_complete_response=0.0), 0.5, B, D)
    assert not e.response and e.efs_event and e.efs_days == 84.0
    assert e.os_event == (e.os_days < OutcomeRules().follow_up_days)


def test_a_responder_above_five_percent_at_the_last_assessment_relapsed_during_the_courses():
    s = _summary(mrd_level_estimate=1e-2, marrow_blast_percent_at_assessments="[0.5, 30.0]")
    e = patient_events(s, 0.5, B, D)
    assert e.response and e.relapse_day == pytest.approx(42.0 + math.log(5) / (B - D))
    assert 42.0 <= e.relapse_day <= 84.0 and e.efs_event and e.efs_days == e.relapse_day


def test_regrowth_seen_by_the_patch_after_the_best_assessment_sets_the_residue():
    rules = OutcomeRules(transplant_probability=0.0, hazards=DeathHazards(0.0, 0.0, 0.0, 0.0))
    s = _summary(mrd_level_estimate=1e-6, marrow_blast_percent_at_assessments="[0.0, 1.0]")
    e = patient_events(s, 0.5, B, D, rules)
    assert e.relapse_day == pytest.approx(84.0 + math.log(5.0) / (B - D))


def test_a_relapse_after_death_is_not_reported():
    rules = OutcomeRules(transplant_probability=0.0, hazards=DeathHazards(1.0, 1.0, 1.0, 1.0))
    e = patient_events(_summary(mrd_level_estimate=1e-8), 0.5, B, D, rules)
    assert e.os_event and e.death_day < 84.0 + 30  # a hazard of 1/day: dead within weeks
    assert e.relapse_day is None or not math.isfinite(e.relapse_day)
    assert e.efs_days == e.os_days


def test_a_response_after_the_window_is_a_treatment_failure():
    late = _summary(assessment_days="[42.0, 126.0]", days=126.0,
                    marrow_blast_percent_at_assessments="[30.0, 1.0]")
    e = patient_events(late, 0.5, B, D, OutcomeRules(response_window_days=84.0))
    assert not e.response and e.efs_event and e.efs_days == 126.0
    assert patient_events(late, 0.5, B, D, OutcomeRules(response_window_days=130.0)).response
