"""Cohorts: many virtual patients under several treatment arms.

Owns cohort files (covariate distributions, arms; a random stream per patient), the keys that
tie each result to what made it (`identity`), the cohort folder and which cohort may write
into it (`folder`), where runs execute (`engines`: local worker processes or a Dask
cluster), the runner (resumable, identical results whatever runs it) and per-arm statistics.

May import: everything below it (`units` to `outputs`).
"""
