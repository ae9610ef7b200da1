"""The counter-based generator: right distributions, no dependence on visiting order."""

import math

import numpy as np
import pytest
from numba import njit

from bispecific.engine.core import rng


@njit(cache=True)
def _uniforms(key, n, purpose):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.uniform(key, i, purpose)
    return out


@njit(cache=True)
def _poissons(key, n, lam):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = rng.poisson(key, i, rng.POOL_ENTRY, lam)
    return out


@njit(cache=True)
def _binomials(key, n, trials, p):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = rng.binomial(key, i, rng.POOL_EXIT, trials, p)
    return out


@njit(cache=True)
def _geometric(key, n, p):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = rng.geometric_steps(rng.uniform(key, i, 4), p)
    return out


def test_uniforms_are_uniform_and_independent_of_purpose():
    key = np.uint64(rng.step_key(42, 7))
    a = _uniforms(key, 200_000, 1)
    b = _uniforms(key, 200_000, 2)
    assert 0.0 <= a.min() and a.max() < 1.0
    assert abs(a.mean() - 0.5) < 0.005
    assert abs(a.var() - 1 / 12) < 0.002
    counts, _ = np.histogram(a, bins=20, range=(0, 1))
    chi2 = ((counts - 10_000) ** 2 / 10_000).sum()
    assert chi2 < 50  # 19 degrees of freedom; p ~ 1e-4
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01


def test_a_draw_depends_only_on_its_key_not_on_order():
    key = np.uint64(rng.step_key(3, 11))
    forward = _uniforms(key, 1000, 5)
    assert forward[500] == rng.uniform(key, 500, 5)
    other_step = _uniforms(np.uint64(rng.step_key(3, 12)), 1000, 5)
    assert not np.array_equal(forward, other_step)


@pytest.mark.parametrize("lam", [0.3, 4.0, 9.9, 10.0, 57.0, 2500.0])
def test_poisson_mean_and_variance(lam):
    x = _poissons(np.uint64(rng.step_key(1, 1)), 40_000, lam)
    se = math.sqrt(lam / len(x))
    assert abs(x.mean() - lam) < 5 * se
    assert abs(x.var() / lam - 1.0) < 0.06


@pytest.mark.parametrize("trials,p", [(30, 0.1), (4000, 0.095), (1000, 0.5), (200, 0.9),
                                      (10**9, 0.095), (10**6, 1e-6)])
def test_binomial_matches_the_exact_distribution(trials, p):
    """Both algorithms (inversion below a mean of 10, BTRD above) against the exact pmf, by
    a chi-square test on the central bins (scipy's binomial pmf is the independent number)."""
    from scipy import stats

    x = _binomials(np.uint64(rng.step_key(3, 4)), 60_000, trials, p)
    assert x.min() >= 0 and x.max() <= trials
    mean, sd = trials * p, math.sqrt(trials * p * (1 - p))
    assert abs(x.mean() - mean) < 5 * sd / math.sqrt(len(x))
    assert abs(x.var() / sd**2 - 1.0) < 0.05
    if sd > 1e3:  # far too many outcomes to bin one by one: check the tails instead
        z = (x - mean) / sd
        assert abs((np.abs(z) > 1.96).mean() - 0.05) < 0.006
        return
    lo, hi = int(max(0, mean - 6 * sd)), int(min(trials, mean + 6 * sd))
    support = np.arange(lo, hi + 1)
    expected = stats.binom.pmf(support, trials, p) * len(x)
    observed = np.bincount(np.clip(x, lo, hi) - lo, minlength=len(support))
    keep = expected > 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4


def test_binomial_edge_cases():
    key = np.uint64(rng.step_key(1, 2))
    assert (_binomials(key, 100, 0, 0.5) == 0).all()
    assert (_binomials(key, 100, 50, 0.0) == 0).all()
    assert (_binomials(key, 100, 50, 1.0) == 50).all()


@pytest.mark.parametrize("p", [0.0073, 0.3, 0.62, 1.0])
def test_geometric_waiting_time_matches_a_per_step_chance(p):
    w = _geometric(np.uint64(rng.step_key(5, 5)), 200_000, p)
    assert w.min() >= 1
    assert abs(w.mean() * p - 1.0) < 0.02  # mean 1/p
    assert abs((w == 1).mean() - p) < 0.005  # P(release on the first step) = p


@pytest.mark.parametrize("p", [2e-5, 0.004, 0.3])
def test_binding_from_the_pool_is_binomial_per_cell(p):
    """Both ways of drawing bindings (geometric gaps through the receptors of a block of
    cells for a small chance, a binomial per cell above 1%) give each cell
    Binomial(free receptors, p)."""
    from bispecific.engine.core.kernels.molecules import bind_blocks, binding_counts

    n_blasts, copies = 4000, 500
    alive = np.ones(n_blasts, np.uint8)
    cd19 = np.full(n_blasts, float(copies))
    bound = np.zeros(n_blasts, np.int32)
    bound[::2] = 100  # half the cells have 400 free receptors, half 500
    constants = np.zeros(40)
    counts = []
    for step in range(25):
        out = np.zeros(n_blasts, np.int64)
        binding_counts(np.uint64(rng.step_key(7, step)), constants, 10**12, p, 0.0, n_blasts,
                       np.arange(n_blasts, dtype=np.int32), n_blasts, alive, cd19, bound, 0,
                       np.zeros(0, np.uint8), np.zeros(0, np.int32), out,
                       np.zeros(bind_blocks(n_blasts, 0), np.int64))
        counts.append(out)
    counts = np.array(counts)
    for free, cells in ((400, counts[:, ::2]), (500, counts[:, 1::2])):
        mean, var = free * p, free * p * (1 - p)
        assert abs(cells.mean() - mean) < 5 * math.sqrt(var / cells.size)
        # The sample variance's own sampling error: (mu4 - var^2) / n, ~(var + 2 var^2) / n.
        assert abs(cells.var() - var) < 5 * math.sqrt((var + 2 * var**2) / cells.size)
