"""A schedule search: CR rate against CRS grade >= 2 rate for every schedule tried, the front,
and the reference regimens marked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .style import save

# Marker and colour by family; per-m^2 schedules are drawn hollow.
FAMILIES = {
    "continuous, step-up": ("o", "#1f78b4"),
    "continuous, flat": ("s", "#33a02c"),
    "bolus": ("^", "#ff7f00"),
}


def pareto_figure(table: pd.DataFrame, limit: float | None, title: str, path: Path,
                  formats: Sequence[str] = ("png",), no_signal: str | None = None) -> Path:
    """`table` is trials.csv: searched schedules (`source` "search") and reference arms
    ("reference"), with their rates, `on_front` and `best` rank. `no_signal`: why the
    search ranks nothing, said on the figure."""
    return save(pareto_axes(table, limit, title, no_signal), path, formats)[0]


def pareto_axes(table: pd.DataFrame, limit: float | None, title: str,
                no_signal: str | None = None) -> Figure:
    """The figure of `pareto_figure`, unsaved. The legend sits beside the axes, so that it
    never hides a point (a CR rate near 0 is in the lower corners)."""
    fig = Figure(figsize=(11.0, 6.0), layout="constrained")
    ax = fig.subplots()
    search = table[table["source"] == "search"]
    for family, (marker, colour) in FAMILIES.items():
        rows = search[search["family"] == family]
        for units, face in (("flat", colour), ("per_m2", "none")):
            r = rows[rows["units"] == units]
            if len(r):
                ax.scatter(r["crs_grade2_rate"], r["cr_rate"], marker=marker, s=30,
                           facecolors=face, edgecolors=colour, alpha=0.8,
                           label=f"{family}, {'flat dose' if units == 'flat' else 'per m^2'}")
    front = table[table["on_front"]].sort_values("crs_grade2_rate")
    if len(front):
        ax.step(front["crs_grade2_rate"], front["cr_rate"], where="post", color="black",
                lw=1.2, label="Pareto front (all schedules evaluated)")
    refs = table[table["source"] == "reference"]
    for i, (_, r) in enumerate(refs.iterrows()):
        ax.scatter(r["crs_grade2_rate"], r["cr_rate"], marker="*", s=260, color=f"C{i + 3}",
                   edgecolors="black", zorder=5, label=f"reference: {r['trial'][4:]}")
    best = table[table["best"].notna()]
    for _, r in best.iterrows():
        ax.annotate(f"best {int(r['best'])}", (r["crs_grade2_rate"], r["cr_rate"]),
                    xytext=(6, -10), textcoords="offset points", fontsize=8)
    if limit is not None:
        ax.axvline(limit, color="#e31a1c", ls="--", lw=1)
        ax.axvspan(limit, 1.02, color="#e31a1c", alpha=0.06,
                   label=f"CRS grade >= 2 rate above {limit:g} (not allowed)")
    finite = table[["crs_grade2_rate", "cr_rate"]].to_numpy(float)
    finite = finite[np.isfinite(finite).all(axis=1)]
    top = max(0.05, float(finite[:, 0].max()) * 1.1) if len(finite) else 1.0
    ax.set_xlim(-0.01, min(1.02, top))
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("CRS grade >= 2 rate (mean of patients' probabilities)")
    ax.set_ylabel("CR rate (mean of patients' probabilities)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    if no_signal:
        title += f"\nno signal: {no_signal}; nothing ranked"
    ax.set_title(title, loc="left", fontsize=10)
    return fig
