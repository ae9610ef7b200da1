"""T cells: contacts, synapses decided by trimers, serial killing, motility, proliferation and
death (docs/model.md s.5); and each engaged pair's bridging chances (s.3.3).

Two rounds with no order among T cells (s.5, "Two rounds, no order"), in four passes:

1. `propose` (fixed blocks of slots, on threads): every T cell acts on the patch as it
   stood at the start of the step, writing only its own slot: its decisions, and the
   blast, voxel or daughter's voxel it claims, with its priority for this step.
2. `claim` (serial, a compare per claim): each claimed blast and voxel keeps the lowest
   claim; `min` does not care in which order the claims come.
3. `settle` (fixed blocks, on threads): the winners act and the decisions of round 1 take
   effect. Every write goes to something one T cell owns this step (its voxel, the voxel it
   won, its partner blast), so no two threads write one place.
4. `finish` (serial): daughters take new slots in their mothers' slot order, the claims
   are cleared, and the blocks' tallies are added up in block order.

Blocks are fixed by slot, never by thread, so a run is bit-identical on any number of
threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .. import rng
from ..state import (
    BLAST,
    CLAIM_NONE,
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
    TCELL_BLOCK,
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


# Flags of round 1 for round 3 (`TCellRounds.flags`).
KILLED = 1  # its lethal hit killed its partner
DIES = 2  # it dies at the end of the step
DAUGHTER_WON = 4  # set in round 3: its daughter's claim won

# The slots of a block's tallies (`TCellRounds.tallies`, one row per block).
RELEASED, EXPECTED_NEW, LETHAL, DECISIONS, N_SYNAPSES, N_CONTACTS, N_KILLS, N_DEATHS = range(8)
N_TALLIES = 8

_CLAIM_SHIFT = np.int64(32)


@njit(cache=True, inline="always")
def _walk_end(key, t, v, width, height, occ_kind, steps_mean) -> int:
    """Where `Poisson(speed * dt / voxel)` steps to random von Neumann neighbours end, each
    into a voxel empty at the start of the step or back into `v`, its own (s.5)."""
    steps = min(rng.poisson(key, t, rng.T_MOVE, steps_mean), MAX_WALK_STEPS)
    if steps == 0:
        return v
    directions = rng.draw_bits(key, t, rng.T_WALK)
    here = v
    for i in range(steps):
        mv = neighbour(here, int((directions >> np.uint64(2 * i)) & np.uint64(3)), width,
                       height)
        if occ_kind[mv] == EMPTY or mv == v:
            here = mv
    return here


@njit(cache=True, inline="always")
def claim_key(key, t) -> np.int64:
    """T cell `t`'s claim for this step: its priority (31 random bits) above its slot, with
    a free low bit for the kind (0 a blast or its own move, 1 its daughter), so the lowest
    priority wins, ties go to the lower slot, and a T cell's move beats its daughter."""
    priority = np.int64(rng.draw_bits(key, t, rng.T_PRIORITY) >> np.uint64(33))
    return (priority << _CLAIM_SHIFT) | (np.int64(t) << np.int64(1))


