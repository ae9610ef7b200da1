"""A finished run's summary: response, killing, exposure, CRS, then provenance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import __version__
from ..engine.facade.model import BispecificModel
from ..readouts.response import marrow_blast_percent, response_summary
from ..scenario import Scenario

if TYPE_CHECKING:
    from .patient import PatientReadouts


def summarise(
    scenario: Scenario, model: BispecificModel, ts: pd.DataFrame, readouts: PatientReadouts,
) -> dict[str, Any]:
    """The run's summary: response (best over the assessments), killing, exposure, CRS
    (expected values), then provenance.

    A function of the scenario and seed alone: timing is kept out (`RunResult.wall_time_s`),
    so identical runs give identical summaries."""
    blasts = ts["blasts"].to_numpy()
    final = ts.iloc[-1]
    kills = model.state.t_kills[: model.state.n_tcells]
    response = response_summary(readouts.assessments.taken,
                                scenario.patient.marrow_blast_fraction, readouts.enrichment)
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "days": scenario.days,
        "initial_blasts": int(blasts[0]),
        "final_blasts": int(blasts[-1]),
        "nadir_blasts": int(blasts.min()),
        "final_blasts_cd19_negative_expected": float(final["blasts_cd19_negative_expected"]),
        "final_marrow_blast_percent": float(marrow_blast_percent(
            final["blasts"], final["t_cells"], final["normal_cells"])) / readouts.enrichment,
        **response,
        "kills_total": int(model.counter("kills_total")),
        "max_kills_per_t_cell": int(kills.max()) if kills.size else 0,
        "initial_t_cells": int(ts["t_cells"].iloc[0]),
        "final_t_cells": int(final["t_cells"]),
        "initial_effector_target_ratio": _ratio(ts["t_cells"].iloc[0],
                                                blasts[0] / readouts.enrichment),
        "initial_normal_cells": int(ts["normal_cells"].iloc[0]),
        "final_normal_cells": int(final["normal_cells"]),
        "peak_drug_plasma_pg_per_ml": float(ts["drug_plasma_pg_per_ml"].max()),
        **readouts.crs.summary(),
        "dexamethasone": scenario.dexamethasone,
        **(readouts.stopping.summary(scenario.days) if readouts.stopping is not None
           else {"treatment_end_day": scenario.days, "stop_reason": "none"}),
        "bispecific_version": __version__,
    }


def _ratio(t_cells: float, blasts: float) -> float | None:
    """T cells per blast (E:T) in the patient, blasts taken back from the patch's enrichment;
    None when there are no blasts."""
    return float(t_cells) / blasts if blasts > 0 else None
