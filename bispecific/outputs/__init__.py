"""Outputs: a run's files and figures.

Owns writing a run folder atomically (time series, summary, the resolved scenario, snapshot
arrays), redrawing it later, comparisons of several runs, and every figure (overview, grid
snapshots, animation, comparison, cohort).

May import: everything below it (`units` to `simulation`).
"""
