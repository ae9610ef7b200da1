"""The same inputs and seed give bit-identical results, serial or parallel."""

import numpy as np

from .helpers import small_model


def _snapshot(m):
    s = m.state
    n = s.n_molecules
    return (
        s.m_state[:n].copy(), s.m_blast[:n].copy(), s.m_tcell[:n].copy(),
        s.m_release[:n].copy(), s.b_alive[: s.n_blasts].copy(), s.t_voxel[: s.n_tcells].copy(),
        s.c_voxel[: s.n_normal].copy(), s.counters.copy(), np.array([s.free_molecules]),
        m.datacollector.get_model_vars_dataframe(),
    )


def _equal(a, b):
    pairs = zip(a, b, strict=True)
    return all(x.equals(y) if hasattr(x, "equals") else np.array_equal(x, y) for x, y in pairs)


def test_same_seed_same_result():
    runs = []
    for _ in range(2):
        m = small_model(size=20, plasma_pg_per_ml=2000.0, seed=123)
        m.run_for(0.3)
        runs.append(_snapshot(m))
    assert _equal(*runs)


def test_parallel_kernel_matches_serial_bit_for_bit():
    runs = []
    for parallel in (False, True):
        m = small_model(size=20, plasma_pg_per_ml=2000.0, seed=9, parallel=parallel)
        m.run_for(0.3)
        runs.append(_snapshot(m))
    assert _equal(*runs)


def test_different_seeds_differ():
    a = small_model(size=20, plasma_pg_per_ml=2000.0, seed=1)
    b = small_model(size=20, plasma_pg_per_ml=2000.0, seed=2)
    a.run_for(0.1)
    b.run_for(0.1)
    assert not _equal(_snapshot(a), _snapshot(b))


def test_seed_is_recorded_even_when_drawn():
    m = small_model(size=10, seed=None)
    assert isinstance(m.seed, int)
    again = small_model(size=10, seed=m.seed)
    m.run_for(0.05)
    again.run_for(0.05)
    assert _equal(_snapshot(m), _snapshot(again))
