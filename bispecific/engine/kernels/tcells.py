"""T cells: synapse, serial killing, motility, proliferation and death (docs/model.md s.5).

Serial over T cells in index order: synapses and moves compete for blasts and voxels, and a
fixed order keeps the outcome deterministic. T cells are few compared with molecules.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng
from ..state import BLAST, EMPTY, KILLING_SYNAPSES, KILLS, SYNAPSES, T_BIRTHS, T_DEATHS, TCELL
from . import constants as k
from .grid import neighbour

_S32 = np.uint64(32)


@njit(cache=True, inline="always")
def _direction(bits: np.uint64, n: int) -> int:
    return int(((bits >> _S32) * np.uint64(n)) >> _S32)


@njit(cache=True)
def tcell_step(
    key, c, width, height, occ_kind, occ_idx,
    b_voxel, b_alive, b_cd19, b_bound, b_engaged,
    n_tcells, t_voxel, t_alive, t_partner, t_timer_min, t_will_kill,
    t_activation, t_exhaustion, t_kills, t_bound, t_desens, counters, stimulation,
) -> int:
    """Advance every T cell alive at the start of the step; returns the new slot count.

    `stimulation[0]` receives this step's cytokine release in killing-synapse-minutes,
    weighted by (1 - desensitisation); `stimulation[1]` accumulates it.
    """
    n_slots = n_tcells
    released = 0.0
    for t in range(n_tcells):
        if t_alive[t] == 0:
            continue
        a = t_activation[t] * c[k.ACTIVATION_DECAY]
        e = t_exhaustion[t] * c[k.EXHAUSTION_DECAY]
        d = t_desens[t] * c[k.DESENSITISATION_DECAY]
        partner = t_partner[t]
        if partner >= 0:
            if b_alive[partner] == 0:
                t_partner[t] = -1  # the blast died of something else: let go at once
            else:
                # Release over this step of synapse, then desensitise with the stimulation.
                weight = 1.0 if t_will_kill[t] == 1 else c[k.FAILED_RELEASE_FACTOR]
                released += weight * (1.0 - d) * c[k.DT_MIN]
                d += (1.0 - d) * c[k.DESENSITISATION_GAIN]
                t_timer_min[t] -= c[k.DT_MIN]
                if t_timer_min[t] <= 1e-9:
                    if t_will_kill[t] == 1:
                        b_alive[partner] = 0
                        b_bound[partner] = 0  # its molecules are cleared with it
                        bv = b_voxel[partner]
                        occ_kind[bv] = EMPTY
                        occ_idx[bv] = -1
                        counters[KILLS] += 1
                        t_kills[t] += 1
                    b_engaged[partner] = 0
                    t_partner[t] = -1
        else:
            v = t_voxel[t]
            look = rng.draw_bits(key, t, rng.T_NEIGHBOUR)
            nv = neighbour(v, _direction(look, 8), width, height)
            formed = False
            if occ_kind[nv] == BLAST:
                b = occ_idx[nv]
                bonds = b_bound[b] + t_bound[t]
                if b_engaged[b] == 0 and b_cd19[b] > 0.0 and bonds > 0:
                    p_syn = rng.event_probability(c[k.ADHESION_PER_BOND_STEP] * bonds)
                    if rng.uniform(key, t, rng.T_SYNAPSE) < p_syn:
                        formed = True
                        b_engaged[b] = 1
                        t_partner[t] = b
                        counters[SYNAPSES] += 1
                        if rng.uniform(key, t, rng.T_KILL) < c[k.KILL_PROBABILITY] * (1.0 - e):
                            t_will_kill[t] = 1
                            t_timer_min[t] = c[k.KILL_TIME_MIN]
                            counters[KILLING_SYNAPSES] += 1
                        else:
                            t_will_kill[t] = 0
                            t_timer_min[t] = c[k.FAILED_SYNAPSE_MIN]
                        a = min(1.0, a + c[k.ACTIVATION_PER_SYNAPSE])
                        e = min(1.0, e + c[k.EXHAUSTION_PER_SYNAPSE])
            if not formed:
                u_move, u_dir = rng.split32(rng.draw_bits(key, t, rng.T_MOVE))
                if u_move < c[k.P_MOVE]:
                    mv = neighbour(v, int(u_dir * 4.0), width, height)
                    if occ_kind[mv] == EMPTY:
                        occ_kind[v] = EMPTY
                        occ_idx[v] = -1
                        occ_kind[mv] = TCELL
                        occ_idx[mv] = t
                        t_voxel[t] = mv
        # Proliferation (activated cells outside a synapse) and death share one draw.
        u_proliferate, u_death = rng.split32(rng.draw_bits(key, t, rng.T_PROLIFERATE))
        if t_partner[t] < 0 and a > 0.0:
            rate = c[k.PROLIFERATION_PER_STEP] * a * (1.0 - e)
            if u_proliferate < rng.event_probability(rate):
                v = t_voxel[t]
                dv = neighbour(v, _direction(rng.draw_bits(key, t, rng.T_DAUGHTER), 8),
                               width, height)
                if occ_kind[dv] == EMPTY and n_slots < t_voxel.shape[0]:
                    child = n_slots
                    n_slots += 1
                    t_voxel[child] = dv
                    t_alive[child] = 1
                    t_partner[child] = -1
                    t_timer_min[child] = 0.0
                    t_will_kill[child] = 0
                    t_activation[child] = a
                    t_exhaustion[child] = e
                    t_kills[child] = 0
                    t_bound[child] = 0
                    t_desens[child] = d  # a daughter inherits its mother's state
                    occ_kind[dv] = TCELL
                    occ_idx[dv] = child
                    counters[T_BIRTHS] += 1
        # Death, baseline plus activation-induced.
        rate = c[k.DEATH_PER_STEP] + c[k.AICD_PER_STEP] * a
        if u_death < rng.event_probability(rate):
            t_alive[t] = 0
            t_bound[t] = 0  # its molecules are cleared with it
            v = t_voxel[t]
            occ_kind[v] = EMPTY
            occ_idx[v] = -1
            if t_partner[t] >= 0:
                b_engaged[t_partner[t]] = 0
                t_partner[t] = -1
            counters[T_DEATHS] += 1
        t_activation[t] = a
        t_exhaustion[t] = e
        t_desens[t] = d
    stimulation[0] = released
    stimulation[1] += released
    return n_slots
