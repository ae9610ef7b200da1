"""Biology the model must get right (docs/model.md; targets V21 and the hook effect in
docs/references.md). Stochastic claims are made over several seeds, with an interval."""

import numpy as np

from bispecific import units
from bispecific.engine.core.parameters import ModelParameters
from bispecific.simulation.invitro import concentration_sweep, cytotoxicity_assay

from .helpers import params, small_model

SEEDS = range(4)


def _mean_interval(x) -> tuple[float, float]:
    """Mean and half-width of a normal-theory 95% interval."""
    x = np.asarray(x, float)
    return float(x.mean()), 1.96 * float(x.std(ddof=1)) / np.sqrt(len(x))


def _difference_interval(a, b) -> tuple[float, float]:
    """95% interval for mean(a) - mean(b) (Welch)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = a.mean() - b.mean()
    half = 1.96 * np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return float(diff - half), float(diff + half)


def test_no_drug_gives_no_kills_and_leukaemia_crowds_out_normal_marrow():
    m = small_model(size=30, plasma_pg_per_ml=0.0, seed=5, marrow_blast_fraction=0.5,
                    t_cell_fraction=0.06)
    blasts, normal = m.state.blasts_alive(), m.state.normal_alive()
    m.run_for(10.0)
    assert m.counter("kills_total") == 0 and m.counter("synapses_total") == 0
    assert m.state.n_live_molecules == 0 and m.state.free_molecules == 0
    assert m.state.blasts_alive() > 1.3 * blasts  # net growth ~6.5%/day: x1.9 in 10 days
    assert m.state.normal_alive() < normal


def test_all_blasts_cd19_negative_gives_no_trimers_and_no_kills():
    m = small_model(size=24, plasma_pg_per_ml=5000.0, seed=2, cd19_negative_fraction=1.0)
    m.run_for(0.5)
    assert m.counter("trimers_formed_total") == 0 and m.counter("kills_total") == 0
    assert m.counter("bindings_total") > 0  # T cells still bind drug by the CD3 arm


def test_no_binding_means_no_trimers_and_no_kills():
    m = small_model(size=24, plasma_pg_per_ml=5000.0, seed=2,
                    parameters=params(kon_per_M_per_s=0.0))
    m.run_for(0.5)
    assert m.counter("trimers_formed_total") == 0 and m.counter("kills_total") == 0


def test_serial_killing_in_vitro_v21():
    """Full lysis within 24 h at E:T 1:5 means >= 5 kills per T cell per day (V21),
    [Hoffmann2005]; here at 1 ng/mL (18 pM), a routine in-vitro concentration."""
    results = [cytotoxicity_assay(18.0, effector_target_ratio=0.2, hours=24.0, size=16,
                                  seed=s) for s in SEEDS]
    lysed, _ = _mean_interval([r.fraction_lysed for r in results])
    per_day, half = _mean_interval([r.kills_per_t_cell_per_day for r in results])
    assert lysed > 0.95
    assert per_day - half >= 5.0 * 0.95  # at the target, given a whole number of targets


def test_lysis_rises_with_concentration_and_is_significant_at_picomolar_levels():
    """[Loffler2000]: with unstimulated T cells at E:T 2:1, lysis within 4 h is significant
    at 10-100 pg/mL and rises with concentration. Across 1, 10, 100 and 1,000 pg/mL (far
    below the hook, which starts near uM) lysis never falls significantly from one
    concentration to the next and rises significantly from 1 to 1,000 pg/mL; at 55 pg/mL
    (1 pM, inside Loffler's range) it exceeds 10%.

    The bounds are kept loose on purpose: the contact kernel is being retuned to the in-vitro
    potency targets (issue 21), and this test states the shape and the published range, not
    the model's current EC50."""
    def lysed(pg_per_ml):
        pM = pg_per_ml / units.pM_to_pg_per_ml(1.0)
        return [cytotoxicity_assay(pM, effector_target_ratio=2.0, hours=4.0, size=16,
                                   seed=s).fraction_lysed for s in SEEDS]

    doses = [lysed(c) for c in (1.0, 10.0, 100.0, 1000.0)]
    for lower, higher in zip(doses, doses[1:], strict=False):
        assert _difference_interval(higher, lower)[1] >= 0  # not significantly lower
    assert _difference_interval(doses[-1], doses[0])[0] > 0  # rises over the range
    mean, half = _mean_interval(lysed(units.pM_to_pg_per_ml(1.0)))
    assert mean - half > 0.1


def test_the_hook_effect_emerges_and_the_cd3_arm_sets_where():
    """Kills rise with concentration, then fall once free drug occupies the T cells' CD3
    ([Schropp2019]); a 10x tighter CD3 arm makes the fall begin at a 10x lower
    concentration."""
    low, mid, high = concentration_sweep(np.array([0.3, 1e3, 3e7]), SEEDS, size=8)
    assert _difference_interval(mid, low)[0] > 0  # rising limb
    assert _difference_interval(mid, high)[0] > 0  # falling limb
    tight = ModelParameters().with_overrides({"kd_cd3_nM": 26.0})
    at_1uM = concentration_sweep(np.array([1e6]), SEEDS, size=8)[0]
    at_1uM_tight = concentration_sweep(np.array([1e6]), SEEDS, size=8, parameters=tight)[0]
    assert _difference_interval(at_1uM, at_1uM_tight)[0] > 0


def test_a_weaker_cd3_arm_forms_fewer_trimers_at_clinical_concentrations():
    """The CD3 arm's affinity acts at clinical levels too, through how many of a blast's
    molecules hold the T cell in the contact zone (docs/model.md s.3.3)."""
    def trimers(kd_cd3):
        out = []
        for seed in SEEDS:
            m = small_model(size=24, plasma_pg_per_ml=525.0, seed=seed,
                            parameters=params(kd_cd3_nM=kd_cd3))
            m.run_for(0.5)
            out.append(m.counter("trimers_formed_total"))
        return out

    assert _difference_interval(trimers(260.0), trimers(26_000.0))[0] > 0


def test_more_t_cells_kill_more():
    def kills(fraction):
        out = []
        for seed in SEEDS:
            m = small_model(size=24, plasma_pg_per_ml=3000.0, seed=seed,
                            t_cell_fraction=fraction, marrow_blast_fraction=0.5)
            m.run_for(0.5)
            out.append(m.counter("kills_total"))
        return out

    assert _difference_interval(kills(0.2), kills(0.05))[0] > 0


def test_higher_burden_gives_a_smaller_response_at_fixed_t_cell_density():
    """T cells are a share of marrow cells, not of blasts: more leukaemia means fewer T
    cells per blast, so a smaller log reduction (the clinical direction).

    Two weeks near the 28 ug/day steady state (~650 pg/mL): the effect comes from each
    T cell's killing saturating and exhausting (docs/model.md s.5), which a few days at a
    high concentration do not show (kills per T cell then still grow with blast density).
    T cells are 3% of the marrow: at 6% both burdens clear the 40^2 patch within a week
    since 0.6.0's calibration, and a cleared patch's log reduction is log10 of its
    starting blasts, which is larger for the higher burden (censoring, not biology). At 3%
    the low burden may still clear, which only understates its reduction."""
    def log_reduction(burden):
        out = []
        for seed in range(6):
            m = small_model(size=40, plasma_pg_per_ml=650.0, seed=seed,
                            marrow_blast_fraction=burden, t_cell_fraction=0.03)
            start = m.state.blasts_alive()
            m.run_for(14.0)
            out.append(np.log10(start / max(m.state.blasts_alive(), 1)))
        return out

    low, high = log_reduction(0.2), log_reduction(0.7)
    assert _difference_interval(low, high)[0] > 0
