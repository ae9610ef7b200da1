"""A finished run's summary: response, killing, exposure, readouts, then provenance."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import __version__
from ..engine.model import BispecificModel
from ..readouts.response import CR_BLAST_PERCENT, log10_reduction, marrow_blast_percent
from ..scenario import Scenario


def normal_marrow_cells(scenario: Scenario) -> float:
    """Nucleated marrow cells in the patch that are neither blasts nor T cells (constant)."""
    voxels = scenario.grid.width * scenario.grid.height
    return (voxels * scenario.parameters.marrow_cellularity
            * (1.0 - scenario.patient.marrow_blast_fraction))


def summarise(
    scenario: Scenario, model: BispecificModel, ts: pd.DataFrame,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run's summary: response, killing, exposure, `extra` readouts, then provenance.

    A function of the scenario and seed alone: timing is kept out (`RunResult.wall_time_s`),
    so identical runs give identical summaries."""
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
        "blast_log10_reduction": log10_reduction(initial, final),
        "final_marrow_blast_percent": float(percent),
        "complete_response": bool(percent < CR_BLAST_PERCENT),
        "kills_total": int(model.counter("kills_total")),
        "max_kills_per_t_cell": int(kills.max()) if kills.size else 0,
        "initial_t_cells": int(ts["t_cells"].iloc[0]),
        "final_t_cells": int(ts["t_cells"].iloc[-1]),
        "peak_drug_plasma_pg_per_ml": float(ts["drug_plasma_pg_per_ml"].max()),
        **(extra or {}),
        "bispecific_version": __version__,
    }
