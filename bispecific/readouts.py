"""Readouts of a finished run: tumour response and the run's summary numbers.

Complete response (CR) follows the clinical definition, marrow blasts below 5% of nucleated
marrow cells at the end. The patch represents blasts and T cells; the other nucleated marrow
cells (normal haematopoiesis) are not simulated and are taken as constant at their initial
number, `marrow cellularity x voxels x (1 - marrow_blast_fraction)` (assumption).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import __version__

if TYPE_CHECKING:
    from .model import BispecificModel
    from .scenario import Scenario

CR_BLAST_PERCENT = 5.0  # marrow blasts < 5% (clinical CR threshold)


def normal_marrow_cells(scenario: Scenario) -> float:
    voxels = scenario.grid.width * scenario.grid.height
    return (voxels * scenario.parameters.marrow_cellularity
            * (1.0 - scenario.patient.marrow_blast_fraction))


def marrow_blast_percent(blasts: Any, t_cells: Any, normal_cells: float) -> Any:
    """Blasts as a percentage of nucleated marrow cells (blasts + T cells + normal cells)."""
    total = np.asarray(blasts) + np.asarray(t_cells) + normal_cells
    return 100.0 * np.asarray(blasts) / np.maximum(total, 1.0)


def summarise(
    scenario: Scenario, model: BispecificModel, ts: pd.DataFrame, wall_time_s: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run's summary: response, killing, exposure, `extra` readouts, then provenance."""
    blasts = ts["blasts"].to_numpy()
    initial, final, nadir = int(blasts[0]), int(blasts[-1]), int(blasts.min())
    percent = marrow_blast_percent(final, ts["t_cells"].iloc[-1], normal_marrow_cells(scenario))
    kills = model.state.t_kills[: model.state.n_tcells]
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "days": scenario.days,
        "initial_blasts": initial,
        "final_blasts": final,
        "nadir_blasts": nadir,
        "final_blasts_cd19_negative": int(ts["blasts_cd19_negative"].iloc[-1]),
        "blast_log10_reduction": _log10_ratio(initial, final),
        "final_marrow_blast_percent": float(percent),
        "complete_response": bool(percent < CR_BLAST_PERCENT),
        "kills_total": int(model.counter("kills_total")),
        "max_kills_per_t_cell": int(kills.max()) if kills.size else 0,
        "initial_t_cells": int(ts["t_cells"].iloc[0]),
        "final_t_cells": int(ts["t_cells"].iloc[-1]),
        "peak_drug_plasma_pg_per_ml": float(ts["drug_plasma_pg_per_ml"].max()),
        **(extra or {}),
        "wall_time_s": round(wall_time_s, 3),
        "bispecific_version": __version__,
    }


def _log10_ratio(initial: int, final: int) -> float:
    """log10(initial / final); a patch cleared to zero counts as one blast left."""
    if initial <= 0:
        return 0.0
    return math.log10(initial / max(final, 1))
