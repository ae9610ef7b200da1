"""The drawn virtual population: each covariate's spread and each pair against each other."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from .style import save

MAX_COVARIATES = 6  # a pair plot of more is unreadable; the first varying ones are shown


def varying_covariates(patients: pd.DataFrame) -> list[str]:
    """The covariate columns that differ between patients (at most MAX_COVARIATES)."""
    names = [c for c in patients.columns if c != "patient" and patients[c].nunique() > 1]
    return names[:MAX_COVARIATES]


def population_figure(patients: pd.DataFrame, name: str, path: Path,
                      formats: Sequence[str] = ("png",)) -> Path | None:
    """A pair plot of the patients' covariates: histograms on the diagonal, scatter plots
    with the Spearman rank correlation below it. None when fewer than two vary.

    Parameters
    ----------
    patients
        One row per patient (`patients.csv` of a cohort folder).
    name
        The cohort's name, for the title.
    path
        The figure's path without its suffix.
    formats
        File formats, e.g. ("png", "svg").
    """
    names = varying_covariates(patients)
    if len(names) < 2:
        return None
    n = len(names)
    fig = Figure(figsize=(2.2 * n + 0.6, 2.2 * n + 0.4), layout="constrained")
    axes = np.atleast_2d(fig.subplots(n, n, squeeze=False))
    for i, row in enumerate(names):
        for j, col in enumerate(names):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            if i == j:
                ax.hist(patients[col], bins=20, color="#6a3d9a", alpha=0.8)
            else:
                ax.scatter(patients[col], patients[row], s=6, color="#1f78b4", alpha=0.6)
                rho = stats.spearmanr(patients[col], patients[row]).statistic
                ax.set_title(f"rho = {rho:.2f}", fontsize=8, loc="left")
            if i == n - 1:
                ax.set_xlabel(col, fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(row, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(f"Virtual population {name}: {len(patients)} patients (Spearman rank "
                 "correlations)", fontsize=10)
    return save(fig, path, formats)[0]
