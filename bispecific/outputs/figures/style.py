"""Shared look of every figure: colours, the dosing-schedule panel, and atomic saving."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ...pharmacology.dosing import total_rate_steps
from ...readouts.response import CR_BLAST_PERCENT
from ...scenario import Scenario
from .glyphs import make_drawable

CD19_POS = "#6a3d9a"
CD19_NEG = "#ff7f00"
DRUG = "#1f78b4"
CHEMOTHERAPY = "#8c510a"  # cytotoxic courses on the dosing panel
IL6 = "#e31a1c"
TCELLS = "#33a02c"
ENGAGED = "#b2182b"  # T cells in a synapse, as on the grid pictures
CRS_COLOURS = ("#fec44f", "#fc8d59", "#d7301f", "#7f0000")  # grade >= 1, 2, 3, 4


# What makes a figure file differ between identical runs, pinned: the date in an SVG and
# the random ids of its clip paths (a fixed salt makes them a hash of the content). PNG
# from the Agg backend depends on the data alone.
_METADATA = {"png": {"Software": None}, "svg": {"Date": None}}
_RC = {"svg.hashsalt": "bispecific"}


def save(fig: Figure, path: Path, formats: Sequence[str]) -> list[Path]:
    """Save each format under a temporary name, then rename (never a half-written figure).
    The same data give the same bytes."""
    make_drawable(fig)  # names in scripts the font lacks: no boxes, no warnings
    written = []
    for fmt in formats:
        final = path.with_suffix("." + fmt)
        tmp = final.with_name(f".{final.name}.tmp")
        try:
            with matplotlib.rc_context(_RC):
                fig.savefig(tmp, format=fmt, dpi=130, bbox_inches="tight",
                            metadata=_METADATA.get(fmt))
            tmp.replace(final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(final)
    return written


def draw_schedule(ax: Axes, scenario: Scenario, colour: str = DRUG,
                  label: str | None = None, stopped: tuple[float, str] | None = None
                  ) -> Axes | None:
    """The dosing schedule: infusion rate as steps (ug/day, left axis) and boluses as stems
    (ug, on a right-hand axis of their own when there are infusions too); `stopped` (day,
    reason) marks where a stopping rule ended treatment (docs/model.md s.13), after which
    nothing was given. Returns the bolus axis if one was added."""
    segments, boluses = scenario.schedule.expand(scenario.days, scenario.patient.bsa_m2)
    steps = total_rate_steps(segments)
    bolus_ax = None
    if steps:
        t = [s[0] / 24.0 for s in steps] + [scenario.days]
        r = [s[1] * 24.0 for s in steps] + [steps[-1][1] * 24.0]
        ax.step(t, r, where="post", color=colour, lw=1.6, label=label)
        ax.fill_between(t, r, step="post", color=colour, alpha=0.15)
        ax.set_ylabel("infusion\n(ug/day)")
    if boluses:
        bolus_ax = ax.twinx() if steps else ax
        days = [e.time_h / 24.0 for e in boluses]
        doses = [e.dose_ug for e in boluses]
        bolus_ax.vlines(days, 0, doses, color=colour, lw=1.6, label=None if steps else label)
        bolus_ax.plot(days, doses, "v", color=colour, ms=4)
        bolus_ax.set_ylabel("bolus\n(ug)")
        bolus_ax.set_ylim(bottom=0, top=max(doses) * 1.15)
    for n, course in enumerate(scenario.chemotherapy):  # cytotoxic courses (model.md s.14)
        ax.axvline(course.day, color=CHEMOTHERAPY, lw=1.4, ls="--",
                   label="chemotherapy" if n == 0 else None)
        ax.text(course.day, 0.95, f" {course.regimen}", transform=ax.get_xaxis_transform(),
                va="top", fontsize=7, color=CHEMOTHERAPY)
    if stopped is not None:  # the rest of the plan, greyed: never given
        day, reason = stopped
        ax.axvspan(day, scenario.days, color="white", alpha=0.7, lw=0, zorder=3)
        ax.axvline(day, color="black", lw=1.4, ls=":", zorder=4)
        ax.text(day, 0.5, f" treatment stopped on day {day:g}: {reason};\n planned doses "
                "after it not given", transform=ax.get_xaxis_transform(), ha="left",
                va="center", fontsize=7, zorder=5)
    if not steps and not boluses:
        ax.text(0.5, 0.5, "chemotherapy only" if scenario.chemotherapy else "no drug",
                transform=ax.transAxes, ha="center", va="center", color="grey")
        ax.set_ylabel("dose")
    ax.set_ylim(bottom=0)
    return bolus_ax


def cr_blast_count(ts: pd.DataFrame) -> float:
    """Blasts in the patch at which marrow blasts are at the CR threshold, against the T
    cells and normal cells at the end of the run (unenriched patches)."""
    others = float(ts["normal_cells"].iloc[-1]) + float(ts["t_cells"].iloc[-1])
    f = CR_BLAST_PERCENT / 100.0
    return f / (1.0 - f) * others


def draw_cr_line(ax: Axes, count: float, x_end: float) -> None:
    ax.axhline(count, color="grey", ls="--", lw=1)
    ax.text(x_end, count, f"CR: marrow blasts < {CR_BLAST_PERCENT:g}%", ha="right",
            va="bottom", fontsize=8, color="grey")


def draw_crs_probabilities(ax: Axes, d: np.ndarray, ts: pd.DataFrame) -> None:
    """P(CRS grade >= k) over time (docs/model.md s.10): the chance that the patient is at
    that grade then. Grade 1 is fever (ASTCT)."""
    for k in (1, 2, 3):
        ax.plot(d, ts[f"crs_p_grade{k}"], color=CRS_COLOURS[k - 1], lw=1.5,
                label="fever (grade >= 1)" if k == 1 else f"CRS grade >= {k}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.legend(loc="upper right", fontsize=7, ncol=3)


def days_axis(ts: pd.DataFrame) -> np.ndarray:
    return ts["time_h"].to_numpy() / 24.0
