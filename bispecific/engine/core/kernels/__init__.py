"""Numba kernels: one behaviour per module, all working on the arrays of `PatchState`."""
