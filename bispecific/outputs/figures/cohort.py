"""A cohort at a glance: response and CRS by arm, and CRS against baseline burden."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .style import GRADE_COLOURS, save


def _error_bars(rate, low, high) -> list:
    """Asymmetric error bars, clipped at 0 (an interval may round inside its estimate)."""
    return [np.clip(rate - low, 0.0, None), np.clip(high - rate, 0.0, None)]


def cohort_figure(results: pd.DataFrame, arms: pd.DataFrame, patients: pd.DataFrame,
                  name: str, path: Path, formats: Sequence[str] = ("png",)) -> Path:
    """Response and CRS by arm (95% intervals), and CRS grade against baseline burden."""
    fig = Figure(figsize=(13, 4.4), layout="constrained")
    ax_cr, ax_crs, ax_burden = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1.4, 1.4]})
    x = np.arange(len(arms))
    colours = [f"C{i}" for i in range(len(arms))]
    if "cr_rate" in arms:
        err = _error_bars(arms["cr_rate"], arms["cr_rate_low"], arms["cr_rate_high"])
        ax_cr.bar(x, arms["cr_rate"], color=colours, yerr=err, capsize=4)
    ax_cr.set_xticks(x, arms["arm"], rotation=20, ha="right")
    ax_cr.set_ylim(0, 1.22)
    ax_cr.set_yticks(np.linspace(0, 1, 6))
    ax_cr.set_ylabel("complete response rate (95% CI)")
    ax_cr.set_title("Response", loc="left")
    width = 0.27
    for j, (key, label) in enumerate((("crs_any", "any grade"), ("crs_grade2", "grade >= 2"),
                                      ("crs_grade3", "grade >= 3"))):
        if f"{key}_rate" not in arms:
            continue
        rate = arms[f"{key}_rate"]
        err = _error_bars(rate, arms[f"{key}_rate_low"], arms[f"{key}_rate_high"])
        ax_crs.bar(x + (j - 1) * width, rate, width, yerr=err, capsize=3, label=label,
                   color=GRADE_COLOURS[j + 2], edgecolor="grey")
    ax_crs.set_xticks(x, arms["arm"], rotation=20, ha="right")
    ax_crs.set_ylim(0, 1.22)
    ax_crs.set_yticks(np.linspace(0, 1, 6))
    ax_crs.set_ylabel("patients with CRS (95% CI)")
    ax_crs.set_title("Cytokine release syndrome (IL-6 bands)", loc="left")
    ax_crs.legend(fontsize=8, ncol=3, loc="upper center")
    if len(results) and "marrow_blast_fraction" in patients:
        burden = patients.set_index("patient")["marrow_blast_fraction"]
        rng = np.random.default_rng(0)  # jitter only, for legibility
        for i, (arm, colour) in enumerate(zip(arms["arm"], colours, strict=True)):
            r = results[results["arm"] == arm]
            jitter = (i - (len(arms) - 1) / 2) * 0.12 + rng.uniform(-0.04, 0.04, len(r))
            ax_burden.scatter(100 * burden.loc[r["patient"]].to_numpy(),
                              r["crs_grade_max"] + jitter, s=14, color=colour, alpha=0.7,
                              label=arm)
        ax_burden.legend(fontsize=8)
    ax_burden.set_yticks(range(5))
    ax_burden.set_xlabel("baseline marrow blasts (%)")
    ax_burden.set_ylabel("maximum CRS grade\n(points spread around each grade for legibility)")
    ax_burden.set_title("CRS grade against tumour burden", loc="left")
    fig.suptitle(f"Virtual cohort {name}: {int(arms['patients'].max()) if len(arms) else 0} "
                 "patients per arm", fontsize=11)
    return save(fig, path, formats)[0]
