"""Shared look of every figure: colours, the dosing-schedule panel, and atomic saving."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ...pharmacology.dosing import total_rate_steps
from ...scenario import Scenario

CD19_POS = "#6a3d9a"
CD19_NEG = "#ff7f00"
DRUG = "#1f78b4"
IL6 = "#e31a1c"
TCELLS = "#33a02c"
GRADE_COLOURS = ("#ffffff", "#fff7bc", "#fec44f", "#fc8d59", "#d7301f")


def save(fig: Figure, path: Path, formats: Sequence[str]) -> list[Path]:
    """Save each format under a temporary name, then rename (never a half-written figure)."""
    written = []
    for fmt in formats:
        final = path.with_suffix("." + fmt)
        tmp = final.with_name(f".{final.name}.tmp")
        fig.savefig(tmp, format=fmt, dpi=130, bbox_inches="tight")
        tmp.replace(final)
        written.append(final)
    return written


def draw_schedule(ax: Axes, scenario: Scenario, colour: str = DRUG, label: str | None = None,
                  offset: float = 0.0) -> None:
    """The dosing schedule: infusion rate (ug/day) as steps, boluses as stems (ug)."""
    segments, boluses = scenario.schedule.expand(scenario.days, scenario.patient.bsa_m2)
    steps = total_rate_steps(segments)
    if steps:
        t = [s[0] / 24.0 for s in steps] + [scenario.days]
        r = [s[1] * 24.0 for s in steps] + [steps[-1][1] * 24.0]
        ax.step(t, r, where="post", color=colour, lw=1.6, label=label)
        ax.fill_between(t, r, step="post", color=colour, alpha=0.15)
    if boluses:
        days = [e.time_h / 24.0 + offset for e in boluses]
        ax.vlines(days, 0, [e.dose_ug for e in boluses], color=colour, lw=1.6,
                  label=None if steps else label)
        ax.plot(days, [e.dose_ug for e in boluses], "v", color=colour, ms=4)
    if not steps and not boluses:
        ax.text(0.5, 0.5, "no drug", transform=ax.transAxes, ha="center", va="center",
                color="grey")
    ax.set_ylabel("dose\n(ug/day; bolus ug)")
    ax.set_ylim(bottom=0)


def days_axis(ts: pd.DataFrame) -> np.ndarray:
    return ts["time_h"].to_numpy() / 24.0
