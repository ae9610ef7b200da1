"""An in-vitro cytotoxicity assay on the same engine: T cells and target blasts at a chosen
effector:target ratio, bathed in a fixed drug concentration, for a few hours.

In a well the cells sit in medium at the nominal concentration, so the tissue:plasma
partition is 1 and the medium exchanges quickly with the cells' surroundings; nothing
divides, dies of other causes or turns over during the assay. These are the set-ups behind
targets V21 (serial killing, [Hoffmann2005]) and the hook effect ([Schropp2019], [Liu2023]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import units
from ..engine.core.parameters import ModelParameters
from ..engine.facade.model import BispecificModel

# Cells in a well settle into a near-confluent layer: most voxels hold a cell.
ASSAY_CELLULARITY = 0.9


@dataclass(frozen=True)
class AssayResult:
    concentration_pM: float
    hours: float
    targets: int
    t_cells: int
    kills: int
    synapses: int

    @property
    def fraction_lysed(self) -> float:
        return self.kills / self.targets if self.targets else 0.0

    @property
    def kills_per_t_cell_per_day(self) -> float:
        return self.kills / max(self.t_cells, 1) / (self.hours / 24.0)


def assay_parameters(parameters: ModelParameters | None = None) -> ModelParameters:
    """The model's parameters as an in-vitro well: medium at the nominal concentration,
    exchanging quickly, and no division, death of other causes or turnover."""
    return (parameters or ModelParameters()).with_overrides({
        "tissue_plasma_partition": 1.0,
        "exchange_per_min": 1.0,
        "blast_division_per_day": 0.0,
        "blast_apoptosis_per_day": 0.0,
        "normal_turnover_per_day": 0.0,
        "t_cell_proliferation_per_day": 0.0,
        "t_cell_death_per_day": 0.0,
        "aicd_per_day": 0.0,
        "marrow_cellularity": ASSAY_CELLULARITY,
    })


def cytotoxicity_assay(
    concentration_pM: float,
    effector_target_ratio: float = 0.2,
    hours: float = 4.0,
    size: int = 12,
    seed: int = 1,
    parameters: ModelParameters | None = None,
) -> AssayResult:
    """Kills of CD19+ targets by T cells at a constant drug concentration.

    Args:
        concentration_pM: drug in the medium, pM (1 pM is 55 pg/mL).
        effector_target_ratio: T cells per target (1:5 is 0.2).
        hours: assay length.
        size: the well's patch is size x size voxels.
        seed: random seed.
        parameters: model parameters before the in-vitro changes (`assay_parameters`).
    """
    p = assay_parameters(parameters)
    t_fraction = effector_target_ratio / (1.0 + effector_target_ratio)
    pg_per_ml = units.pM_to_pg_per_ml(concentration_pM, p.molecular_weight_da)
    model = BispecificModel(
        width=size, height=size, plasma_pg_per_ml=pg_per_ml, parameters=p, seed=seed,
        marrow_blast_fraction=1.0 - t_fraction, t_cell_fraction=t_fraction,
        cd19_negative_fraction=0.0, record_every_minutes=10**6)
    model.run_for(hours / units.HOURS_PER_DAY)
    s = model.state
    return AssayResult(concentration_pM, hours, s.initial_blasts, s.initial_tcells,
                       model.counter("kills_total"), model.counter("synapses_total"))


def concentration_sweep(concentrations_pM: np.ndarray, seeds: range, **assay) -> np.ndarray:
    """Kills for each concentration (rows) and seed (columns)."""
    return np.array([[cytotoxicity_assay(c, seed=s, **assay).kills for s in seeds]
                     for c in concentrations_pM])
