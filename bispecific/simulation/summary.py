"""A finished run's summary: response, killing, exposure, readouts, then provenance."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import __version__
from ..engine.model import BispecificModel
from ..readouts.response import CR_BLAST_PERCENT, log10_reduction, marrow_blast_percent
from ..scenario import Scenario


def summarise(
    scenario: Scenario, model: BispecificModel, ts: pd.DataFrame, wall_time_s: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run's summary: response, killing, exposure, `extra` readouts, then provenance."""
    blasts = ts["blasts"].to_numpy()
    initial, final, nadir = int(blasts[0]), int(blasts[-1]), int(blasts.min())
    percent = marrow_blast_percent(final, ts["t_cells"].iloc[-1], ts["normal_cells"].iloc[-1])
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
        "initial_effector_target_ratio": _ratio(ts["t_cells"].iloc[0], initial),
        "initial_normal_cells": int(ts["normal_cells"].iloc[0]),
        "final_normal_cells": int(ts["normal_cells"].iloc[-1]),
        "peak_drug_plasma_pg_per_ml": float(ts["drug_plasma_pg_per_ml"].max()),
        **(extra or {}),
        "wall_time_s": round(wall_time_s, 3),
        "bispecific_version": __version__,
    }


def _ratio(t_cells: float, blasts: float) -> float | None:
    """T cells per blast (E:T); None when there are no blasts."""
    return float(t_cells) / blasts if blasts > 0 else None
