"""Trial endpoints (docs/model.md s.11): CR and MRD as probabilities from the patch's counts,
assessments at the end of each cycle, enrichment of blast-poor marrow, CD19-negative escape
in expectation."""

import math

import numpy as np
import pytest

from bispecific.readouts.response import (
    Assessment,
    log10_reduction,
    probability_below,
    probability_mrd_negative,
    response_summary,
)
from bispecific.scenario import load_scenario, scenario_from_dict
from bispecific.simulation.patient import assessment_times_h, patch_blast_fraction
from bispecific.simulation.run import run_scenario

from .helpers import ROOT, small_model


def test_cr_probability_matches_the_closed_form_with_no_blast_left():
    """With k = 0 of n cells the Jeffreys posterior is Beta(1/2, n + 1/2), whose CDF at x is
    the regularised incomplete beta; for large n it tends to erf(sqrt(n x))."""
    n, x = 40_000, 1e-4
    assert probability_below(0, n, x) == pytest.approx(math.erf(math.sqrt(n * x)), rel=1e-3)


def test_cr_probability_is_a_half_at_the_threshold_and_monotone():
    n = 6000
    at = probability_below(0.05 * n, n, 0.05)
    assert 0.45 < at < 0.55
    values = [probability_below(k, n, 0.05) for k in (0, 100, 250, 300, 350, 1000)]
    assert values == sorted(values, reverse=True) and values[0] > 0.999 > 1e-3 > values[-1]


def test_mrd_probability_of_an_emptied_patch_is_its_detection_limit():
    """No blast left of k0: P(level < 1e-4) = P(Gamma(1/2) < 1e-4 k0 / f0) = erf(sqrt(.)).
    A patch that started with 3,000 blasts at 50% resolves 10^-4 only to 73%."""
    assert probability_mrd_negative(0, 3000, 0.5) == pytest.approx(math.erf(math.sqrt(0.6)),
                                                                     rel=1e-6)
    assert probability_mrd_negative(0, 200, 0.001) > 0.99  # enriched MRD patch: resolves
    assert probability_mrd_negative(200, 200, 0.001) < 1e-6  # nothing killed: positive


def test_log_reduction_is_censored_at_the_detection_limit():
    assert log10_reduction(3000, 30) == (pytest.approx(2.0), False)
    assert log10_reduction(3000, 0) == (pytest.approx(math.log10(3000)), True)


def test_best_response_is_taken_over_the_assessments():
    taken = [Assessment(0.0, 3000, 6000), Assessment(672.0, 100, 6000),
             Assessment(1680.0, 2000, 6000)]
    s = response_summary(taken, baseline_fraction=0.5, enrichment=1.0)
    assert s["p_complete_response"] > 0.99 and s["complete_response"]
    assert s["best_marrow_blast_percent"] == pytest.approx(100 * 100 / 6000)
    assert s["assessment_days"] == [28.0, 70.0]


def test_assessments_fall_at_the_end_of_each_cycle():
    s = load_scenario(ROOT / "scenarios" / "approved_2_cycles.toml")
    assert [t / 24.0 for t in assessment_times_h(s)] == [28.0, 70.0]
    bolus = load_scenario(ROOT / "scenarios" / "bolus_daily.toml")
    assert [t / 24.0 for t in assessment_times_h(bolus)] == [28.0]


def test_blast_poor_marrow_is_simulated_enriched_and_scaled_back():
    s = load_scenario(ROOT / "scenarios" / "mrd.toml")
    fraction, factor = patch_blast_fraction(s)
    cells = round(s.grid.width * s.grid.height * s.parameters.marrow_cellularity)
    # 200 blasts, but no more than 2% of the patch's cells (120 of 6,000).
    assert fraction * cells == pytest.approx(min(200, 0.02 * cells), abs=1)
    assert factor == pytest.approx(fraction / s.patient.marrow_blast_fraction)
    r = run_scenario(s.with_changes(days=0.05))
    assert r.summary["blast_enrichment"] == pytest.approx(factor)
    assert r.summary["initial_blasts"] == pytest.approx(fraction * cells, abs=1)
    # The patient's blast level is reported, not the patch's.
    assert r.summary["mrd_level_estimate"] == pytest.approx(0.001, rel=0.05)


def _tiny_patient(t_cell_fraction: float, blast_fraction: float):
    d = load_scenario(ROOT / "scenarios" / "mrd.toml").to_dict()
    d["grid"].update(width=8, height=8)
    d["patient"].update(t_cell_fraction=t_cell_fraction, marrow_blast_fraction=blast_fraction)
    return scenario_from_dict(d)


def test_enrichment_never_takes_more_room_than_the_t_cells_leave():
    """Found by the fuzz test: T cells at 100% of the marrow left no room for enriched
    blasts, and the model refused the shares enrichment had made."""
    s = _tiny_patient(0.99, 1e-6)
    fraction, _ = patch_blast_fraction(s)
    assert fraction <= 0.01 + 1e-12
    assert run_scenario(s.with_changes(days=0.05)).summary["initial_t_cells"] > 0


def test_a_vanishing_blast_share_is_simulated_as_it_is_with_finite_readouts():
    """Found by the fuzz test: 5e-324 blasts made the enrichment factor overflow to inf."""
    s = _tiny_patient(0.06, 5e-324)
    assert patch_blast_fraction(s) == (5e-324, 1.0)
    summary = run_scenario(s.with_changes(days=0.05)).summary
    assert all(math.isfinite(v) for v in summary.values() if isinstance(v, float))


def test_mrd_responds_to_drug_and_not_without():
    base = load_scenario(ROOT / "scenarios" / "mrd.toml").to_dict()
    base["grid"].update(width=48, height=48)
    base["scenario"]["days"] = 14
    base["dose"][0]["end_day"] = 14
    treated = run_scenario(scenario_from_dict(base)).summary
    base["dose"] = []
    untreated = run_scenario(scenario_from_dict(base)).summary
    # Untreated, the level grows; treated, it falls (the patient's level, not the patch's).
    assert untreated["mrd_level_estimate"] > 0.001 > treated["mrd_level_estimate"]
    assert treated["p_mrd_negative"] > untreated["p_mrd_negative"]


def test_expected_cd19_negative_subclone_grows_like_untreated_blasts():
    """The mean-field escape estimate against the blasts the kernel actually grows, with no
    drug, over ten days: within 25% (the estimate ignores clustering)."""
    ratios = []
    for seed in range(3):
        m = small_model(size=40, plasma_pg_per_ml=0.0, seed=seed, marrow_blast_fraction=0.2,
                        t_cell_fraction=0.06)
        from bispecific.readouts.escape import ExpectedEscape

        escape = ExpectedEscape(1.0)
        escape.start(m)
        start = m.state.blasts_alive()
        for _ in range(10 * 1440):
            m.step()
            escape.update(m)
        ratios.append((escape.expected / start) / (m.state.blasts_alive() / start))
    assert np.all(np.abs(np.array(ratios) - 1.0) < 0.25), ratios
