"""A cohort at a glance: response and CRS by arm, and CRS against baseline burden."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .style import CRS_COLOURS, save


def _error_bars(rate, low, high) -> list:
    """Asymmetric error bars, clipped at 0 (an interval may round inside its estimate)."""
    return [np.clip(rate - low, 0.0, None), np.clip(high - rate, 0.0, None)]


def _rate_bars(ax, x, arms: pd.DataFrame, keys: Sequence[tuple[str, str, str]]) -> None:
    width = 0.8 / len(keys)
    for j, (key, label, colour) in enumerate(keys):
        if f"{key}_rate" not in arms:
            continue
        # Plain arrays: matplotlib reads a one-arm Series as a scalar (deprecated in pandas).
        rate, low, high = (arms[f"{key}_rate{s}"].to_numpy(float) for s in ("", "_low", "_high"))
        err = _error_bars(rate, low, high)
        ax.bar(x + (j - (len(keys) - 1) / 2) * width, rate, width, yerr=err, capsize=3,
               label=label, color=colour, edgecolor="grey")
    ax.set_xticks(x, arms["arm"], rotation=20, ha="right")
    ax.set_ylim(0, 1.22)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.legend(fontsize=8, ncol=len(keys), loc="upper center")


def cohort_figure(results: pd.DataFrame, arms: pd.DataFrame, patients: pd.DataFrame,
                  name: str, path: Path, formats: Sequence[str] = ("png",)) -> Path:
    """Response and CRS by arm (means of the patients' probabilities, 95% trial intervals:
    `cohorts.stats.trial_interval`), and each
    patient's CRS risk against baseline burden."""
    fig = Figure(figsize=(14, 4.6), layout="constrained")
    ax_cr, ax_crs, ax_burden = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1.4, 1.3]})
    x = np.arange(len(arms))
    colours = [f"C{i}" for i in range(len(arms))]
    _rate_bars(ax_cr, x, arms, (("cr", "CR (blasts < 5%)", "#6a3d9a"),
                                ("mrd_negative", "MRD < 1e-4", "#cab2d6")))
    ax_cr.set_ylabel("rate (mean of patients' probabilities;\n"
                     "95% Wilson interval for a trial of n)")
    ax_cr.set_title("Response (best over the cycles run)", loc="left")
    _rate_bars(ax_crs, x, arms, (("crs_grade1", "grade >= 1", CRS_COLOURS[0]),
                                 ("crs_grade2", "grade >= 2", CRS_COLOURS[1]),
                                 ("crs_grade3", "grade >= 3", CRS_COLOURS[2]),
                                 ("crs_grade4", "grade 4", CRS_COLOURS[3])))
    ax_crs.set_ylabel("patients with CRS (expected share;\n"
                      "95% Wilson interval for a trial of n)")
    ax_crs.set_title("Cytokine release syndrome", loc="left")
    if len(results) and "marrow_blast_fraction" in patients:
        burden = patients.set_index("patient")["marrow_blast_fraction"]
        for arm, colour in zip(arms["arm"], colours, strict=True):
            r = results[results["arm"] == arm]
            ax_burden.scatter(100 * burden.loc[r["patient"]].to_numpy(),
                              r["p_crs_grade2_or_more"], s=14, color=colour, alpha=0.7,
                              label=arm)
        ax_burden.legend(fontsize=8)
    ax_burden.set_ylim(-0.02, 1.02)
    ax_burden.set_xlabel("baseline marrow blasts (%)")
    ax_burden.set_ylabel("P(CRS grade >= 2), per patient")
    ax_burden.set_title("CRS risk against tumour burden", loc="left")
    fig.suptitle(f"Virtual cohort {name}: {int(arms['patients'].max()) if len(arms) else 0} "
                 "patients per arm", fontsize=11)
    return save(fig, path, formats)[0]
