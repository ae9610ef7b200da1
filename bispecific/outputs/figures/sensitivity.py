"""A sensitivity analysis per readout: its parameters ranked, as horizontal bars."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .style import save


def sensitivity_figure(table: pd.DataFrame, method: str, readout: str, noise: str,
                       title: str, path: Path, formats: Sequence[str] = ("png",),
                       no_signal: str | None = None) -> Path:
    """Bars of mu* (Morris, with sigma marked) or of first-order and total indices (Sobol),
    with their confidence intervals, the most decisive parameter on top. `table` is one
    readout's rows of indices.csv, ranked; `noise` says how much of it is simulation noise.
    With `no_signal` (why the readout carries none), no bars: that sentence instead."""
    return save(sensitivity_axes(table, method, readout, noise, title, no_signal), path,
                formats)[0]


def sensitivity_axes(table: pd.DataFrame, method: str, readout: str, noise: str, title: str,
                     no_signal: str | None = None) -> Figure:
    """The figure of `sensitivity_figure`, unsaved."""
    if no_signal:
        fig = Figure(figsize=(7.5, 2.0), layout="constrained")
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.0, 0.5, f"{readout}: no signal, parameters not ranked:\n{no_signal}",
                va="center", ha="left", fontsize=10, wrap=True)
        fig.suptitle(title, fontsize=10)
        return fig
    t = table.sort_values("rank")
    n = len(t)
    fig = Figure(figsize=(7.5, 1.4 + 0.32 * n), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)[::-1]  # rank 1 at the top
    if method == "morris":
        ax.barh(y, t["mu_star"], xerr=np.nan_to_num(t["mu_star_conf"].to_numpy(float)),
                color="#1f78b4", capsize=3, label="mu* (mean |elementary effect|), CI")
        ax.plot(t["sigma"], y, "D", color="#e31a1c", ms=4,
                label="sigma (non-linearity, interactions)")
        ax.set_xlabel(f"effect on {readout} over each parameter's range")
    else:
        h = 0.38
        ax.barh(y + h / 2, t["S1"], h, xerr=np.nan_to_num(t["S1_conf"].to_numpy(float)),
                color="#a6cee3", capsize=2, label="first-order S1, CI")
        ax.barh(y - h / 2, t["ST"], h, xerr=np.nan_to_num(t["ST_conf"].to_numpy(float)),
                color="#1f78b4", capsize=2, label="total ST, CI")
        ax.set_xlabel(f"share of the variance of {readout}")
    ax.set_yticks(y, t["parameter"])
    ax.axvline(0, color="grey", lw=0.8)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"{readout}: {noise}", loc="left", fontsize=10)
    fig.suptitle(title, fontsize=10)
    return fig
