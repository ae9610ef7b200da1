"""The run at a glance: tumour burden, plasma drug, IL-6 and CRS, T cells, dosing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ...readouts.crs import GRADE_BANDS_PG_PER_ML
from ...readouts.response import CR_BLAST_PERCENT
from ...scenario import Scenario
from ...simulation.summary import normal_marrow_cells
from .style import (
    CD19_NEG,
    CD19_POS,
    DRUG,
    GRADE_COLOURS,
    IL6,
    TCELLS,
    days_axis,
    draw_schedule,
    save,
)


def overview(ts: pd.DataFrame, scenario: Scenario, path: Path,
             formats: Sequence[str] = ("png",)) -> list[Path]:
    """The run at a glance: burden, drug, IL-6 and CRS, T cells, dosing."""
    fig = Figure(figsize=(9, 10.5), layout="constrained")
    axes = fig.subplots(5, 1, sharex=True,
                        gridspec_kw={"height_ratios": [3, 1.6, 2, 1.6, 1]})
    d = days_axis(ts)
    ax = axes[0]
    negative = ts["blasts_cd19_negative"].to_numpy()
    positive = ts["blasts"].to_numpy() - negative
    ax.semilogy(d, ts["blasts"].clip(lower=0.5), color="black", lw=2, label="all blasts")
    ax.semilogy(d, np.clip(positive, 0.5, None), color=CD19_POS, lw=1.3, label="CD19+")
    ax.semilogy(d, np.clip(negative, 0.5, None), color=CD19_NEG, lw=1.3, label="CD19-")
    cr = _cr_blast_count(ts, scenario)
    ax.axhline(cr, color="grey", ls="--", lw=1)
    ax.text(d[-1], cr, f"CR: marrow blasts < {CR_BLAST_PERCENT:g}%", ha="right", va="bottom",
            fontsize=8, color="grey")
    ax.set_ylabel("blasts in patch")
    ax.set_ylim(bottom=0.5)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"{scenario.name}: {scenario.description}".rstrip(": "), loc="left")

    axes[1].plot(d, ts["drug_plasma_pg_per_ml"], color=DRUG)
    axes[1].set_ylabel("plasma drug\n(pg/mL)")
    axes[1].set_ylim(bottom=0)

    _il6_panel(axes[2], d, ts)

    axes[3].plot(d, ts["t_cells"], color=TCELLS, label="T cells")
    axes[3].plot(d, ts["t_cells_engaged"], color="#1b5e20", lw=1, label="in synapse")
    axes[3].set_ylabel("T cells")
    axes[3].set_ylim(bottom=0)
    axes[3].legend(loc="upper left", fontsize=8)

    draw_schedule(axes[4], scenario)
    axes[4].set_xlabel("days from start of treatment")
    axes[4].set_xlim(0, max(d[-1], 1e-9))
    return save(fig, path, formats)


def _il6_panel(ax: Axes, d: np.ndarray, ts: pd.DataFrame) -> None:
    il6 = ts["il6_pg_per_ml"].to_numpy()
    top = max(float(il6.max()) * 2.0, 100.0)
    bands = (1.0, *GRADE_BANDS_PG_PER_ML, max(top, GRADE_BANDS_PG_PER_ML[-1] * 2))
    for grade in range(5):
        if bands[grade] < top:
            ax.axhspan(bands[grade], min(bands[grade + 1], top), color=GRADE_COLOURS[grade],
                       alpha=0.6, lw=0)
            ax.text(0.995, np.sqrt(bands[grade] * min(bands[grade + 1], top)),
                    f"grade {grade}", transform=ax.get_yaxis_transform(), ha="right",
                    va="center", fontsize=7, color="dimgrey")
    ax.semilogy(d, il6, color=IL6, lw=1.5)
    ax.set_ylim(5.0, top)
    ax.set_ylabel("plasma IL-6\n(pg/mL)")


def _cr_blast_count(ts: pd.DataFrame, scenario: Scenario) -> float:
    """Blasts at which the marrow blast percentage is the CR threshold (end-of-run T cells)."""
    others = normal_marrow_cells(scenario) + float(ts["t_cells"].iloc[-1])
    f = CR_BLAST_PERCENT / 100.0
    return f / (1.0 - f) * others
