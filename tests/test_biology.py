"""Biology the model must get right in direction (docs/model.md; science.md V21)."""

import numpy as np

from .helpers import params, small_model


def _kills(plasma, seeds=range(4), hours=12, **kw):
    total = []
    for seed in seeds:
        m = small_model(size=24, plasma_pg_per_ml=plasma, seed=seed, **kw)
        m.run_for(hours / 24)
        total.append(m.counter("kills_total"))
    return np.array(total)


def test_no_drug_gives_no_kills_and_blasts_grow():
    m = small_model(size=30, plasma_pg_per_ml=0.0, seed=5)
    start = m.state.blasts_alive()
    m.run_for(2.0)
    assert m.counter("kills_total") == 0
    assert m.counter("synapses_total") == 0
    assert m.state.n_live_molecules == 0
    assert m.state.blasts_alive() > start


def test_all_blasts_cd19_negative_gives_no_kills():
    kills = _kills(5000.0, cd19_negative_fraction=1.0)
    assert kills.sum() == 0


def test_drug_makes_blasts_fall():
    m = small_model(size=30, plasma_pg_per_ml=2000.0, seed=5)
    start = m.state.blasts_alive()
    m.run_for(2.0)
    assert m.state.blasts_alive() < 0.7 * start


def test_more_drug_below_saturation_kills_more():
    low, mid, high = (_kills(c).mean() for c in (50.0, 200.0, 800.0))
    assert low < mid < high


def test_higher_effector_ratio_kills_faster():
    few = _kills(800.0, t_cells_per_blast=0.05)
    many = _kills(800.0, t_cells_per_blast=0.4)
    assert many.mean() > 2 * few.mean()


def test_t_cells_kill_serially():
    m = small_model(size=30, plasma_pg_per_ml=5000.0, seed=2)
    m.run_for(1.0)
    kills = m.state.t_kills[: m.state.n_tcells]
    assert kills.max() >= 3
    assert (kills > 1).sum() >= 5


def test_no_binding_means_no_kills():
    kills = _kills(5000.0, parameters=params(kon_per_M_per_s=0.0))
    assert kills.sum() == 0
