"""The counter-based generator: right distributions, no dependence on visiting order."""

import math

import numpy as np
import pytest
from numba import njit

from bispecific.engine import rng


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
        out[i] = rng.poisson(key, i, rng.INFLUX_COUNT, lam)
    return out


@njit(cache=True)
def _alias_draws(key, n, values, threshold, alias):
    out = np.empty((n, 2), np.int64)
    n_columns = values.shape[0]
    for i in range(n):
        bits = rng.draw_bits(key, i, 3)
        for axis, word in enumerate((bits >> np.uint64(32), bits & np.uint64(0xFFFFFFFF))):
            col, coin = rng.alias_column(word, n_columns)
            out[i, axis] = values[col] if coin < threshold[col] else alias[col]
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


@pytest.mark.parametrize("sigma", [0.4, 2.3, 7.7])
def test_alias_table_reproduces_rounded_normal_on_both_axes(sigma):
    values, threshold, alias = rng.rounded_normal_alias_table(sigma)
    assert len(values) & (len(values) - 1) == 0  # padded to a power of two
    xy = _alias_draws(np.uint64(rng.step_key(9, 9)), 200_000, values, threshold, alias)
    def cdf(z):
        return 0.5 * (1 + math.erf(z / (sigma * math.sqrt(2))))

    ks = np.arange(-60, 61)
    pk = np.array([cdf(k + 0.5) - cdf(k - 0.5) for k in ks])
    exact_var = float((ks**2 * pk).sum())  # exact variance of round(sigma Z)
    for x in (xy[:, 0], xy[:, 1]):
        assert abs(x.mean()) < 0.03 * max(sigma, 1)
        assert abs(x.var() / exact_var - 1) < 0.03
        assert abs((x == 0).mean() - pk[60]) < 0.005
    assert abs(np.corrcoef(xy[:, 0], xy[:, 1])[0, 1]) < 0.01


def test_zero_diffusion_never_moves():
    values, threshold, alias = rng.rounded_normal_alias_table(0.0)
    xy = _alias_draws(np.uint64(1), 1000, values, threshold, alias)
    assert not xy.any()


@pytest.mark.parametrize("p", [0.0073, 0.3, 0.62, 1.0])
def test_geometric_waiting_time_matches_a_per_step_chance(p):
    w = _geometric(np.uint64(rng.step_key(5, 5)), 200_000, p)
    assert w.min() >= 1
    assert abs(w.mean() * p - 1.0) < 0.02  # mean 1/p
    assert abs((w == 1).mean() - p) < 0.005  # P(release on the first step) = p
