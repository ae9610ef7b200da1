"""Figures of a run and of a comparison (matplotlib, no pyplot state; PNG, SVG on request).

- `overview`: tumour burden (log axis, CD19+ and CD19- apart), plasma drug, IL-6 with the CRS
  grade bands, T cells and engaged T cells, with the dosing schedule drawn beneath.
- `snapshots`: the grid at chosen times.
- `comparison`: several runs overlaid (tumour burden, plasma drug, IL-6), each schedule drawn.
- `animate`: a GIF of the grid over the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .crs import GRADE_BANDS_PG_PER_ML
from .dosing import total_rate_steps
from .readouts import CR_BLAST_PERCENT, normal_marrow_cells
from .scenario import Scenario
from .snapshots import (
    BLAST_CD19_NEGATIVE,
    BLAST_CD19_POSITIVE,
    T_CELL,
    T_CELL_IN_SYNAPSE,
)

CD19_POS = "#6a3d9a"
CD19_NEG = "#ff7f00"
DRUG = "#1f78b4"
IL6 = "#e31a1c"
TCELLS = "#33a02c"
GRADE_COLOURS = ("#ffffff", "#fff7bc", "#fec44f", "#fc8d59", "#d7301f")


def _save(fig: Figure, path: Path, formats: Sequence[str]) -> list[Path]:
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


def _days(ts: pd.DataFrame) -> np.ndarray:
    return ts["time_h"].to_numpy() / 24.0


def overview(ts: pd.DataFrame, scenario: Scenario, path: Path,
             formats: Sequence[str] = ("png",)) -> list[Path]:
    """The run at a glance: burden, drug, IL-6 and CRS, T cells, dosing."""
    fig = Figure(figsize=(9, 10.5), layout="constrained")
    axes = fig.subplots(5, 1, sharex=True,
                        gridspec_kw={"height_ratios": [3, 1.6, 2, 1.6, 1]})
    d = _days(ts)
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
    return _save(fig, path, formats)


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


def snapshot_image(snap: dict[str, np.ndarray]) -> np.ndarray:
    """RGB image of one snapshot: molecules as a blue haze, cells on top."""
    code, molecules = snap["code"], snap["molecules"].astype(float)
    img = np.ones((*code.shape, 3))
    haze = np.clip(np.log1p(molecules) / np.log1p(20.0), 0.0, 1.0)[..., None]
    img = img * (1 - 0.45 * haze) + np.array([0.12, 0.47, 0.71]) * 0.45 * haze
    cd19 = snap["cd19"]
    shade = np.clip(cd19 / max(float(np.percentile(cd19[cd19 > 0], 95))
                               if (cd19 > 0).any() else 1.0, 1.0), 0.35, 1.0)[..., None]
    purple = np.array([0.42, 0.24, 0.60])
    img = np.where((code == BLAST_CD19_POSITIVE)[..., None],
                   1 - (1 - purple) * shade, img)
    img[code == BLAST_CD19_NEGATIVE] = (1.0, 0.50, 0.0)
    img[code == T_CELL] = (0.20, 0.63, 0.17)
    img[code == T_CELL_IN_SYNAPSE] = (0.85, 0.0, 0.0)
    return img


def snapshots(taken: list[tuple[float, dict[str, np.ndarray]]], scenario: Scenario,
              path: Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """The grid at the captured times, side by side, with a legend."""
    n = max(len(taken), 1)
    fig = Figure(figsize=(3.2 * n, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, (t_h, snap) in zip(axes, taken, strict=False):
        ax.imshow(snapshot_image(snap), interpolation="nearest")
        ax.set_title(f"day {t_h / 24.0:g}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    width_um = scenario.grid.width * scenario.grid.voxel_um
    fig.suptitle(f"{scenario.name}: patch {width_um / 1000:g} mm wide", fontsize=10)
    handles = [_patch(c) for c in ((0.42, 0.24, 0.60), (1.0, 0.5, 0.0), (0.20, 0.63, 0.17),
                                   (0.85, 0.0, 0.0), (0.6, 0.78, 0.9))]
    fig.legend(handles, ["CD19+ blast (darker: more CD19)", "CD19- blast", "T cell",
                         "T cell in synapse", "drug molecules"],
               loc="outside lower center", ncol=5, fontsize=7, frameon=False)
    return _save(fig, path, formats)


def _patch(colour):
    from matplotlib.patches import Patch

    return Patch(color=colour)


def animate(taken: list[tuple[float, dict[str, np.ndarray]]], scenario: Scenario,
            path: Path) -> Path:
    """A GIF of the grid over the run (Pillow, which matplotlib depends on)."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig = Figure(figsize=(4.5, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.set_xticks([])
    ax.set_yticks([])
    image = ax.imshow(snapshot_image(taken[0][1]), interpolation="nearest")
    title = ax.set_title("")

    def frame(i: int):
        t_h, snap = taken[i]
        image.set_data(snapshot_image(snap))
        title.set_text(f"{scenario.name}, day {t_h / 24.0:.1f}")
        return image, title

    anim = FuncAnimation(fig, frame, frames=len(taken), blit=False)
    final = path.with_suffix(".gif")
    tmp = final.with_name(f".{final.name}.tmp.gif")
    anim.save(tmp, writer=PillowWriter(fps=8))
    tmp.replace(final)
    return final


def comparison(runs: Sequence[tuple[Scenario, pd.DataFrame]], path: Path,
               formats: Sequence[str] = ("png",)) -> list[Path]:
    """Several runs overlaid: tumour burden, plasma drug and IL-6, each schedule beneath."""
    fig = Figure(figsize=(9, 9 + 0.6 * len(runs)), layout="constrained")
    ratios = [3, 1.8, 2] + [0.7] * len(runs)
    axes = fig.subplots(3 + len(runs), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    colours = [f"C{i}" for i in range(len(runs))]
    for (scenario, ts), colour in zip(runs, colours, strict=True):
        d = _days(ts)
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
    return _save(fig, path, formats)


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
    ax_burden.set_ylabel("maximum CRS grade")
    ax_burden.set_title("CRS grade against tumour burden", loc="left")
    fig.suptitle(f"Virtual cohort {name}: {int(arms['patients'].max()) if len(arms) else 0} "
                 "patients per arm", fontsize=11)
    return _save(fig, path, formats)[0]
