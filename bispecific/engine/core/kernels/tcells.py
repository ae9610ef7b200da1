"""T cells: contacts, synapses decided by trimers, serial killing, motility, proliferation and
death (docs/model.md s.5); and each engaged pair's bridging chances (s.3.3).

Serial over T cells in slot order: contacts and moves compete for blasts and voxels, and a
fixed order keeps the outcome deterministic. T cells are few compared with molecules.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .. import rng
from ..state import (
    BLAST,
    CONTACT,
    CONTACTS,
    EMPTY,
    FAILED,
    KILLS,
    LYTIC,
    SCANNING,
    SYNAPSES,
    T_BIRTHS,
    T_DEATHS,
    TCELL,
)
from . import constants as k
from .grid import free_neighbour, neighbour
from .prefetch import prefetch

_S32 = np.uint64(32)
# How many T cells ahead the pass asks for a T cell's neighbourhood (kernels/prefetch.py):
# far enough for a read from memory to arrive, near enough that it is still cached.
PREFETCH_AHEAD = 16


@njit(cache=True, inline="always")
def _direction(bits: np.uint64, n: int) -> int:
    return int(((bits >> _S32) * np.uint64(n)) >> _S32)


@njit(cache=True, inline="always")
def zone_trimers(n: float, m: float, k2d_zone: float) -> float:
    """New trimers from `n` gathered molecules and `m` free receptors in a zone: the root of
    x = (n - x)(m - x) / K below min(n, m), in its cancellation-free form."""
    if n <= 0.0 or m <= 0.0:
        return 0.0
    s = n + m + k2d_zone
    return 2.0 * n * m / (s + math.sqrt(max(s * s - 4.0 * n * m, 0.0)))


@njit(cache=True, inline="always")
def zone_bridged_share(total: float, free_other: float, trimers: float, share: float,
                       gather_rate: float, age_min: float, k2d_zone: float) -> float:
    """The share of a side's `total` molecules bridged at quasi-equilibrium in a zone of
    age `age_min` (s.3.3): the gathered `G(age) * total` against the zone's receptors."""
    if total <= 0.0:
        return 0.0
    gathered = 1.0 - (1.0 - share) * math.exp(-gather_rate * age_min)
    return zone_trimers(gathered * total, free_other + trimers, k2d_zone) / total


@njit(cache=True, inline="always")
def zone_new_trimers(single: float, trimers: float, free_other: float, share: float,
                     gather_rate: float, age_min: float, dt: float, k2d_zone: float) -> float:
    """The chance that one of `single` singly-bound molecules bridges in a step that ends at
    zone age `age_min` (s.3.3): each molecule is bridged by age `tau` with probability
    `P(tau)`, so one not bridged yet converts with `(P(tau) - P(tau - dt)) / (1 - P(tau -
    dt))`; in a zone's first step `P(tau - dt)` is the share already bridged."""
    if single <= 0.0:
        return 0.0
    total = single + trimers
    now = zone_bridged_share(total, free_other, trimers, share, gather_rate, age_min,
                             k2d_zone)
    if age_min <= dt + 1e-9:
        before = trimers / total
    else:
        before = zone_bridged_share(total, free_other, trimers, share, gather_rate,
                                    age_min - dt, k2d_zone)
    if now <= before or before >= 1.0:
        return 0.0
    # Never more than the other cell's free receptors in the zone: once they are all
    # bridged (saturating drug), no new trimer can form whatever the gathering does.
    return min(1.0, (now - before) / (1.0 - before), free_other / single)


@njit(cache=True, inline="always")
def _bridging_chances(c, zone, age_min, t, b, b_cd19, b_bound, b_trimers, t_bound,
                      t_trimers, t_bridge_blast, t_bridge_tcell):
    """The chance, this step, that a singly-bound molecule on each side becomes a trimer;
    `age_min` is the zone's age at the end of the step."""
    cd3 = c[k.CD3_COPIES]
    dt = c[k.DT_MIN]
    trimers = float(t_trimers[t])
    share_b = c[k.ZONE_SHARE_BLAST + zone]
    share_t = c[k.ZONE_SHARE_TCELL + zone]
    free_cd3 = share_t * max(cd3 - t_bound[t], 0.0)
    free_cd19 = share_b * max(b_cd19[b] - b_bound[b], 0.0)
    t_bridge_blast[t] = zone_new_trimers(
        float(b_bound[b] - b_trimers[b]), trimers, free_cd3, share_b, c[k.GATHER_RATE],
        age_min, dt, c[k.K2D_CD3_ZONE + zone])
    t_bridge_tcell[t] = zone_new_trimers(
        float(t_bound[t] - t_trimers[t]), trimers, free_cd19, share_t, c[k.GATHER_RATE],
        age_min, dt, c[k.K2D_CD19_ZONE + zone])


