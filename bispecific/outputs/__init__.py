"""Outputs: a run's files and figures.

Owns which folders may be written and how a run replaces the previous one whole (`folders`),
writing a run folder (time series, summary, the resolved scenario, snapshot arrays),
redrawing it later, comparisons of several runs, and every figure (overview, grid snapshots,
animation, comparison, cohort), with the same bytes for the same data.

May import: everything below it (`units` to `simulation`).
"""
