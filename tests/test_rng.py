"""The counter-based generator: right distributions, no dependence on visiting order."""

import math

import numpy as np
import pytest
from numba import njit

from bispecific import rng


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
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = rng.alias_sample(rng.draw_bits(key, i, 3), values, threshold, alias)
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


def test_alias_table_reproduces_rounded_normal():
    sigma = 2.3
    values, threshold, alias = rng.rounded_normal_alias_table(sigma)
    x = _alias_draws(np.uint64(rng.step_key(9, 9)), 200_000, values, threshold, alias)
    assert abs(x.mean()) < 0.03
    # Variance of round(sigma Z) is sigma^2 + 1/12 (Sheppard's correction).
    assert abs(x.var() - (sigma**2 + 1 / 12)) < 0.08
    p0 = math.erf(0.5 / (sigma * math.sqrt(2)))
    assert abs((x == 0).mean() - p0) < 0.005


def test_zero_diffusion_never_moves():
    values, threshold, alias = rng.rounded_normal_alias_table(0.0)
    x = _alias_draws(np.uint64(1), 1000, values, threshold, alias)
    assert not x.any()
