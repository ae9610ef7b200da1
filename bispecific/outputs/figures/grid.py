"""The grid itself: snapshots side by side, and an animation over the run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ...readouts.snapshots import (
    BLAST_CD19_NEGATIVE,
    BLAST_CD19_POSITIVE,
    T_CELL,
    T_CELL_IN_SYNAPSE,
)
from ...scenario import Scenario
from .style import save


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
    return save(fig, path, formats)


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
