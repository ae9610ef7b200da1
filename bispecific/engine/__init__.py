"""The engine: the marrow patch and the rules that advance it.

Owns the model's state (struct-of-arrays `PatchState`), the counter-based random numbers,
the Numba kernels (one behaviour per module in `kernels/`), the step that runs them in the
order of `docs/model.md`, the Mesa model (`BispecificModel`) with what makes it behave as
Mesa expects (agent views, removal through the arrays, a read-only grid, a DataCollector
read by step), the model parameters with their sources, the choice of threads per step
(`threads.py`), and the plain reference implementation that checks the kernels. It knows
nothing of dosing, scenarios or outputs: plasma drug arrives as a function of time, and
readouts attach as step observers.

May import: `bispecific.units`.
"""
