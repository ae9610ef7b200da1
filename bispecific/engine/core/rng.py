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
# a T cell, a normal cell and a molecule with the same index never share a draw.
T_NEIGHBOUR = 0
T_SYNAPSE = 1
T_KILL = 2
T_MOVE = 3
T_PROLIFERATE = 4  # one draw: proliferation (high 32 bits) and death (low 32 bits)
T_DAUGHTER = 5
T_WALK = 6  # the directions of a scanning T cell's steps, 2 bits each
T_PRIORITY = 7  # a T cell's priority when claims collide (kernels/tcells.py)
B_APOPTOSIS = 8  # a blast's waits: to apoptosis (high 32 bits) and division (low 32 bits)
B_REDRAW = 9  # the same, drawn again by a parent after it divides
B_DAUGHTER = 10
N_TURNOVER = 12  # a normal cell's wait to turnover
M_EVENT = 16  # the gaps between the releases of molecules on blasts, laid end to end
M_RELEASE = 17  # keyed by blast: how many of its releases are internalisations
M_BRIDGE = 18  # keyed by T cell: how many molecules on its partner blast bridge
M_BIND = 19  # molecules a blast binds from the pool this step
M_BIND_T = 20  # molecules a T cell binds from the pool this step
M_RELEASE_T = 22  # the gaps between the releases of molecules on T cells
M_BRIDGE_T = 23  # keyed by T cell: how many molecules on it bridge to its partner blast
M_DISSOLVE = 28  # keyed by T cell: how many of its dissolving trimers stay on the blast
POOL_EXIT = 24
POOL_ENTRY = 25
NORMAL_PRODUCTION = 26
NORMAL_VOXEL = 27


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


@njit(cache=True)
def _stirling_tail(k: float) -> float:
    """ln k! minus its Stirling approximation (k + 1/2) ln(k + 1) - (k + 1) + ln sqrt(2 pi)."""
    return math.lgamma(k + 1.0) - ((k + 0.5) * math.log(k + 1.0) - (k + 1.0)
                                   + 0.9189385332046727)


@njit(cache=True)
def binomial(key: np.uint64, agent: int, purpose: int, n: int, p: float) -> int:
    """A Binomial(n, p) variate from counter-based uniforms, exact.

    Inversion (a sequential search of the CDF) when n min(p, 1-p) < 10; otherwise
    Hormann's BTRD transformed rejection (J Stat Comput Simul 1993;46:101). Successive
    uniforms are keyed by agent * 4096 + index, like `poisson`.
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        return n - binomial(key, agent, purpose, n, 1.0 - p)
    base = agent * 4096
    if n * p < 10.0:
        q = 1.0 - p
        ratio = p / q
        f = math.exp(n * math.log1p(-p))
        u = uniform(key, base, purpose)
        k = 0
        while u > f and k < n:
            u -= f
            k += 1
            f *= (n + 1 - k) / k * ratio
        return k
    # BTRD set-up (step 0 of the paper).
    m = int(math.floor((n + 1) * p))
    r = p / (1.0 - p)
    nr = (n + 1) * r
    npq = n * p * (1.0 - p)
    sqrt_npq = math.sqrt(npq)
    b = 1.15 + 2.53 * sqrt_npq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    alpha = (2.83 + 5.1 / b) * sqrt_npq
    vr = 0.92 - 4.2 / b
    urvr = 0.86 * vr
    draw = 1
    while True:
        v = uniform(key, base + draw, purpose)
        draw += 1
        if v <= urvr:  # the box in the middle: accept at once
            u = v / vr - 0.43
            return int(math.floor((2.0 * a / (0.5 - abs(u)) + b) * u + c))
        if v >= vr:
            u = uniform(key, base + draw, purpose) - 0.5
            draw += 1
        else:
            u = v / vr - 0.93
            u = (0.5 if u >= 0.0 else -0.5) - u
            v = vr * uniform(key, base + draw, purpose)
            draw += 1
        us = 0.5 - abs(u)
        k = int(math.floor((2.0 * a / us + b) * u + c))
        if k < 0 or k > n:
            continue
        v = v * alpha / (a / (us * us) + b)
        km = abs(k - m)
        if km <= 15:
            # Recursive evaluation of f(k) / f(m).
            f = 1.0
            if m < k:
                for i in range(m + 1, k + 1):
                    f *= nr / i - r
            elif m > k:
                for i in range(k + 1, m + 1):
                    v *= nr / i - r
            if v <= f:
                return k
            continue
        # Squeeze on log scale, then the exact log-ratio with Stirling tails.
        v = math.log(v)
        rho = (km / npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / npq + 0.5)
        t = -km * km / (2.0 * npq)
        if v < t - rho:
            return k
        if v > t + rho:
            continue
        nm = n - m + 1
        h = ((m + 0.5) * math.log((m + 1) / (r * nm)) + _stirling_tail(m)
             + _stirling_tail(n - m))
        nk = n - k + 1
        if v <= (h + (n + 1) * math.log(nm / nk) + (k + 0.5) * math.log(nk * r / (k + 1))
                 - _stirling_tail(k) - _stirling_tail(n - k)):
            return k
