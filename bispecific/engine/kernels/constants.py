"""Per-step constants of the kernels, converted once from `ModelParameters`.

The kernels take one float64 array indexed by the names below: per-step probabilities and
factors for the chosen time step and voxel size (docs/model.md gives the rules).
"""

from __future__ import annotations

import math

import numpy as np

from ... import units
from ..parameters import ModelParameters

P_EXIT = 0
BIND_CD19_PER_RECEPTOR = 1
BIND_CD3_PER_RECEPTOR = 2
P_BLAST_RELEASE = 3
FRACTION_UNBIND = 4
P_TCELL_UNBIND = 5
P_APOPTOSIS = 6
P_DIVIDE = 7
ACTIVATION_DECAY = 8
EXHAUSTION_DECAY = 9
ADHESION_PER_BOND_STEP = 10
KILL_PROBABILITY = 11
KILL_TIME_MIN = 12
FAILED_SYNAPSE_MIN = 13
ACTIVATION_PER_SYNAPSE = 14
EXHAUSTION_PER_SYNAPSE = 15
P_MOVE = 16
PROLIFERATION_PER_STEP = 17
DEATH_PER_STEP = 18
AICD_PER_STEP = 19
DT_MIN = 20
DESENSITISATION_GAIN = 21
DESENSITISATION_DECAY = 22
FAILED_RELEASE_FACTOR = 23
N_CONSTANTS = 24


def kernel_constants(p: ModelParameters, dt_min: float, voxel_um: float) -> np.ndarray:
    """The float64 vector of per-step constants for time step `dt_min` and voxel `voxel_um`."""
    c = np.zeros(N_CONSTANTS)
    voxel_um3 = voxel_um**3
    kon_um3_per_min = units.kon_per_molar_s_to_um3_per_min(p.kon_per_M_per_s)
    koff19 = units.koff_per_min(p.kon_per_M_per_s, p.kd_cd19_nM)
    koff3 = units.koff_per_min(p.kon_per_M_per_s, p.kd_cd3_nM)
    kint = p.cd19_internalisation_per_min
    c[P_EXIT] = units.rate_to_step_probability(p.exchange_per_min, dt_min)
    # Per free receptor: rate * dt, so a cell binds with 1 - exp(-x * free receptors).
    c[BIND_CD19_PER_RECEPTOR] = kon_um3_per_min / voxel_um3 * dt_min
    c[BIND_CD3_PER_RECEPTOR] = kon_um3_per_min / voxel_um3 * dt_min
    c[P_BLAST_RELEASE] = units.rate_to_step_probability(koff19 + kint, dt_min)
    c[FRACTION_UNBIND] = koff19 / (koff19 + kint) if koff19 + kint > 0 else 1.0
    c[P_TCELL_UNBIND] = units.rate_to_step_probability(koff3, dt_min)
    c[P_APOPTOSIS] = units.rate_to_step_probability(
        units.per_day_to_per_min(p.blast_apoptosis_per_day), dt_min)
    c[P_DIVIDE] = units.rate_to_step_probability(
        math.log(2.0) / units.days_to_min(p.blast_doubling_time_days), dt_min)
    c[ACTIVATION_DECAY] = units.half_life_to_step_factor(
        units.hours_to_min(p.activation_half_life_h), dt_min)
    c[EXHAUSTION_DECAY] = units.half_life_to_step_factor(
        units.days_to_min(p.exhaustion_half_life_days), dt_min)
    c[ADHESION_PER_BOND_STEP] = p.adhesion_per_bond * p.contact_bond_fraction * dt_min
    c[KILL_PROBABILITY] = p.kill_probability
    c[KILL_TIME_MIN] = p.kill_time_min
    c[FAILED_SYNAPSE_MIN] = p.failed_synapse_min
    c[ACTIVATION_PER_SYNAPSE] = p.activation_per_synapse
    c[EXHAUSTION_PER_SYNAPSE] = p.exhaustion_per_synapse
    c[P_MOVE] = min(1.0, p.t_cell_speed_um_per_min * dt_min / voxel_um)
    c[PROLIFERATION_PER_STEP] = units.per_day_to_per_min(p.t_cell_proliferation_per_day) * dt_min
    c[DEATH_PER_STEP] = units.per_day_to_per_min(p.t_cell_death_per_day) * dt_min
    c[AICD_PER_STEP] = units.per_day_to_per_min(p.aicd_per_day) * dt_min
    c[DT_MIN] = dt_min
    c[DESENSITISATION_GAIN] = units.rate_to_step_probability(
        p.desensitisation_per_synapse_h / units.MINUTES_PER_HOUR, dt_min)
    c[DESENSITISATION_DECAY] = units.half_life_to_step_factor(
        units.days_to_min(p.desensitisation_half_life_days), dt_min)
    c[FAILED_RELEASE_FACTOR] = p.failed_synapse_release_factor
    return c


def displacement_sigma_voxels(p: ModelParameters, dt_min: float, voxel_um: float) -> float:
    """Standard deviation of a free molecule's step along one axis, in voxels."""
    return math.sqrt(2.0 * p.diffusion_um2_per_s * dt_min * 60.0) / voxel_um
