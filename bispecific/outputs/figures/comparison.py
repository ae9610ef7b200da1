"""Several runs overlaid: tumour burden, plasma drug, IL-6 and CRS risk, each schedule beneath."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...scenario import Scenario
from .style import cr_blast_count, days_axis, draw_cr_line, draw_schedule, save

# Plasma drug spans a bolus peak of thousands of pg/mL and an infusion plateau of hundreds:
# linear below this value, logarithmic above, so both read at a glance.
PLASMA_LINEAR_BELOW_PG_PER_ML = 100.0


def comparison(runs: Sequence[tuple[Scenario, pd.DataFrame]], path: Path,
               formats: Sequence[str] = ("png",)) -> list[Path]:
    """Several runs overlaid: tumour burden, plasma drug, IL-6 and CRS risk, each schedule
    beneath."""
    fig = Figure(figsize=(9, 10.5 + 0.8 * len(runs)), layout="constrained")
    ratios = [3, 1.8, 1.8, 1.6] + [0.8] * len(runs)
    axes = fig.subplots(4 + len(runs), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    colours = [f"C{i}" for i in range(len(runs))]
    il6_top = 100.0
    for (scenario, ts), colour in zip(runs, colours, strict=True):
        d = days_axis(ts)
        axes[0].semilogy(d, ts["blasts"].clip(lower=0.5), color=colour, lw=1.8,
                         label=scenario.name)
        axes[1].plot(d, ts["drug_plasma_pg_per_ml"], color=colour, lw=1.2)
        axes[2].semilogy(d, ts["il6_pg_per_ml"], color=colour, lw=1.4)
        axes[3].plot(d, ts["crs_p_grade2"], color=colour, lw=1.6)
        axes[3].plot(d, ts["crs_p_grade1"], color=colour, lw=0.9, ls=":")
        il6_top = max(il6_top, 2.0 * float(ts["il6_pg_per_ml"].max()))
    end = max(float(days_axis(ts)[-1]) for _, ts in runs)
    # CR line: the same patch for every run in practice; the most stringent if not.
    draw_cr_line(axes[0], min(cr_blast_count(ts) for _, ts in runs), end)
    axes[0].set_ylabel("blasts in patch\n(log scale)")
    axes[0].legend(fontsize=8, loc="lower left")
    axes[0].set_title("Tumour burden, plasma drug, IL-6 and CRS risk by schedule", loc="left")
    axes[1].set_yscale("symlog", linthresh=PLASMA_LINEAR_BELOW_PG_PER_ML)
    axes[1].set_ylim(bottom=0)
    axes[1].set_ylabel(f"plasma drug (pg/mL)\nlinear < {PLASMA_LINEAR_BELOW_PG_PER_ML:g},\n"
                       "log above", fontsize=9)
    axes[2].set_ylim(5.0, il6_top)
    axes[2].set_ylabel("plasma IL-6\n(pg/mL, log)")
    axes[3].set_ylim(0, 1)
    axes[3].set_ylabel("P(CRS) at\nthat time")
    axes[3].text(0.995, 0.95, "solid: grade >= 2; dotted: grade >= 1", ha="right", va="top",
                 fontsize=7, color="dimgrey", transform=axes[3].transAxes)
    for ax, (scenario, _), colour in zip(axes[4:], runs, colours, strict=True):
        draw_schedule(ax, scenario, colour=colour)
        ax.set_title(f"{scenario.name}: dosing", loc="left", fontsize=8, color=colour,
                     fontweight="bold", pad=2)
    axes[-1].set_xlabel("days from start of treatment")
    axes[-1].set_xlim(0, end)
    axes[-1].set_xticks(np.arange(0, end + 1e-9, 7 if end >= 14 else 1))
    return save(fig, path, formats)
