"""What the page shows, as plain data: the grid as a PNG with its scale bar and legend, and
the live plots as a PNG. No Solara here, so these are tested without the viz extra.

The grid is drawn straight from the arrays (`readouts.snapshots.capture`, coloured as the
run's snapshot figures) at one pixel per voxel; the browser scales it up without smoothing
and lays the scale bar over it, so a frame costs about a millisecond on a 100x100 patch.

The plots are data-driven: `PANELS` says which DataCollector column goes in which panel,
with its label, unit and scale. A panel whose columns the model does not record is left
out, so when the CRS readout gives probabilities per grade (`crs_p_grade1`, ...), their
panel appears by itself.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter
from PIL import Image

from ..outputs.figures import grid as grid_figure
from ..outputs.figures import style
from ..readouts.snapshots import capture
from ..scenario import Scenario


# -- the grid --------------------------------------------------------------------------------
def grid_rgb(model) -> np.ndarray:
    """The patch now as an RGB uint8 array (height, width, 3), one pixel per voxel."""
    image = grid_figure.snapshot_image(capture(model))
    return np.round(image * 255.0).astype(np.uint8)


def png_bytes(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _hex(colour: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(255 * c):02x}" for c in colour)


def grid_html(model, scenario: Scenario) -> str:
    """The grid image, its scale bar laid over it and its legend, as one HTML block."""
    g = scenario.grid
    width_um = g.width * g.voxel_um
    bar_um = grid_figure.scale_bar_um(width_um)
    png = base64.b64encode(png_bytes(grid_rgb(model))).decode("ascii")
    legend = "".join(
        f'<span class="bsp-chip"><i style="background:{_hex(c)}"></i>{html.escape(name)}</span>'
        for c, name in grid_figure.LEGEND)
    return (
        '<div class="bsp-grid">'
        f'<img class="bsp-grid-image" alt="the marrow patch" width="{g.width}" '
        f'height="{g.height}" src="data:image/png;base64,{png}">'
        f'<div class="bsp-scalebar" style="width:{100.0 * bar_um / width_um:.3f}%">'
        f'<div class="bsp-bar"></div><span>{grid_figure.scale_bar_label(bar_um)}</span></div>'
        '</div>'
        f'<div class="bsp-caption">A {width_um / 1000:g} mm patch of marrow: {g.width} x '
        f'{g.height} voxels of {g.voxel_um:g} um, one cell per voxel.</div>'
        f'<div class="bsp-legend">{legend}</div>')


GRID_CSS = """
.bsp-grid { position: relative; width: 100%; max-width: 640px; line-height: 0; }
.bsp-grid-image { width: 100%; height: auto; image-rendering: pixelated;
                  border: 1px solid #888; }
.bsp-scalebar { position: absolute; left: 4%; bottom: 4%; line-height: 1.2;
                text-align: center; font-size: 12px; background: rgba(255,255,255,0.75);
                padding: 2px 0 0 0; }
.bsp-bar { height: 5px; background: black; }
.bsp-caption { font-size: 12px; color: #555; margin-top: 4px; }
.bsp-legend { font-size: 12px; margin-top: 4px; max-width: 640px; }
.bsp-chip { display: inline-block; margin-right: 12px; white-space: nowrap; }
.bsp-chip i { display: inline-block; width: 11px; height: 11px; margin-right: 4px;
              vertical-align: -1px; border: 1px solid #999; }
"""


# -- the plots -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    column: str  # a DataCollector column
    label: str
    colour: str


@dataclass(frozen=True)
class Panel:
    label: str
    unit: str
    series: tuple[Series, ...]
    log: bool = False
    reference: Callable[[Axes, float], None] | None = None  # drawn under the lines
    floor: float = 0.5  # the bottom of a log axis


PANELS = (
    Panel("blasts", "cells, log scale",
          (Series("blasts", "all blasts", "black"),
           Series("blasts_cd19_negative", "CD19-", style.CD19_NEG)), log=True),
    Panel("plasma drug", "pg/mL", (Series("drug_plasma_pg_per_ml", "blinatumomab", style.DRUG),)),
    Panel("plasma IL-6", "pg/mL, log scale",
          (Series("il6_pg_per_ml", "IL-6", style.IL6),
           Series("crs_exposure_pg_per_ml", "CRS exposure (~1-day average)", "#fb9a99")),
          log=True, floor=5.0),
    Panel("CRS", "chance at each grade", tuple(
        Series(f"crs_p_grade{k}", f"grade >= {k}", c)
        for k, c in zip(range(1, 5), style.CRS_COLOURS, strict=True))),
    Panel("engaged T cells", "T cells in a synapse",
          (Series("t_cells_engaged", "in synapse", style.ENGAGED),)),
)


def panels_for(columns) -> list[Panel]:
    """The panels with at least one of their columns recorded, each with those columns."""
    present = set(columns)
    out = []
    for panel in PANELS:
        series = tuple(s for s in panel.series if s.column in present)
        if series:
            out.append(Panel(panel.label, panel.unit, series, panel.log, panel.reference,
                             panel.floor))
    return out


class LivePlots:
    """The live plots of one model: one panel per entry of `PANELS` with data, then the
    dosing schedule. The figure is built and drawn once, without its lines; a frame puts
    that picture back and draws only the lines on it (blitting), unless a panel has to
    rescale. A full draw costs ~150 ms here, a frame ~15 ms."""

    def __init__(self, columns, scenario: Scenario) -> None:
        self.panels = panels_for(columns)
        self.scenario = scenario
        height = 1.45 * len(self.panels) + 1.4
        fig = Figure(figsize=(6.4, height), dpi=80)
        self.canvas = FigureCanvasAgg(fig)
        self._background = None
        axes = fig.subplots(len(self.panels) + 1, 1, sharex=True,
                            gridspec_kw={"height_ratios": [2] * len(self.panels) + [1]})
        # Fixed margins: a layout engine would triple the cost of a frame.
        fig.subplots_adjust(left=0.14, right=0.9, top=1 - 0.1 / height,
                            bottom=0.45 / height, hspace=0.12)
        plain = FuncFormatter(lambda v, _pos: f"{v:g}")  # no mathtext: cheaper to draw
        self.figure, self.axes = fig, axes
        self.lines: list[list] = []
        self.tops: list[float] = []
        for ax, panel in zip(axes, self.panels, strict=False):
            if panel.log:
                ax.set_yscale("log")
                ax.yaxis.set_major_formatter(plain)
                ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_ylabel(f"{panel.label}\n({panel.unit})", fontsize=8)
            ax.tick_params(labelsize=8)
            self.lines.append([ax.plot([], [], color=s.colour, lw=1.4, label=s.label,
                                       animated=True)[0] for s in panel.series])
            if len(panel.series) > 1:
                ax.legend(loc="center right", fontsize=7, framealpha=0.8)
            self.tops.append(0.0)
        style.draw_schedule(axes[-1], scenario)
        axes[-1].yaxis.label.set_size(8)
        axes[-1].tick_params(labelsize=8)
        axes[-1].set_xlim(0.0, scenario.days)
        axes[-1].set_xlabel("days from start of treatment", fontsize=8)

    def update(self, records: pd.DataFrame) -> None:
        days = records["time_h"].to_numpy() / 24.0
        for i, (ax, panel) in enumerate(zip(self.axes, self.panels, strict=False)):
            values = [records[s.column].to_numpy(dtype=float) for s in panel.series]
            top = max([float(np.nanmax(v)) for v in values if v.size] + [1.0])
            if panel.log:
                top = max(top * 2.0, 100.0)
            if top > self.tops[i] or top < self.tops[i] / 8.0:  # rescale now and then only
                self.tops[i] = top * (2.0 if panel.log else 1.25)
                self._background = None
                for artist in [*ax.patches, *ax.texts]:
                    artist.remove()
                if panel.reference is not None:
                    panel.reference(ax, self.tops[i])
                ax.set_ylim(panel.floor if panel.log else 0.0, self.tops[i])
            for line, v in zip(self.lines[i], values, strict=True):
                line.set_data(days, np.clip(v, panel.floor, None) if panel.log else v)

    def png(self, records: pd.DataFrame) -> bytes:
        self.update(records)
        if self._background is None:
            self.canvas.draw()  # everything but the lines
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self._background)
        for ax, lines in zip(self.axes, self.lines, strict=False):
            for line in lines:
                ax.draw_artist(line)
        rgba = np.asarray(self.canvas.buffer_rgba())
        return png_bytes(np.ascontiguousarray(rgba[..., :3]))


def plots_png(records: pd.DataFrame, scenario: Scenario) -> bytes:
    """The live plots of these records, drawn once."""
    return LivePlots(records.columns, scenario).png(records)


# -- words -----------------------------------------------------------------------------------
def effector_target(t_cell_fraction: float, marrow_blast_fraction: float) -> str:
    """E:T as a clinician writes it: '1:8.3' (T cells to blasts)."""
    if marrow_blast_fraction <= 0:
        return "no blasts"
    if t_cell_fraction <= 0:
        return "no T cells"
    ratio = t_cell_fraction / marrow_blast_fraction
    return f"1:{1 / ratio:.3g}" if ratio < 1 else f"{ratio:.3g}:1"
