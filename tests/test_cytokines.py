"""Cytokines from the expected release, and the CRS readout (docs/model.md s.9-10; targets
V6-V10 in docs/references.md). Stochastic claims over several seeds, with intervals."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bispecific.readouts.crs import CrsParameters, grade_probabilities
from bispecific.readouts.cytokines import (
    CytokineParameters,
    CytokineReadout,
    dexamethasone_damping,
)
from bispecific.readouts.release import ExpectedRelease
from bispecific.scenario import Grid, scenario_from_dict
from bispecific.simulation.run import run_scenario

from .helpers import small_model

INFUSION_28 = [{"kind": "infusion", "start_day": 0, "end_day": 9, "rate_ug_per_day": 28}]
STEPPED = [{"kind": "infusion", "start_day": 0, "end_day": 7, "rate_ug_per_day": 9},
           {"kind": "infusion", "start_day": 7, "end_day": 9, "rate_ug_per_day": 28}]
BOLUS_DAILY = [{"kind": "bolus", "day": 0, "dose_ug": 28, "every_days": 1, "until_day": 9}]


def run(doses, days=2.0, seed=3, size=50, **tables):
    """The first `days` of a 9-day schedule (as --days runs it)."""
    data = {"scenario": {"name": "t", "days": 9.0, "seed": seed},
            "grid": {"width": size, "height": size}, "dose": doses}
    data.update(tables)
    return run_scenario(scenario_from_dict(data).with_changes(days=days))


def test_expected_release_equals_the_realized_release_on_average():
    """The readout's input is the expectation of what the patch releases: over seeds, the
    kernel's realized synapse-minutes and the expected ones agree, while the expected one is
    far smoother minute to minute (the noise that biased peak IL-6 upward)."""
    realized, expected, wiggle_realized, wiggle_expected = [], [], [], []
    for seed in range(10):
        # 525 pg/mL plasma is 210 pg/mL at the cells (partition 0.4): the tissue level this
        # test was written for, where a contact's synapse chance is moderate. At saturating
        # drug nearly every contact becomes a synapse, and expectation and draw coincide.
        m = small_model(size=24, plasma_pg_per_ml=525.0, seed=seed)
        release = ExpectedRelease(m.params, m.dt_minutes)
        per_step = []
        for _ in range(420):
            m.step()
            chances, decisions = m.step_lethal_chances
            per_step.append((m.step_stimulation,
                             release.update(m.step_expected_synapses, chances, decisions)))
        series = np.array(per_step)
        realized.append(series[:, 0].sum())
        expected.append(series[:, 1].sum())
        # Minute-to-minute noise: spread around a 30-minute running mean, after the first hour.
        smooth = np.array([np.convolve(series[:, i], np.ones(30) / 30, "same")
                           for i in (0, 1)]).T
        wiggle = (series - smooth)[60:-30].std(axis=0)
        wiggle_realized.append(wiggle[0])
        wiggle_expected.append(wiggle[1])
    realized, expected = np.array(realized), np.array(expected)
    se = np.sqrt(realized.var(ddof=1) / len(realized) + expected.var(ddof=1) / len(expected))
    assert abs(realized.mean() - expected.mean()) < 4 * se
    assert np.mean(wiggle_expected) < 0.5 * np.mean(wiggle_realized)


def test_peak_il6_and_crs_risk_do_not_depend_on_the_patch_size():
    """The readout has converged: a patch 4x larger changes the default patient's peak IL-6
    and CRS probabilities by less than 10%."""
    def readouts(size):
        r = run(INFUSION_28, days=2.0, seed=7, size=size)
        s = r.summary
        return np.array([s["peak_il6_pg_per_ml"], s["p_crs_grade1_or_more"],
                         s["p_crs_grade2_or_more"], s["p_fever"]])

    default, larger = readouts(100), readouts(200)
    assert np.all(np.abs(default / larger - 1.0) < 0.10), (default, larger)


def test_no_drug_leaves_cytokines_at_baseline_and_no_crs():
    r = run([], days=1.0)
    ts = r.timeseries
    assert (ts["il6_pg_per_ml"] == 10.0).all() and (ts["ifng_pg_per_ml"] == 2.0).all()
    # The bounds of the old test, on the same thresholds: grade 1 is fever (1.80, < 0.05) and
    # grade 2 sits where the old any-grade threshold did (2.40, < 1e-3).
    assert r.summary["p_crs_grade2_or_more"] < 1e-3 and r.summary["p_crs_grade1_or_more"] < 0.05
    assert r.summary["p_fever"] == r.summary["p_crs_grade1_or_more"]


@pytest.mark.parametrize("seed", [1, 2])
def test_il6_peaks_early_and_returns_near_baseline_under_continued_infusion(seed):
    r = run(INFUSION_28, days=8.0, seed=seed)
    assert r.summary["time_of_peak_il6_h"] < 48.0  # V7
    day7 = r.timeseries[r.timeseries["time_h"] >= 7 * 24]["il6_pg_per_ml"]
    assert day7.median() < 40.0  # V8: 10-40 pg/mL by day 7 despite continued infusion
    assert day7.median() < 0.25 * r.summary["peak_il6_pg_per_ml"]


@pytest.mark.parametrize("seed", [1, 3])
def test_a_bolus_start_and_a_flat_start_raise_cytokines_and_a_flat_start_crs(seed):
    """V6: the same daily dose as boluses, or at full dose from day 0, gives higher early
    cytokines than stepping up; V10: release, and with it CRS, is lower with a low starting
    dose, so a flat full-dose start gives more CRS than the step-up (same patient and seed).

    The daily boluses' CRS is not asserted: V6's sources give their cytokine peaks, not a CRS
    rate, and the CRS readout's exposure is a CRP-like average over about a day (s.10), over
    which two- to three-hour spikes weigh like the step-up's lower plateau (docs/model.md
    s.10 states this as an open question)."""
    stepped = run(STEPPED, days=9.0, seed=seed).summary
    flat = run(INFUSION_28, days=9.0, seed=seed).summary
    bolus = run(BOLUS_DAILY, days=9.0, seed=seed).summary
    for higher in (flat, bolus):
        assert higher["peak_il6_pg_per_ml"] > 1.3 * stepped["peak_il6_pg_per_ml"]
    assert flat["p_crs_grade2_or_more"] > 1.2 * stepped["p_crs_grade2_or_more"]


def test_higher_blast_burden_gives_more_crs():
    low = run(INFUSION_28, patient={"marrow_blast_fraction": 0.1}).summary
    high = run(INFUSION_28, patient={"marrow_blast_fraction": 0.8}).summary
    assert high["peak_il6_pg_per_ml"] > 2.0 * low["peak_il6_pg_per_ml"]
    assert high["p_crs_grade2_or_more"] > low["p_crs_grade2_or_more"]


def test_dexamethasone_cuts_release_not_killing_and_the_il6_peak_follows_through_the_chain():
    """Consequences, not the damping restated. (1) Dexamethasone leaves killing untouched, as
    [Brandl2007] measured (no inhibition of lysis, 12 donors): same seed, same kills and
    blasts. (2) Release -> IFN-g/TNF -> IL-6 is a linear chain with ~20-30 min half-lives,
    fast beside the 36 h fading of the drug's effect, so the IL-6 excess over baseline is
    scaled by the fraction of release left *at that time*: the peak by 1 - d(t_peak), not by
    (1 - d)^2 as when the damping was applied twice, and the first day's excess by a
    release-weighted average of 1 - d(t), which must lie between its values at 0 h and 24 h."""
    plain = run(INFUSION_28, days=1.0, size=40)
    premed = run(INFUSION_28, days=1.0, size=40, premedication={"dexamethasone": True})
    for key in ("kills_total", "final_blasts", "nadir_blasts"):
        assert premed.summary[key] == plain.summary[key]
    p = CytokineParameters()
    lead = p.premedication_lead_h

    def left(t_h):
        return 1.0 - dexamethasone_damping(t_h, [-lead], p)

    a, b = plain.timeseries, premed.timeseries
    base = p.il6_baseline_pg_per_ml
    t_peak = float(a["time_h"][a["il6_pg_per_ml"].idxmax()])
    peak_ratio = (b["il6_pg_per_ml"].max() - base) / (a["il6_pg_per_ml"].max() - base)
    assert peak_ratio == pytest.approx(left(t_peak), abs=0.03)
    day_ratio = (b["il6_pg_per_ml"] - base).sum() / (a["il6_pg_per_ml"] - base).sum()
    assert left(0.0) - 0.01 <= day_ratio <= left(24.0) + 0.01


def test_premedication_lowers_the_crs_risk():
    plain = run(INFUSION_28, days=3.0).summary
    premed = run(INFUSION_28, days=3.0, premedication={"dexamethasone": True}).summary
    assert premed["p_crs_grade2_or_more"] < plain["p_crs_grade2_or_more"]


@given(exposure=st.floats(1.0, 1e6), sd=st.floats(0.05, 2.0),
       thresholds=st.lists(st.floats(0.5, 5.0), min_size=4, max_size=4))
def test_grade_probabilities_are_ordered_and_rise_with_exposure(exposure, sd, thresholds):
    t = sorted(thresholds)
    p = CrsParameters(susceptibility_sd_log10=sd, theta_grade1=t[0], theta_grade2=t[1],
                      theta_grade3=t[2], theta_grade4=t[3])
    probs = grade_probabilities(exposure, p)
    values = [probs[k] for k in (1, 2, 3, 4)]
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= v <= 1.0 for v in values)
    more = grade_probabilities(exposure * 2.0, p)
    assert all(more[k] >= probs[k] for k in probs)


def test_crs_columns_and_summary_keys():
    r = run(INFUSION_28, days=0.5)
    for column in ("il6_pg_per_ml", "crs_exposure_pg_per_ml", "crs_p_fever",
                   *(f"crs_p_grade{k}" for k in (1, 2, 3, 4))):
        assert column in r.timeseries
    for key in ("p_crs_grade1_or_more", "p_crs_grade4_or_more", "p_fever",
                "time_of_peak_crs_risk_h", "expected_hours_crs_grade_2_or_more"):
        assert key in r.summary


def test_the_realized_release_is_still_available_for_comparison():
    """CytokineReadout without an expected release follows the patch's own draw."""
    m = small_model(size=16, plasma_pg_per_ml=3000.0, seed=1)
    readout = CytokineReadout(scale=1e8, weight_kg=70.0)
    for _ in range(60):
        m.step()
        readout.update(m)
    assert readout.last_release == m.step_stimulation


def test_scenario_tables_for_the_crs_readout_validate(tmp_path):
    data = {"scenario": {"name": "t", "days": 0.1, "seed": 1}, "dose": [],
            "crs": {"theta_grade2": 2.5}, "grid": dataclasses.asdict(Grid(12, 12, 10.0))}
    assert scenario_from_dict(data).crs.theta_grade2 == 2.5
