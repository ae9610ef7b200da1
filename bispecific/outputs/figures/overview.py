"""The run at a glance: tumour burden, plasma drug, IL-6, CRS probabilities, T cells, dosing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ...scenario import Scenario
from .style import (
    CD19_NEG,
    CD19_POS,
    DRUG,
    ENGAGED,
    IL6,
    TCELLS,
    cr_blast_count,
    days_axis,
    draw_cr_line,
    draw_crs_probabilities,
    draw_schedule,
    save,
)


def overview(ts: pd.DataFrame, scenario: Scenario, path: Path,
             formats: Sequence[str] = ("png",),
             stopped: tuple[float, str] | None = None) -> list[Path]:
    """The run at a glance: burden, drug, IL-6 and CRS, T cells, dosing (and where a
    stopping rule ended treatment: `stopped`, its day and reason)."""
    fig = Figure(figsize=(9, 12), layout="constrained")
    axes = fig.subplots(6, 1, sharex=True,
                        gridspec_kw={"height_ratios": [3, 1.4, 1.6, 1.6, 1.6, 1]})
    d = days_axis(ts)
    ax = axes[0]
    negative = ts["blasts_cd19_negative"].to_numpy()
    positive = ts["blasts"].to_numpy() - negative
    ax.semilogy(d, ts["blasts"].clip(lower=0.5), color="black", lw=2, label="all blasts")
    ax.semilogy(d, np.clip(positive, 0.5, None), color=CD19_POS, lw=1.3, label="CD19+")
    ax.semilogy(d, np.clip(negative, 0.5, None), color=CD19_NEG, lw=0.8, alpha=0.6,
                label="CD19- (cells on the grid)")
    ax.semilogy(d, np.clip(ts["blasts_cd19_negative_expected"], 0.5, None), color=CD19_NEG,
                lw=1.6, ls="--", label="CD19- (expected; counted for response)")
    draw_cr_line(ax, cr_blast_count(ts), d[-1])
    ax.set_ylabel("blasts in patch\n(log scale)")
    ax.set_ylim(bottom=0.5)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"{scenario.name}: {scenario.description}".rstrip(": "), loc="left")

    axes[1].plot(d, ts["drug_plasma_pg_per_ml"], color=DRUG)
    axes[1].set_ylabel("plasma drug\n(pg/mL)")
    axes[1].set_ylim(bottom=0)

    _il6_panel(axes[2], d, ts)
    draw_crs_probabilities(axes[3], d, ts)
    axes[3].set_title("CRS: chance the patient is at each grade (expected, not a draw)",
                      loc="left", fontsize=8)
    _t_cell_panel(axes[4], d, ts)

    draw_schedule(axes[5], scenario, stopped=stopped)
    axes[5].set_xlabel("days from start of treatment")
    axes[5].set_xlim(0, max(scenario.days if stopped else d[-1], 1e-9))
    return save(fig, path, formats)


def _il6_panel(ax: Axes, d: np.ndarray, ts: pd.DataFrame) -> None:
    il6 = ts["il6_pg_per_ml"].to_numpy()
    top = max(float(il6.max()) * 2.0, 100.0)
    ax.semilogy(d, il6, color=IL6, lw=1.5, label="IL-6")
    ax.semilogy(d, ts["crs_exposure_pg_per_ml"], color=IL6, lw=1.0, ls="--",
                label="CRS exposure (IL-6 averaged over ~1 day)")
    ax.set_ylim(5.0, top)
    ax.set_ylabel("plasma IL-6\n(pg/mL, log)")
    ax.legend(loc="upper right", fontsize=7)


def _t_cell_panel(ax: Axes, d: np.ndarray, ts: pd.DataFrame) -> None:
    """All T cells on the left axis; the few in a synapse on a right axis of their own, so
    a line of tens is not flattened against hundreds."""
    ax.plot(d, ts["t_cells"], color=TCELLS, label="T cells (left axis)")
    ax.set_ylabel("T cells", color=TCELLS)
    ax.set_ylim(bottom=0)
    right = ax.twinx()
    right.plot(d, ts["t_cells_engaged"], color=ENGAGED, lw=1, label="in synapse (right axis)")
    right.set_ylabel("in synapse", color=ENGAGED)
    right.set_ylim(bottom=0, top=max(1.0, float(ts["t_cells_engaged"].max()) * 1.15))
    lines = ax.get_lines() + right.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="upper left", fontsize=8)
