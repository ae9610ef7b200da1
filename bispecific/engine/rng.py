"""Counter-based random numbers for the kernels.

Every draw is a hash of (seed, step, agent index, purpose): no draw depends on the order in
which agents are visited or on the number of threads, so serial and parallel kernels give
bit-identical results, and no generator state has to be carried between steps.

The mixer is the SplitMix64 / MurmurHash3 finaliser, a bijection on 64-bit words. For a fixed
step key, distinct (agent, purpose) pairs map to distinct inputs and so to distinct outputs.
SplitMix64 (which is exactly this finaliser applied to a Weyl sequence) passes BigCrush.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_PURPOSE_BITS = np.uint64(5)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO_M53 = 1.0 / 9007199254740992.0
_TWO_M32 = 1.0 / 4294967296.0

# Purposes: one code per kind of decision, < 32. Populations use disjoint codes, so a blast,
# a T cell and a molecule with the same index never share a draw.
T_NEIGHBOUR = 0
T_SYNAPSE = 1
T_KILL = 2
T_MOVE = 3
T_PROLIFERATE = 4  # one draw: proliferation (high 32 bits) and death (low 32 bits)
T_DAUGHTER = 5
B_APOPTOSIS = 8  # one draw: apoptosis (high 32 bits) and division (low 32 bits)
B_DAUGHTER = 10
M_EVENT = 16
M_MOVE = 17
M_BIND = 19
INFLUX_COUNT = 24
INFLUX_VOXEL = 25


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def step_key(seed: int, step: int) -> np.uint64:
    """The key shared by every draw of one step."""
    k = mix64(np.uint64(seed) * _GOLDEN + _GOLDEN)
    return mix64(k ^ (np.uint64(step) * _M1 + _GOLDEN))


@njit(cache=True, inline="always")
def draw_bits(key: np.uint64, agent: int, purpose: int) -> np.uint64:
    return mix64(key ^ (((np.uint64(agent) << _PURPOSE_BITS) | np.uint64(purpose)) * _GOLDEN))


@njit(cache=True, inline="always")
def uniform(key: np.uint64, agent: int, purpose: int) -> float:
    """A float in [0, 1) with 53 random bits."""
    # Through int64: uint64 -> float is a slow instruction sequence on x86, int64 -> float one.
    return float(np.int64(draw_bits(key, agent, purpose) >> _S11)) * _TWO_M53


@njit(cache=True, inline="always")
def split32(bits: np.uint64) -> tuple[float, float]:
    """Two floats in (0, 1) from the high and low 32 bits of one draw."""
    hi = float(np.int64(bits >> _S32))
    lo = float(np.int64(bits & _LOW32))
    return (hi + 0.5) * _TWO_M32, (lo + 0.5) * _TWO_M32


@njit(cache=True)
def poisson(key: np.uint64, agent: int, purpose: int, lam: float) -> int:
    """A Poisson(lam) variate from counter-based uniforms.

    Inversion for small means; Hormann's PTRS transformed rejection (the method NumPy uses)
    for lam >= 10. Successive uniforms are keyed by agent * 4096 + attempt.
    """
    if lam <= 0.0:
        return 0
    base = agent * 4096
    if lam < 10.0:
        u = uniform(key, base, purpose)
        k = 0
        p = math.exp(-lam)
        cdf = p
        while u > cdf and k < 1000:
            k += 1
            p *= lam / k
            cdf += p
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    attempt = 0
    while True:
        uu = uniform(key, base + 2 * attempt + 1, purpose) - 0.5
        v = uniform(key, base + 2 * attempt + 2, purpose)
        attempt += 1
        us = 0.5 - abs(uu)
        k = int(math.floor((2.0 * a / us + b) * uu + lam + 0.43))
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (
            -lam + k * loglam - math.lgamma(k + 1.0)
        ):
            return k


def rounded_normal_alias_table(sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walker/Vose alias table for round(sigma * Z), Z standard normal.

    The table is padded with empty columns to a power of two, 2^c columns, so that one
    32-bit word gives an exact column (its top c bits) and a coin (the other 32 - c bits):
    one 64-bit draw moves a molecule along both axes. Returns (values int32, acceptance
    threshold uint64 on a 2^32 scale, alias value int32).
    """
    if sigma <= 0.0:
        values = np.zeros(2, np.int32)
        return values, np.full(2, 2**32, np.uint64), values.copy()
    kmax = int(math.ceil(8.0 * sigma)) + 1
    support = np.arange(-kmax, kmax + 1, dtype=np.int32)

    def cdf(x: float) -> float:
        return 0.5 * (1.0 + math.erf(x / (sigma * math.sqrt(2.0))))

    probs = np.array([cdf(k + 0.5) - cdf(k - 0.5) for k in support])
    probs /= probs.sum()
    n = 1 << int(math.ceil(math.log2(len(probs))))
    values = np.zeros(n, np.int32)
    values[: len(support)] = support
    padded = np.zeros(n)
    padded[: len(probs)] = probs
    scaled = padded * n
    accept = np.ones(n)
    alias = np.arange(n)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        accept[s] = scaled[s]
        alias[s] = g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    threshold = np.minimum(np.round(accept * 2.0**32), 2.0**32).astype(np.uint64)
    return values, threshold, values[alias].astype(np.int32)


@njit(cache=True, inline="always")
def alias_column(word: np.uint64, n_columns: int) -> tuple[int, np.uint64]:
    """Column and coin for a power-of-two alias table of `n_columns`, from a 32-bit word.

    With n = 2^c columns, word * n splits exactly into the column (the bits above bit 32)
    and a coin (the low 32 bits). Take the value as `values[col]` if `coin < threshold[col]`,
    else `alias_values[col]`. Scalars only: hot-loop helpers that take arrays pay Numba's
    reference counting per call (measured 39 ns against 0.7 ns written out).
    """
    scaled = word * np.uint64(n_columns)
    return int(scaled >> _S32), scaled & _LOW32


@njit(cache=True, inline="always")
def event_probability(rate: float) -> float:
    """1 - exp(-rate), by its series below 1e-3 (error < rate^4/24, under 1e-13 relative),
    where per-step rates of rare events live and `exp` would dominate the cost."""
    if rate < 1e-3:
        return rate * (1.0 - rate * (0.5 - rate / 6.0))
    return 1.0 - math.exp(-rate)


@njit(cache=True, inline="always")
def geometric_steps(u: float, p: float) -> int:
    """Steps until the first success of a per-step chance p (>= 1), from a uniform u."""
    if p >= 1.0:
        return 1
    if p <= 0.0:
        return 2**30
    return 1 + int(min(math.log(u) / math.log1p(-p), 2.0**30))
