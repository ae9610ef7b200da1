"""Per-step constants of the kernels, converted once from `ModelParameters`.

The kernels take one float64 array indexed by the names below: per-step probabilities and
factors for the chosen time step, voxel size and patch (docs/model.md gives the rules). The
reference implementation does not use this table: it computes its rates from the spec
itself, so a unit error here shows up as a disagreement between the two.
"""

from __future__ import annotations

import math

import numpy as np

from .... import units
from ..parameters import ModelParameters

# Free pool and single-arm binding (docs/model.md s.3.1, s.3.2).
P_EXIT = 0
KON_DT_UM3 = 1  # kon * dt, um^3 per molecule: a cell binds Poisson(KON_DT_UM3 * c_free * R)
BLAST_OFF_DT = 2  # (koff_19 + kint) * dt: a molecule on a blast leaves it
FRACTION_UNBIND = 3
TCELL_OFF_DT = 4  # koff_3 * dt
P_TRIMER_KEEPS_BLAST = 5
# Contact zone (s.3.3): index + 0 for a probing contact, + 1 for a synapse.
GATHER_RATE = 6  # k_acc, /min: molecules drift into a zone at this rate (its age sets G)
CONTACT_MIN = 7  # how long a probing contact lasts, min (s.5)
PROBE_PER_NEIGHBOUR = 8  # probe_rate * dt / 8: the hazard that one neighbour is probed
MOVE_STEPS_MEAN = 9  # speed * dt / voxel: mean von Neumann steps in a step (Poisson)
ZONE_SHARE_BLAST = 10  # share of the blast's surface in the zone
ZONE_SHARE_TCELL = 12
K2D_CD3_ZONE = 14  # K2D of the CD3 arm times the zone area, molecules
K2D_CD19_ZONE = 16
# Blasts (s.4) and normal cells (s.6).
P_APOPTOSIS = 18
P_DIVIDE = 19
P_NORMAL_TURNOVER = 20
# T cells (s.5).
ACTIVATION_DECAY = 21
EXHAUSTION_DECAY = 22
DESENSITISATION_DECAY = 23
DESENSITISATION_GAIN = 24
ADHESION_PER_TRIMER = 25
KILL_PROBABILITY = 26
TRIMERS_FOR_HALF_KILL = 27
KILL_TIME_MIN = 28
FAILED_SYNAPSE_MIN = 29
ACTIVATION_PER_SYNAPSE = 30
EXHAUSTION_PER_SYNAPSE = 31
# 32: unused (was the per-step move chance; moves are now a Poisson count, s.5)
PROLIFERATION_PER_STEP = 33
DEATH_PER_STEP = 34
AICD_PER_STEP = 35
DT_MIN = 36
CD3_COPIES = 37
N_CONSTANTS = 38


def receptor_step(on_dt: float, off_dt: float) -> tuple[float, float]:
    """Per-step transition probabilities of one receptor between free and bound, exact for
    rates held over the step (docs/model.md s.3.1): (free -> bound, bound -> free), with
    `on_dt = kon * c * dt` and `off_dt = koff * dt`."""
    total = on_dt + off_dt
    if total <= 0.0:
        return 0.0, 0.0
    moved = -math.expm1(-total)
    return on_dt / total * moved, off_dt / total * moved


def cell_area_um2(radius_um: float, folding: float) -> float:
    """Membrane area of a cell: a sphere's area times the folding factor (microvilli)."""
    return 4.0 * math.pi * radius_um**2 * folding