@njit(cache=True, inline="always")
def phase_over(timer_min: float, dt: float) -> bool:
    """A phase ends on the step nearest its length: when at most dt / 2 is left (s.5)."""
    return timer_min <= 0.5 * dt + 1e-9


@njit(cache=True)
def _probe(key, t, v, width, height, occ_kind, occ_idx, b_partner, b_cd19,
           probe_per_neighbour, dt) -> tuple[int, float]:
    """The blast a scanning T cell at voxel `v` contacts this step (or -1), and when in the
    step it found it, min (s.5): probes at a rate per minute, each at a random Moore
    neighbour, `j` of them available, so the first find is exponential at rate
    `probe_rate * j / 8`."""
    available = 0
    for d in range(8):
        nv = neighbour(v, d, width, height)
        if occ_kind[nv] == BLAST:
            nb = occ_idx[nv]
            if b_partner[nb] < 0 and b_cd19[nb] > 0.0:
                available += 1
    if available == 0:
        return -1, 0.0
    u_hit, u_pick = rng.split32(rng.draw_bits(key, t, rng.T_NEIGHBOUR))
    hazard = probe_per_neighbour * available  # per step
    if u_hit >= -math.expm1(-hazard):
        return -1, 0.0
    # Given a find within the step, u_hit is uniform below its chance: inverting the
    # exponential's distribution gives the moment of the find.
    found_at = min(-math.log1p(-u_hit) / hazard * dt, dt)
    pick = min(int(u_pick * available), available - 1)
    for d in range(8):
        nv = neighbour(v, d, width, height)
        if occ_kind[nv] == BLAST:
            nb = occ_idx[nv]
            if b_partner[nb] < 0 and b_cd19[nb] > 0.0:
                if pick == 0:
                    return nb, found_at
                pick -= 1
    return -1, 0.0


# A scanning T cell makes at most this many steps in one time step: P(Poisson(1) > 4) is
# 0.4%, at the largest step the convergence test uses (2 min, 5 um/min, 10 um voxels).
MAX_WALK_STEPS = 4


@njit(cache=True, inline="always")
def _walk(key, t, v, width, height, occ_kind, occ_idx, t_voxel, steps_mean) -> None:
    """`Poisson(speed * dt / voxel)` steps to random empty von Neumann neighbours (s.5)."""
    steps = min(rng.poisson(key, t, rng.T_MOVE, steps_mean), MAX_WALK_STEPS)
    if steps == 0:
        return
    directions = rng.draw_bits(key, t, rng.T_WALK)
    for i in range(steps):
        mv = neighbour(v, int((directions >> np.uint64(2 * i)) & np.uint64(3)), width,
                       height)
        if occ_kind[mv] == EMPTY:
            occ_kind[v] = EMPTY
            occ_idx[v] = -1
            occ_kind[mv] = TCELL
            occ_idx[mv] = t
            v = mv
    t_voxel[t] = v


@njit(cache=True, inline="always")
def _prefetch_neighbourhood(t, width, occ_kind, occ_idx, t_voxel, t_partner, b_alive,
                            b_cd19, b_bound, b_trimers):
    """Ask for what T cell `t` will read: the grid rows above, at and below its voxel (its
    eight neighbours lie in them) and its partner blast's counts. Hints only."""
    v = t_voxel[t]
    voxels = occ_kind.shape[0]
    above = v - width if v >= width else v - width + voxels
    below = v + width if v + width < voxels else v + width - voxels
    prefetch(occ_kind, above)
    prefetch(occ_kind, v)
    prefetch(occ_kind, below)
    prefetch(occ_idx, above)
    prefetch(occ_idx, v)
    prefetch(occ_idx, below)
    b = t_partner[t]
    if b >= 0:
        prefetch(b_alive, b)
        prefetch(b_cd19, b)
        prefetch(b_bound, b)
        prefetch(b_trimers, b)


