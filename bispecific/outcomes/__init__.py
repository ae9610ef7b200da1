"""Outcomes: what happens to a patient after the simulated courses (docs/model.md s.13).

Owns the extrapolated regrowth of residual disease to relapse (`regrowth`), death as a
hazard tied to the disease state with transplant in remission as a censoring rule
(`hazards`), and one patient's event times drawn from a run's summary (`events`). Pure
functions of a summary and a few sourced constants: no patch is simulated here.

May import: `bispecific.units`, `bispecific.engine`, `bispecific.readouts`.
"""
