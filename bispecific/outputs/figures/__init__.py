"""Figures (matplotlib, no pyplot state; PNG, SVG on request), one kind per module."""

from .cohort import cohort_figure
from .comparison import comparison
from .grid import animate, snapshot_image, snapshots
from .overview import overview
from .pareto import pareto_figure
from .population import population_figure
from .sensitivity import sensitivity_figure

__all__ = ["animate", "cohort_figure", "comparison", "overview", "pareto_figure",
           "population_figure", "sensitivity_figure",
           "snapshot_image", "snapshots"]