@njit(cache=True)
def tcell_step(key, c, grid, blasts, n_tcells, tcells, counters, stimulation) -> int:
    """Advance every T cell alive at the start of the step; returns the new slot count.

    `grid`, `blasts` and `tcells` are the state's arrays by name (`state.GridArrays`,
    `BlastArrays`, `TCellArrays`).

    `stimulation` receives this step's cytokine release (docs/model.md s.9): [0] the
    release, in synapse-minutes weighted by (1 - desensitisation), and [1] its running total;
    [2] its expectation's new part, the synapses that contacts were expected to form this
    step, each weighted by (1 - desensitisation); [3] the lethal-hit chances of this step's
    decisions, summed, and [4] their number.
    """
    width, height, occ_kind, occ_idx = grid.width, grid.height, grid.kind, grid.idx
    b_voxel, b_alive, b_cd19 = blasts.voxel, blasts.alive, blasts.cd19
    b_bound, b_trimers, b_partner = blasts.bound, blasts.trimers, blasts.partner
    t_voxel, t_alive, t_engaged = tcells.voxel, tcells.alive, tcells.engaged
    t_partner, t_timer_min, t_activation = tcells.partner, tcells.timer_min, tcells.activation
    t_exhaustion, t_desens, t_kills = tcells.exhaustion, tcells.desens, tcells.kills
    t_bound, t_trimers = tcells.bound, tcells.trimers
    t_bridge_blast, t_bridge_tcell = tcells.bridge_blast, tcells.bridge_tcell
    n_slots = n_tcells
    released = 0.0
    expected_new = 0.0
    lethal_chances = 0.0
    decisions = 0
    dt = c[k.DT_MIN]
    for t in range(n_tcells):
        if t + PREFETCH_AHEAD < n_tcells:
            _prefetch_neighbourhood(t + PREFETCH_AHEAD, width, occ_kind, occ_idx, t_voxel,
                                    t_partner, b_alive, b_cd19, b_bound, b_trimers)
        if t_alive[t] == 0:
            continue
        a = t_activation[t] * c[k.ACTIVATION_DECAY]
        e = t_exhaustion[t] * c[k.EXHAUSTION_DECAY]
        d = t_desens[t] * c[k.DESENSITISATION_DECAY]
        state = t_engaged[t]
        b = t_partner[t]
        if state != SCANNING and b_alive[b] == 0:
            state = SCANNING  # the blast died of something else: let go at once
            t_partner[t] = -1
        if state == CONTACT:
            # The timer holds the contact's time left after the last step: it ended at this
            # step's start if at most dt / 2 was left; else this step is spent in contact.
            if phase_over(t_timer_min[t], dt):
                p_syn = 1.0 - math.exp(-c[k.ADHESION_PER_TRIMER] * t_trimers[t])
                expected_new += p_syn * (1.0 - d)
                if rng.uniform(key, t, rng.T_SYNAPSE) < p_syn:
                    state = LYTIC
                    t_timer_min[t] = c[k.KILL_TIME_MIN]
                    counters[SYNAPSES] += 1
                    a = min(1.0, a + c[k.ACTIVATION_PER_SYNAPSE])
                    e = min(1.0, e + c[k.EXHAUSTION_PER_SYNAPSE])
                else:
                    state = SCANNING
                    b_partner[b] = -1
                    t_partner[t] = -1
            else:
                t_timer_min[t] -= dt
        if (state == LYTIC or state == FAILED) and phase_over(t_timer_min[t], dt):
            # The phase ended at this step's start (its timer holds the time left after the
            # last step): decide, and a T cell that lets go scans in this step.
            detach = True
            if state == LYTIC:
                n = t_trimers[t]
                p_kill = c[k.KILL_PROBABILITY] * (1.0 - e) * n / (
                    n + c[k.TRIMERS_FOR_HALF_KILL])
                lethal_chances += p_kill
                decisions += 1
                if rng.uniform(key, t, rng.T_KILL) < p_kill:
                    b_alive[b] = 0
                    bv = b_voxel[b]
                    occ_kind[bv] = EMPTY
                    occ_idx[bv] = -1
                    counters[KILLS] += 1
                    t_kills[t] += 1
                else:
                    state = FAILED
                    t_timer_min[t] = c[k.FAILED_SYNAPSE_MIN] - c[k.KILL_TIME_MIN]
                    detach = t_timer_min[t] <= 1e-9
            if detach:
                state = SCANNING
                b_partner[b] = -1
                t_partner[t] = -1
        if state == LYTIC or state == FAILED:
            # This step is spent in the synapse: release, then desensitise with it.
            released += (1.0 - d) * dt
            d += (1.0 - d) * c[k.DESENSITISATION_GAIN]
            t_timer_min[t] -= dt
        elif state == SCANNING:
            v = t_voxel[t]
            nb, found_at = _probe(key, t, v, width, height, occ_kind, occ_idx, b_partner,
                                  b_cd19, c[k.PROBE_PER_NEIGHBOUR], dt)
            if nb >= 0:
                state = CONTACT
                t_timer_min[t] = c[k.CONTACT_MIN] - (dt - found_at)  # left after this step
                t_partner[t] = nb
                b_partner[nb] = t
                counters[CONTACTS] += 1
            else:
                _walk(key, t, v, width, height, occ_kind, occ_idx, t_voxel,
                      c[k.MOVE_STEPS_MEAN])
        t_engaged[t] = state
        if state != SCANNING:
            if state == CONTACT:
                zone, age = 0, c[k.CONTACT_MIN] - t_timer_min[t]
            elif state == LYTIC:
                zone, age = 1, c[k.KILL_TIME_MIN] - t_timer_min[t]
            else:
                zone, age = 1, c[k.FAILED_SYNAPSE_MIN] - t_timer_min[t]
            _bridging_chances(c, zone, age, t, t_partner[t], b_cd19, b_bound, b_trimers,
                              t_bound, t_trimers, t_bridge_blast, t_bridge_tcell)
        # Proliferation (activated cells that are not engaged) and death share one draw.
        u_proliferate, u_death = rng.split32(rng.draw_bits(key, t, rng.T_PROLIFERATE))
        if state == SCANNING and a > 0.0:
            rate = c[k.PROLIFERATION_PER_STEP] * a * (1.0 - e)
            if u_proliferate < rng.event_probability(rate):
                dv = free_neighbour(t_voxel[t],
                                    _direction(rng.draw_bits(key, t, rng.T_DAUGHTER), 8),
                                    occ_kind, width, height, EMPTY)
                if dv >= 0 and n_slots < t_voxel.shape[0]:
                    child = n_slots
                    n_slots += 1
                    t_voxel[child] = dv
                    t_alive[child] = 1
                    t_engaged[child] = SCANNING
                    t_partner[child] = -1
                    t_timer_min[child] = 0.0
                    t_activation[child] = a
                    t_exhaustion[child] = e
                    t_desens[child] = d  # a daughter inherits its mother's state
                    t_kills[child] = 0
                    t_bound[child] = 0
                    t_trimers[child] = 0
                    t_bridge_blast[child] = 0.0
                    t_bridge_tcell[child] = 0.0
                    occ_kind[dv] = TCELL
                    occ_idx[dv] = child
                    counters[T_BIRTHS] += 1
        # Death, baseline plus activation-induced.
        rate = c[k.DEATH_PER_STEP] + c[k.AICD_PER_STEP] * a
        if u_death < rng.event_probability(rate):
            t_alive[t] = 0
            v = t_voxel[t]
            occ_kind[v] = EMPTY
            occ_idx[v] = -1
            if t_partner[t] >= 0:
                b_partner[t_partner[t]] = -1
                t_partner[t] = -1
            t_engaged[t] = SCANNING
            counters[T_DEATHS] += 1
        t_activation[t] = a
        t_exhaustion[t] = e
        t_desens[t] = d
    stimulation[0] = released
    stimulation[1] += released
    stimulation[2] = expected_new
    stimulation[3] = lethal_chances
    stimulation[4] = decisions
    return n_slots
