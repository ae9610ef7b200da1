"""The engine: the marrow patch and the rules that advance it, in three parts.

- `core/`: the array core. The model's state (struct-of-arrays `PatchState`), the model
  parameters with their sources, the counter-based random numbers, the Numba kernels (one
  behaviour per module in `core/kernels/`), the step that runs them as named phases in the
  order of `docs/model.md`, and the choice of threads per step. No Mesa here.
- `facade/`: the Mesa model (`BispecificModel`) over the core, with what makes it behave as
  Mesa expects (agent views, removal through the arrays, a read-only grid, a DataCollector
  read by step) and the kernels' warm-up.
- `reference.py`: the plain reference implementation that checks the kernels.

The core imports neither of the others; the facade imports the core; the reference twin
reads the core's layout and parameters only (`tests/test_architecture.py`). The engine
knows nothing of dosing, scenarios or outputs: plasma drug arrives as a function of time,
and readouts attach as step observers.

May import: `bispecific.units`.
"""
