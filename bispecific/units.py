"""Unit conversions, all in one place.

Kernels work in minutes, micrometres and molecule counts; users speak in days, hours,
pg/mL, nM and ug/day. Every conversion between them lives here.
"""

from __future__ import annotations

import math

AVOGADRO_PER_MOL = 6.02214076e23
UM3_PER_ML = 1.0e12  # 1 mL = 1 cm^3 = 1e12 um^3
MINUTES_PER_HOUR = 60.0
MINUTES_PER_DAY = 1440.0
HOURS_PER_DAY = 24.0
BLINATUMOMAB_MW_G_PER_MOL = 55_000.0  # ~55 kDa (Zhu ASCO 2013; Liu 2023 code), R


def per_day_to_per_min(rate_per_day: float) -> float:
    return rate_per_day / MINUTES_PER_DAY


def hours_to_min(hours: float) -> float:
    return hours * MINUTES_PER_HOUR


def days_to_min(days: float) -> float:
    return days * MINUTES_PER_DAY


def pg_per_ml_to_molecules_per_um3(
    conc_pg_per_ml: float, mw_g_per_mol: float = BLINATUMOMAB_MW_G_PER_MOL
) -> float:
    """Mass concentration (pg/mL) to number density (molecules/um^3)."""
    mol_per_ml = conc_pg_per_ml * 1e-12 / mw_g_per_mol
    return mol_per_ml * AVOGADRO_PER_MOL / UM3_PER_ML


def pM_to_pg_per_ml(conc_pM: float, mw_g_per_mol: float = BLINATUMOMAB_MW_G_PER_MOL) -> float:
    """Molar (pM) to mass concentration (pg/mL): 1 pM of a 55 kDa protein is 55 pg/mL."""
    return conc_pM * 1e-12 * mw_g_per_mol * 1e12 / 1e3


def nM_to_molecules_per_um3(conc_nM: float) -> float:
    """Molar concentration (nM) to number density: 1 nM = 1e-9 mol/L x N_A / 1e15 um^3/L."""
    return conc_nM * 1e-9 * AVOGADRO_PER_MOL / 1e15


def nm_to_um(length_nm: float) -> float:
    return length_nm * 1e-3


def kon_per_molar_s_to_um3_per_min(kon_per_M_per_s: float) -> float:
    """Second-order rate constant: /M/s to um^3 per molecule per minute.

    1 /M/s = 1 L/(mol s) = 1e15 um^3 / (6.022e23 molecules s).
    """
    return kon_per_M_per_s * 1e15 / AVOGADRO_PER_MOL * 60.0


def koff_per_min(kon_per_M_per_s: float, kd_nM: float) -> float:
    """Dissociation rate (/min) from kon (/M/s) and KD (nM): koff = kon * KD."""
    return kon_per_M_per_s * kd_nM * 1e-9 * 60.0


def rate_to_step_probability(rate_per_min: float, dt_min: float) -> float:
    """Probability that a Poisson event of the given rate happens within one step."""
    return 1.0 - math.exp(-rate_per_min * dt_min)


def half_life_to_step_factor(half_life_min: float, dt_min: float) -> float:
    """Multiplicative decay over one step for a quantity with the given half-life."""
    return 2.0 ** (-dt_min / half_life_min)


def ug_per_day_to_ug_per_h(rate_ug_per_day: float) -> float:
    return rate_ug_per_day / HOURS_PER_DAY


def ug_per_l_to_pg_per_ml(conc_ug_per_l: float) -> float:
    """1 ug/L = 1 ng/mL = 1000 pg/mL."""
    return conc_ug_per_l * 1000.0
