"""The array core: the patch's state as contiguous arrays (`state.py`), the model
parameters with their sources (`parameters.py`), the counter-based random numbers
(`rng.py`), the Numba kernels, one behaviour per module (`kernels/`), the step that runs
them as named, timed phases in the order of docs/model.md s.7 (`step.py`), and the choice
of threads per step (`threads.py`).

Knows nothing of Mesa: the facade (`bispecific.engine.facade`) wraps it as a Mesa model,
and the reference twin (`bispecific.engine.reference`) checks it.
"""
