"""One step of the patch, in the order of docs/model.md s.6, over the arrays of `PatchState`.

Python work here is O(1) per step (plus rare array growth); all per-agent work is in the
Numba kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import rng
from .kernels import constants as kc
from .kernels.blasts import blast_step
from .kernels.molecules import (
    apply_events,
    binding_probabilities_parallel,
    binding_probabilities_serial,
    compact,
    influx,
    molecule_update_parallel,
    molecule_update_serial,
)
from .kernels.tcells import tcell_step
from .parameters import ModelParameters
from .state import PatchState

# Cleared molecules are left as holes until they pass this fraction of the slots.
COMPACT_FRACTION = 0.1


@dataclass(frozen=True)
class StepConfig:
    """Everything a step needs besides the state: constants, the move table and the seed."""

    seed: int
    constants: np.ndarray
    move_values: np.ndarray
    move_accept: np.ndarray
    move_alias: np.ndarray
    voxel_um3: float
    cd3_copies: float
    parallel: bool = False

    @classmethod
    def build(
        cls, params: ModelParameters, dt_min: float, voxel_um: float, seed: int,
        parallel: bool = False,
    ) -> StepConfig:
        sigma = kc.displacement_sigma_voxels(params, dt_min, voxel_um)
        values, accept, alias = rng.rounded_normal_alias_table(sigma)
        return cls(
            seed=int(seed),
            constants=kc.kernel_constants(params, dt_min, voxel_um),
            move_values=values,
            move_accept=accept,
            move_alias=alias,
            voxel_um3=voxel_um**3,
            cd3_copies=params.cd3_copies,
            parallel=parallel,
        )


@dataclass
class StepResult:
    free_molecules: int
    bound_molecules: int


def advance(
    s: PatchState, cfg: StepConfig, step: int, tissue_molecules_per_um3: float
) -> StepResult:
    """Advance the patch by one step; `tissue_molecules_per_um3` is the concentration in
    equilibrium with plasma at the middle of the step (partition already applied)."""
    c = cfg.constants
    key = np.uint64(rng.step_key(cfg.seed, step))
    s.ensure_cell_capacity()
    s.n_tcells = tcell_step(
        key, c, s.width, s.height, s.occ_kind, s.occ_idx,
        s.b_voxel, s.b_alive, s.b_cd19, s.b_bound, s.b_engaged,
        s.n_tcells, s.t_voxel, s.t_alive, s.t_partner, s.t_timer_min, s.t_will_kill,
        s.t_activation, s.t_exhaustion, s.t_kills, s.t_bound, s.t_desens, s.counters,
        s.stimulation,
    )
    s.n_blasts = blast_step(
        key, c, s.width, s.height, s.occ_kind, s.occ_idx,
        s.n_blasts, s.b_voxel, s.b_alive, s.b_cd19, s.b_bound, s.b_engaged, s.counters,
    )
    update = molecule_update_parallel if cfg.parallel else molecule_update_serial
    update(
        key, step, c, s.width, s.height, s.occ_kind, s.occ_idx, s.b_voxel, s.b_alive,
        s.b_pbind, s.t_voxel, s.t_alive, s.t_pbind, s.n_molecules, s.m_voxel, s.m_state,
        s.m_cell, s.m_release, cfg.move_values, cfg.move_accept, cfg.move_alias,
        s.events, s.chunk_stats,
    )
    n_free, cleared = apply_events(s.n_molecules, s.events, s.chunk_stats, s.b_bound,
                                   s.t_bound, s.counters)
    s.n_live_molecules -= cleared
    probabilities = (binding_probabilities_parallel if cfg.parallel
                     else binding_probabilities_serial)
    probabilities(c, s.n_blasts, s.b_alive, s.b_cd19, s.b_bound, s.b_pbind,
                  s.n_tcells, s.t_alive, s.t_bound, s.t_pbind, cfg.cd3_copies)
    if s.n_molecules - s.n_live_molecules > COMPACT_FRACTION * s.n_molecules:
        s.n_molecules = compact(s.n_molecules, s.m_voxel, s.m_state, s.m_cell, s.m_release)
    lam = _influx_mean(c, tissue_molecules_per_um3, s.voxels * cfg.voxel_um3)
    n_new = rng.poisson(key, 0, rng.INFLUX_COUNT, lam)
    s.ensure_molecule_capacity(n_new)
    s.n_molecules = influx(
        key, n_new, s.voxels, s.n_molecules, s.m_voxel, s.m_state, s.m_cell, s.counters)
    s.n_live_molecules += n_new
    return StepResult(free_molecules=n_free + n_new,
                      bound_molecules=s.n_live_molecules - n_free - n_new)


def _influx_mean(c: np.ndarray, molecules_per_um3: float, patch_um3: float) -> float:
    """Expected entries in a step: k_ex * dt * c_tissue * V_patch.

    The exit probability per step is 1 - exp(-k_ex dt); entry uses the same per-step
    fraction so that, with no cells, the free count relaxes exactly to c_tissue * V_patch.
    """
    return c[kc.P_EXIT] * molecules_per_um3 * patch_um3
