"""Cohorts: many virtual patients under several treatment arms.

Owns cohort files (covariate distributions, arms), the runner (local worker processes or a
Dask cluster, resumable, identical results whatever runs it) and per-arm statistics.

May import: everything below it (`units` to `outputs`).
"""