def kernel_constants(p: ModelParameters, dt_min: float, voxel_um: float) -> np.ndarray:
    """The float64 vector of per-step constants for time step `dt_min` and voxel `voxel_um`."""
    c = np.zeros(N_CONSTANTS)
    koff19 = units.koff_per_min(p.kon_per_M_per_s, p.kd_cd19_nM)
    koff3 = units.koff_per_min(p.kon_per_M_per_s, p.kd_cd3_nM)
    kint = p.cd19_internalisation_per_min
    c[P_EXIT] = units.rate_to_step_probability(p.exchange_per_min, dt_min)
    c[KON_DT_UM3] = units.kon_per_molar_s_to_um3_per_min(p.kon_per_M_per_s) * dt_min
    c[BLAST_OFF_DT] = (koff19 + kint) * dt_min
    c[FRACTION_UNBIND] = koff19 / (koff19 + kint) if koff19 + kint > 0 else 1.0
    c[TCELL_OFF_DT] = koff3 * dt_min
    c[P_TRIMER_KEEPS_BLAST] = koff3 / (koff3 + koff19) if koff3 + koff19 > 0 else 1.0

    blast_area = cell_area_um2(p.blast_radius_um, p.membrane_folding)
    t_area = cell_area_um2(p.t_cell_radius_um, p.membrane_folding)
    c[GATHER_RATE] = math.log(2.0) / p.zone_gathering_half_life_min
    c[CONTACT_MIN] = p.contact_duration_min
    c[PROBE_PER_NEIGHBOUR] = p.probe_rate_per_min * dt_min / 8.0
    c[MOVE_STEPS_MEAN] = p.t_cell_speed_um_per_min * dt_min / voxel_um
    h_um = units.nm_to_um(p.confinement_length_nm)
    for offset, zone in enumerate((p.contact_area_um2, p.synapse_area_um2)):
        share_b = min(1.0, zone / blast_area)
        share_t = min(1.0, zone / t_area)
        c[ZONE_SHARE_BLAST + offset] = share_b
        c[ZONE_SHARE_TCELL + offset] = share_t
        c[K2D_CD3_ZONE + offset] = units.nM_to_molecules_per_um3(p.kd_cd3_nM) * h_um * zone
        c[K2D_CD19_ZONE + offset] = units.nM_to_molecules_per_um3(p.kd_cd19_nM) * h_um * zone

    c[P_APOPTOSIS] = units.rate_to_step_probability(
        units.per_day_to_per_min(p.blast_apoptosis_per_day), dt_min)
    c[P_DIVIDE] = units.rate_to_step_probability(
        units.per_day_to_per_min(p.blast_division_per_day), dt_min)
    c[P_NORMAL_TURNOVER] = units.rate_to_step_probability(
        units.per_day_to_per_min(p.normal_turnover_per_day), dt_min)

    c[ACTIVATION_DECAY] = units.half_life_to_step_factor(
        units.hours_to_min(p.activation_half_life_h), dt_min)
    c[EXHAUSTION_DECAY] = units.half_life_to_step_factor(
        units.days_to_min(p.exhaustion_half_life_days), dt_min)
    c[DESENSITISATION_DECAY] = units.half_life_to_step_factor(
        units.days_to_min(p.desensitisation_half_life_days), dt_min)
    c[DESENSITISATION_GAIN] = units.rate_to_step_probability(
        p.desensitisation_per_synapse_h / units.MINUTES_PER_HOUR, dt_min)
    c[ADHESION_PER_TRIMER] = p.adhesion_per_trimer
    # Regulatory T cells take the same fraction of lysis and of proliferation (s.5).
    kept = 1.0 - p.regulatory_suppression
    c[KILL_PROBABILITY] = p.kill_probability * kept
    c[TRIMERS_FOR_HALF_KILL] = p.trimers_for_half_kill
    c[KILL_TIME_MIN] = p.kill_time_min
    c[FAILED_SYNAPSE_MIN] = p.failed_synapse_min
    c[ACTIVATION_PER_SYNAPSE] = p.activation_per_synapse
    c[EXHAUSTION_PER_SYNAPSE] = p.exhaustion_per_synapse
    c[PROLIFERATION_PER_STEP] = (
        units.per_day_to_per_min(p.t_cell_proliferation_per_day) * kept * dt_min)
    c[DEATH_PER_STEP] = units.per_day_to_per_min(p.t_cell_death_per_day) * dt_min
    c[AICD_PER_STEP] = units.per_day_to_per_min(p.aicd_per_day) * dt_min
    c[DT_MIN] = dt_min
    c[CD3_COPIES] = p.cd3_copies
    return c