def _make_propose(parallel: bool):
    """Round 1, serial or under `prange` over fixed blocks of slots, from one body."""

    @njit(cache=True, parallel=parallel)
    def propose(key, c, grid, blasts, n_tcells, tcells, rounds) -> None:
        """Every T cell alive at the start of the step decides on the patch as it stood
        then (docs/model.md s.5): its own state changes now; what it would change for
        others is written as claims and flags in `rounds` for `claim` and `settle`."""
        _cache_key = parallel
        width, height, occ_kind, occ_idx = grid.width, grid.height, grid.kind, grid.idx
        b_alive, b_cd19 = blasts.alive, blasts.cd19
        b_bound, b_trimers, b_partner = blasts.bound, blasts.trimers, blasts.partner
        t_voxel, t_alive, t_engaged = tcells.voxel, tcells.alive, tcells.engaged
        t_partner, t_timer_min = tcells.partner, tcells.timer_min
        t_activation, t_exhaustion, t_desens = (tcells.activation, tcells.exhaustion,
                                                tcells.desens)
        t_bound, t_trimers = tcells.bound, tcells.trimers
        t_bridge_blast, t_bridge_tcell = tcells.bridge_blast, tcells.bridge_tcell
        # The scratch's arrays as locals: under prange, writes through a NamedTuple's field
        # (`rounds.claim[t] = ...`) were lost (Numba 0.68: the parallel kernel left every
        # claim at 0, the serial one did not).
        r_claim, r_blast, r_voxel, r_daughter = (rounds.claim, rounds.blast, rounds.voxel,
                                                 rounds.daughter)
        r_let_go, r_flags, tallies = rounds.let_go, rounds.flags, rounds.tallies
        dt = c[k.DT_MIN]
        n_blocks = (n_tcells + TCELL_BLOCK - 1) // TCELL_BLOCK
        for blk in prange(n_blocks):
            lo = blk * TCELL_BLOCK
            hi = min(lo + TCELL_BLOCK, n_tcells)
            # The block's sums, kept in registers and written once (one row a block: a
            # row written per T cell would share a cache line with the next block's).
            released = expected_new = lethal = decisions = synapses = 0.0
            for t in range(lo, hi):
                if t + PREFETCH_AHEAD < hi:
                    _prefetch_neighbourhood(t + PREFETCH_AHEAD, width, occ_kind, occ_idx,
                                            t_voxel, t_partner, b_alive, b_cd19, b_bound,
                                            b_trimers)
                if t_alive[t] == 0:
                    continue
                a = t_activation[t] * c[k.ACTIVATION_DECAY]
                e = t_exhaustion[t] * c[k.EXHAUSTION_DECAY]
                d = t_desens[t] * c[k.DESENSITISATION_DECAY]
                state = t_engaged[t]
                b = t_partner[t]
                flags = 0
                if state != SCANNING and b_alive[b] == 0:
                    state = SCANNING  # the blast died of something else: let go at once
                    t_partner[t] = -1
                    b = -1  # a dead blast's partner is cleared when it dies (settle)
                if state == CONTACT:
                    # The timer holds the contact's time left after the last step: it ended
                    # at this step's start if at most dt / 2 was left; else this step is
                    # spent in contact.
                    if phase_over(t_timer_min[t], dt):
                        p_syn = 1.0 - math.exp(-c[k.ADHESION_PER_TRIMER] * t_trimers[t])
                        expected_new += p_syn * (1.0 - d)
                        if rng.uniform(key, t, rng.T_SYNAPSE) < p_syn:
                            state = LYTIC
                            t_timer_min[t] = c[k.KILL_TIME_MIN]
                            synapses += 1.0
                            a = min(1.0, a + c[k.ACTIVATION_PER_SYNAPSE])
                            e = min(1.0, e + c[k.EXHAUSTION_PER_SYNAPSE])
                        else:
                            state = SCANNING
                            r_let_go[t] = b
                            t_partner[t] = -1
                    else:
                        t_timer_min[t] -= dt
                if (state == LYTIC or state == FAILED) and phase_over(t_timer_min[t], dt):
                    # The phase ended at this step's start (its timer holds the time left
                    # after the last step): decide, and a T cell that lets go scans in this
                    # step.
                    detach = True
                    if state == LYTIC:
                        n = t_trimers[t]
                        p_kill = c[k.KILL_PROBABILITY] * (1.0 - e) * n / (
                            n + c[k.TRIMERS_FOR_HALF_KILL])
                        lethal += p_kill
                        decisions += 1.0
                        if rng.uniform(key, t, rng.T_KILL) < p_kill:
                            flags |= KILLED
                        else:
                            state = FAILED
                            t_timer_min[t] = c[k.FAILED_SYNAPSE_MIN] - c[k.KILL_TIME_MIN]
                            detach = t_timer_min[t] <= 1e-9
                    if detach:
                        state = SCANNING
                        r_let_go[t] = b
                        t_partner[t] = -1
                claim = claim_key(key, t)
                r_claim[t] = claim
                v = t_voxel[t]
                if state == LYTIC or state == FAILED:
                    # This step is spent in the synapse: release, then desensitise with it.
                    released += (1.0 - d) * dt
                    d += (1.0 - d) * c[k.DESENSITISATION_GAIN]
                    t_timer_min[t] -= dt
                elif state == SCANNING:
                    # Blasts engaged at the step's start are not available, even one let go
                    # above: `b_partner` changes only in round 3.
                    nb, found_at = _probe(key, t, v, width, height, occ_kind, occ_idx,
                                          b_partner, b_cd19, c[k.PROBE_PER_NEIGHBOUR], dt)
                    if nb >= 0:
                        r_blast[t] = nb
                        t_timer_min[t] = c[k.CONTACT_MIN] - (dt - found_at)  # left after it
                    else:
                        end = _walk_end(key, t, v, width, height, occ_kind,
                                        c[k.MOVE_STEPS_MEAN])
                        if end != v:
                            r_voxel[t] = end
                t_engaged[t] = state
                if state != SCANNING:
                    if state == CONTACT:
                        zone, age = 0, c[k.CONTACT_MIN] - t_timer_min[t]
                    elif state == LYTIC:
                        zone, age = 1, c[k.KILL_TIME_MIN] - t_timer_min[t]
                    else:
                        zone, age = 1, c[k.FAILED_SYNAPSE_MIN] - t_timer_min[t]
                    _bridging_chances(c, zone, age, t, t_partner[t], b_cd19, b_bound,
                                      b_trimers, t_bound, t_trimers, t_bridge_blast,
                                      t_bridge_tcell)
                # Proliferation (activated cells scanning without a find) and death share
                # one draw.
                u_proliferate, u_death = rng.split32(rng.draw_bits(key, t, rng.T_PROLIFERATE))
                if state == SCANNING and r_blast[t] < 0 and a > 0.0:
                    rate = c[k.PROLIFERATION_PER_STEP] * a * (1.0 - e)
                    if u_proliferate < rng.event_probability(rate):
                        r_daughter[t] = free_neighbour(
                            v, _direction(rng.draw_bits(key, t, rng.T_DAUGHTER), 8),
                            occ_kind, width, height, EMPTY)
                # Death, baseline plus activation-induced.
                rate = c[k.DEATH_PER_STEP] + c[k.AICD_PER_STEP] * a
                if u_death < rng.event_probability(rate):
                    flags |= DIES
                r_flags[t] = flags
                t_activation[t] = a
                t_exhaustion[t] = e
                t_desens[t] = d
            tally = tallies[blk]
            tally[RELEASED] = released
            tally[EXPECTED_NEW] = expected_new
            tally[LETHAL] = lethal
            tally[DECISIONS] = decisions
            tally[N_SYNAPSES] = synapses

    return propose


