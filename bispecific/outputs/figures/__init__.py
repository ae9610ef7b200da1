"""Figures (matplotlib, no pyplot state; PNG, SVG on request), one kind per module."""

from .cohort import cohort_figure
from .comparison import comparison
from .grid import animate, snapshot_image, snapshots
from .overview import overview

__all__ = ["animate", "cohort_figure", "comparison", "overview", "snapshot_image", "snapshots"]
