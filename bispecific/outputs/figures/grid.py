"""The grid itself: snapshots side by side, and an animation over the run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ...readouts.snapshots import (
    BLAST_CD19_NEGATIVE,
    BLAST_CD19_POSITIVE,
    NORMAL_CELL,
    T_CELL,
    T_CELL_IN_SYNAPSE,
)
from ...scenario import Scenario
from .glyphs import make_drawable
from .style import save

# What each colour on the grid means (one place, for the images and their legends).
PURPLE = (0.42, 0.24, 0.60)
ORANGE = (1.0, 0.50, 0.0)
GREEN = (0.20, 0.63, 0.17)
RED = (0.85, 0.0, 0.0)
HAZE = (0.12, 0.47, 0.71)
GREY = (0.80, 0.80, 0.80)
LEGEND = ((PURPLE, "CD19+ blast (darker: more CD19)"), (ORANGE, "CD19- blast"),
          (GREEN, "T cell"), (RED, "T cell in synapse"), (GREY, "normal marrow cell"),
          ((0.6, 0.78, 0.9), "drug held by a cell (haze)"))


def snapshot_image(snap: dict[str, np.ndarray]) -> np.ndarray:
    """RGB image of one snapshot: molecules as a blue haze, cells on top."""
    code, molecules = snap["code"], snap["molecules"].astype(float)
    img = np.ones((*code.shape, 3))
    haze = np.clip(np.log1p(molecules) / np.log1p(20.0), 0.0, 1.0)[..., None]
    img = img * (1 - 0.45 * haze) + np.array(HAZE) * 0.45 * haze
    cd19 = snap["cd19"]
    shade = np.clip(cd19 / max(float(np.percentile(cd19[cd19 > 0], 95))
                               if (cd19 > 0).any() else 1.0, 1.0), 0.35, 1.0)[..., None]
    img = np.where((code == BLAST_CD19_POSITIVE)[..., None],
                   1 - (1 - np.array(PURPLE)) * shade, img)
    img[code == BLAST_CD19_NEGATIVE] = ORANGE
    img[code == T_CELL] = GREEN
    img[code == T_CELL_IN_SYNAPSE] = RED
    img[code == NORMAL_CELL] = GREY
    return img


def _legend(fig: Figure, ncol: int) -> None:
    from matplotlib.patches import Patch

    fig.legend([Patch(color=c) for c, _ in LEGEND], [name for _, name in LEGEND],
               loc="outside lower center", ncol=ncol, fontsize=7, frameon=False)


def scale_bar_um(width_um: float) -> float:
    """A round length for a scale bar, about a fifth of the patch's width."""
    return max(v for v in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)
               if v <= max(width_um / 5, 10))


def scale_bar_label(length_um: float) -> str:
    return f"{length_um / 1000:g} mm" if length_um >= 1000 else f"{length_um:g} um"


def _scale_bar(ax, scenario: Scenario) -> None:
    """A bar of a round length (about a fifth of the patch) in its lower-left corner."""
    length_um = scale_bar_um(scenario.grid.width * scenario.grid.voxel_um)
    voxels = length_um / scenario.grid.voxel_um
    x0, y0 = 0.04 * scenario.grid.width, 0.95 * scenario.grid.height
    ax.plot([x0, x0 + voxels], [y0, y0], color="black", lw=3, solid_capstyle="butt")
    ax.text(x0 + voxels / 2, y0 - 0.02 * scenario.grid.height, scale_bar_label(length_um),
            ha="center",
            va="bottom", fontsize=7, color="black",
            bbox={"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 1})


def _grid_axes(ax, snap, scenario: Scenario):
    image = ax.imshow(snapshot_image(snap), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    _scale_bar(ax, scenario)
    return image


def snapshots(taken: list[tuple[float, dict[str, np.ndarray]]], scenario: Scenario,
              path: Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """The grid at the captured times, side by side, with a legend and a scale bar."""
    n = max(len(taken), 1)
    fig = Figure(figsize=(3.2 * n, 3.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, (t_h, snap) in zip(axes, taken, strict=False):
        _grid_axes(ax, snap, scenario)
        ax.set_title(f"day {t_h / 24.0:g}", fontsize=10)
    width_um = scenario.grid.width * scenario.grid.voxel_um
    fig.suptitle(f"{scenario.name}: a {width_um / 1000:g} mm patch of marrow, one cell per "
                 f"{scenario.grid.voxel_um:g} um voxel", fontsize=10)
    _legend(fig, ncol=6)
    return save(fig, path, formats)


def animate(taken: list[tuple[float, dict[str, np.ndarray]]], scenario: Scenario,
            path: Path) -> Path:
    """A GIF of the grid over the run, with a legend and a scale bar (Pillow, which
    matplotlib depends on)."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig = Figure(figsize=(4.8, 5.6), layout="constrained")
    ax = fig.subplots()
    image = _grid_axes(ax, taken[0][1], scenario)
    title = ax.set_title(scenario.name)
    _legend(fig, ncol=2)
    make_drawable(fig)  # as `save` does for still figures
    name = title.get_text()

    def frame(i: int):
        t_h, snap = taken[i]
        image.set_data(snapshot_image(snap))
        title.set_text(f"{name}, day {t_h / 24.0:.1f}")
        return image, title

    anim = FuncAnimation(fig, frame, frames=len(taken), blit=False)
    final = path.with_suffix(".gif")
    tmp = final.with_name(f".{final.name}.tmp.gif")
    try:
        anim.save(tmp, writer=PillowWriter(fps=8))
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final
