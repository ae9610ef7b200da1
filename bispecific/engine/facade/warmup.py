"""Compile every kernel a step uses, before anyone waits for a step (the page serves only
after this). Numba compiles a kernel on its first call, ~3 s in all the first time and
~0.6 s when loading from its on-disk cache; a tiny patch under a high dose reaches every
kernel in a few steps."""

from __future__ import annotations

import dataclasses

from ..core.threads import ThreadPolicy, numba_pool_size
from .model import BispecificModel


def compile_kernels(parallel: bool | None = False) -> None:
    """Run a 12x12 patch for a few steps under drug: the serial kernels, and unless
    `parallel` is False the threaded ones too (a large patch may switch to them at any
    step, `bispecific.engine.core.threads`)."""
    model = BispecificModel(width=12, height=12, plasma_pg_per_ml=5000.0, seed=1,
                            parallel=False, record_every_minutes=1.0)
    for _ in range(3):
        model.step()
    if parallel is False:
        return
    # The threaded variants run only above a size (StepConfig.min_parallel_*); none for the
    # few steps of this throwaway patch, so that each is called once.
    model.config = dataclasses.replace(
        model.config, threads=ThreadPolicy.forced(min(2, numba_pool_size())),
        min_parallel_cells=0, min_parallel_tcells=0)
    for _ in range(2):
        model.step()