propose = _make_propose(False)
propose_parallel = _make_propose(True)


@njit(cache=True)
def claim(n_tcells, rounds) -> None:
    """Round 2: each claimed blast and voxel keeps the lowest claim on it."""
    blast_claims, voxel_claims = rounds.blast_claims, rounds.voxel_claims
    for t in range(n_tcells):
        mine = rounds.claim[t]
        nb = rounds.blast[t]
        if nb >= 0 and mine < blast_claims[nb]:
            blast_claims[nb] = mine
        v = rounds.voxel[t]
        if v >= 0 and mine < voxel_claims[v]:
            voxel_claims[v] = mine
        v = rounds.daughter[t]
        if v >= 0 and mine + 1 < voxel_claims[v]:
            voxel_claims[v] = mine + 1


def _make_settle(parallel: bool):
    """Round 3, serial or under `prange` over fixed blocks of slots, from one body."""

    @njit(cache=True, parallel=parallel)
    def settle(c, grid, blasts, n_tcells, tcells, rounds) -> None:
        """The decisions of round 1 take effect and the claims that won act: let-goes and
        kills, contacts, moves, then deaths; a won daughter's voxel is flagged for
        `finish`. Each write goes to what one T cell owns this step."""
        _cache_key = parallel
        occ_kind, occ_idx = grid.kind, grid.idx
        b_voxel, b_alive, b_cd19 = blasts.voxel, blasts.alive, blasts.cd19
        b_bound, b_trimers, b_partner = blasts.bound, blasts.trimers, blasts.partner
        t_voxel, t_alive, t_engaged = tcells.voxel, tcells.alive, tcells.engaged
        t_partner, t_timer_min, t_kills = tcells.partner, tcells.timer_min, tcells.kills
        t_bound, t_trimers = tcells.bound, tcells.trimers
        t_bridge_blast, t_bridge_tcell = tcells.bridge_blast, tcells.bridge_tcell
        r_claim, r_blast, r_voxel, r_daughter = (rounds.claim, rounds.blast, rounds.voxel,
                                                 rounds.daughter)
        r_let_go, r_flags, tallies = rounds.let_go, rounds.flags, rounds.tallies
        blast_claims, voxel_claims = rounds.blast_claims, rounds.voxel_claims  # see propose
        n_blocks = (n_tcells + TCELL_BLOCK - 1) // TCELL_BLOCK
        for blk in prange(n_blocks):
            lo = blk * TCELL_BLOCK
            hi = min(lo + TCELL_BLOCK, n_tcells)
            contacts = kills = deaths = 0.0
            for t in range(lo, hi):
                if t_alive[t] == 0:
                    continue
                flags = r_flags[t]
                mine = r_claim[t]
                gone = r_let_go[t]
                if gone >= 0:
                    b_partner[gone] = -1
                    if flags & KILLED:
                        b_alive[gone] = 0
                        bv = b_voxel[gone]
                        occ_kind[bv] = EMPTY
                        occ_idx[bv] = -1
                        kills += 1.0
                        t_kills[t] += 1
                nb = r_blast[t]
                if nb >= 0 and blast_claims[nb] == mine:
                    t_engaged[t] = CONTACT
                    t_partner[t] = nb
                    b_partner[nb] = t
                    contacts += 1.0
                    _bridging_chances(c, 0, c[k.CONTACT_MIN] - t_timer_min[t], t, nb, b_cd19,
                                      b_bound, b_trimers, t_bound, t_trimers, t_bridge_blast,
                                      t_bridge_tcell)
                v = r_voxel[t]
                if v >= 0 and voxel_claims[v] == mine:
                    here = t_voxel[t]
                    occ_kind[here] = EMPTY
                    occ_idx[here] = -1
                    occ_kind[v] = TCELL
                    occ_idx[v] = t
                    t_voxel[t] = v
                v = r_daughter[t]
                if v >= 0 and voxel_claims[v] == mine + 1:
                    flags |= DAUGHTER_WON
                    r_flags[t] = flags
                if flags & DIES:
                    t_alive[t] = 0
                    here = t_voxel[t]
                    occ_kind[here] = EMPTY
                    occ_idx[here] = -1
                    if t_partner[t] >= 0:
                        b_partner[t_partner[t]] = -1
                        t_partner[t] = -1
                    t_engaged[t] = SCANNING
                    deaths += 1.0
            tally = tallies[blk]
            tally[N_CONTACTS] = contacts
            tally[N_KILLS] = kills
            tally[N_DEATHS] = deaths

    return settle


