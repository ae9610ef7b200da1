"""Analyses: asking the model questions over a virtual cohort.

Owns the evaluation engine (`evaluation`: candidate inputs, parameter values or schedules,
evaluated over one virtual cohort with common random numbers, resumable, on local workers or
Dask, standing on the cohort runner's task store and engines), the cohort readouts an
analysis compares (`readouts`), the analysis folder (`folder`), and the two analyses built
on the engine: sensitivity analysis with SALib (`sensitivity_spec`, `sensitivity`) and the
schedule optimiser with optuna (`schedules`, `optimise_spec`, `optimise`). SALib and optuna
are the optional extra `analysis`; they are imported only where they are used.

May import: everything below it (`units` to `cohorts`).
"""
