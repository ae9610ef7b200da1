"""The model beside the data it is calibrated on and validated against, in one figure
(written by docs/calibrate.py into docs/figures/model_vs_data.png)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure


@dataclass(frozen=True)
class Point:
    """One readout of one trial: the published rate and the model's, with intervals."""

    group: str  # "calibration" or "validation"
    trial: str
    readout: str
    published: float
    published_ci: tuple[float, float] | None
    model: tuple[float, float, float]  # rate, low, high


def model_vs_data(points: list[Point], path: Path) -> None:
    """A forest plot: one row per readout, published in black, the model in colour."""
    if not points:
        return
    rows = sorted(points, key=lambda p: (p.group != "calibration",))
    fig = Figure(figsize=(10, 0.42 * len(rows) + 1.4), layout="constrained")
    ax = fig.subplots()
    colours = {"calibration": "C0", "validation": "C3"}
    for y, p in enumerate(reversed(rows)):
        rate, low, high = p.model
        # A ratio of means (MRD among responders) can sit outside its trials' interval.
        low, high = min(low, rate), max(high, rate)
        ax.errorbar([100 * rate], [y + 0.12], xerr=[[100 * (rate - low)], [100 * (high - rate)]],
                    fmt="o", color=colours[p.group], capsize=3, ms=5)
        if p.published_ci:
            lo, hi = min(p.published_ci[0], p.published), max(p.published_ci[1], p.published)
            ax.errorbar([100 * p.published], [y - 0.12],
                        xerr=[[100 * (p.published - lo)], [100 * (hi - p.published)]],
                        fmt="s", color="black", capsize=3, ms=4)
        else:
            ax.plot([100 * p.published], [y - 0.12], "s", color="black", ms=4)
    labels = [f"{p.trial.removeprefix('cohort_')}: {p.readout[:58]}" for p in reversed(rows)]
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.set_xlabel("rate (%)")
    ax.set_xlim(left=0)
    ax.grid(axis="x", alpha=0.3)
    ax.plot([], [], "o", color="C0", label="model, calibration trials")
    ax.plot([], [], "o", color="C3", label="model, validation trials (never fitted)")
    ax.plot([], [], "s", color="black", label="published")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    ax.set_title("Model against data (docs/calibration.md)", loc="left", fontsize=10)
    fig.savefig(path, dpi=130)
