"""Several runs overlaid: tumour burden, plasma drug and IL-6, each schedule beneath."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ...readouts.crs import GRADE_BANDS_PG_PER_ML
from ...scenario import Scenario
from .style import GRADE_COLOURS, days_axis, draw_schedule, save


def comparison(runs: Sequence[tuple[Scenario, pd.DataFrame]], path: Path,
               formats: Sequence[str] = ("png",)) -> list[Path]:
    """Several runs overlaid: tumour burden, plasma drug and IL-6, each schedule beneath."""
    fig = Figure(figsize=(9, 9 + 0.6 * len(runs)), layout="constrained")
    ratios = [3, 1.8, 2] + [0.7] * len(runs)
    axes = fig.subplots(3 + len(runs), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    colours = [f"C{i}" for i in range(len(runs))]
    for (scenario, ts), colour in zip(runs, colours, strict=True):
        d = days_axis(ts)
        axes[0].semilogy(d, ts["blasts"].clip(lower=0.5), color=colour, lw=1.8,
                         label=scenario.name)
        axes[1].plot(d, ts["drug_plasma_pg_per_ml"], color=colour, lw=1.2)
        axes[2].semilogy(d, ts["il6_pg_per_ml"], color=colour, lw=1.4)
    axes[0].set_ylabel("blasts in patch")
    axes[0].legend(fontsize=8)
    axes[0].set_title("Tumour burden, plasma drug and IL-6 by schedule", loc="left")
    axes[1].set_ylabel("plasma drug\n(pg/mL)")
    axes[1].set_yscale("symlog", linthresh=100.0)
    axes[1].set_ylim(bottom=0)
    for lower, colour in zip(GRADE_BANDS_PG_PER_ML, GRADE_COLOURS[1:], strict=True):
        axes[2].axhline(lower, color=colour, lw=1.0, ls="--")
    axes[2].set_ylabel("plasma IL-6\n(pg/mL)")
    axes[2].text(0.995, GRADE_BANDS_PG_PER_ML[1], "CRS grade 2 band", ha="right",
                 va="bottom", fontsize=7, color="dimgrey",
                 transform=axes[2].get_yaxis_transform())
    for ax, (scenario, _), colour in zip(axes[3:], runs, colours, strict=True):
        draw_schedule(ax, scenario, colour=colour)
        ax.set_ylabel(scenario.name, rotation=0, ha="right", va="center", fontsize=8)
    axes[-1].set_xlabel("days from start of treatment")
    axes[-1].set_xlim(left=0)
    return save(fig, path, formats)