settle = _make_settle(False)
settle_parallel = _make_settle(True)


@njit(cache=True)
def finish(n_tcells, grid, tcells, rounds, counters, stimulation) -> int:
    """Round 4: daughters take new slots in their mothers' slot order, the claims are
    cleared for the next step, and the blocks' tallies are added in block order. Returns
    the new slot count.

    `stimulation` receives this step's cytokine release (docs/model.md s.9): [0] the
    release, in synapse-minutes weighted by (1 - desensitisation), and [1] its running
    total; [2] its expectation's new part, the synapses that contacts were expected to
    form this step, each weighted by (1 - desensitisation); [3] the lethal-hit chances of
    this step's decisions, summed, and [4] their number.
    """
    occ_kind, occ_idx = grid.kind, grid.idx
    t_voxel, t_alive, t_engaged = tcells.voxel, tcells.alive, tcells.engaged
    n_slots = n_tcells
    for t in range(n_tcells):
        nb = rounds.blast[t]
        if nb >= 0:
            rounds.blast_claims[nb] = CLAIM_NONE
            rounds.blast[t] = -1
        v = rounds.voxel[t]
        if v >= 0:
            rounds.voxel_claims[v] = CLAIM_NONE
            rounds.voxel[t] = -1
        v = rounds.daughter[t]
        if v >= 0:
            rounds.voxel_claims[v] = CLAIM_NONE
            rounds.daughter[t] = -1
            if rounds.flags[t] & DAUGHTER_WON and n_slots < t_voxel.shape[0]:
                child = n_slots
                n_slots += 1
                t_voxel[child] = v
                t_alive[child] = 1
                t_engaged[child] = SCANNING
                tcells.partner[child] = -1
                tcells.timer_min[child] = 0.0
                # A daughter inherits its mother's state.
                tcells.activation[child] = tcells.activation[t]
                tcells.exhaustion[child] = tcells.exhaustion[t]
                tcells.desens[child] = tcells.desens[t]
                tcells.kills[child] = 0
                tcells.bound[child] = 0
                tcells.trimers[child] = 0
                tcells.bridge_blast[child] = 0.0
                tcells.bridge_tcell[child] = 0.0
                occ_kind[v] = TCELL
                occ_idx[v] = child
                counters[T_BIRTHS] += 1
        rounds.let_go[t] = -1
        rounds.flags[t] = 0
    released = 0.0
    expected_new = 0.0
    lethal_chances = 0.0
    decisions = 0.0
    for blk in range((n_tcells + TCELL_BLOCK - 1) // TCELL_BLOCK):
        tally = rounds.tallies[blk]
        released += tally[RELEASED]
        expected_new += tally[EXPECTED_NEW]
        lethal_chances += tally[LETHAL]
        decisions += tally[DECISIONS]
        counters[SYNAPSES] += int(tally[N_SYNAPSES])
        counters[CONTACTS] += int(tally[N_CONTACTS])
        counters[KILLS] += int(tally[N_KILLS])
        counters[T_DEATHS] += int(tally[N_DEATHS])
    stimulation[0] = released
    stimulation[1] += released
    stimulation[2] = expected_new
    stimulation[3] = lethal_chances
    stimulation[4] = decisions
    return n_slots


# The four passes in one call each (one dispatch, so the bundles' arrays are unboxed once a
# step, not four times). Written out twice, not made by a factory: a kernel that closes over
# other kernels is compiled again in every process (Numba's cache misses it).
@njit(cache=True)
def tcell_step(key, c, grid, blasts, n_tcells, tcells, rounds, counters, stimulation) -> int:
    """Advance every T cell alive at the start of the step (docs/model.md s.5), on one
    thread; returns the new slot count (`finish`)."""
    propose(key, c, grid, blasts, n_tcells, tcells, rounds)
    claim(n_tcells, rounds)
    settle(c, grid, blasts, n_tcells, tcells, rounds)
    return finish(n_tcells, grid, tcells, rounds, counters, stimulation)


@njit(cache=True)
def tcell_step_parallel(key, c, grid, blasts, n_tcells, tcells, rounds, counters,
                        stimulation) -> int:
    """`tcell_step` with `propose` and `settle` on threads."""
    propose_parallel(key, c, grid, blasts, n_tcells, tcells, rounds)
    claim(n_tcells, rounds)
    settle_parallel(c, grid, blasts, n_tcells, tcells, rounds)
    return finish(n_tcells, grid, tcells, rounds, counters, stimulation)
