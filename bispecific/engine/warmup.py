"""Compile every kernel a step uses, before anyone waits for a step (the page serves only
after this). Numba compiles a kernel on its first call, ~3 s in all the first time and
~0.6 s when loading from its on-disk cache; a tiny patch under a high dose reaches every
kernel in a few steps."""

from __future__ import annotations

from .kernels.molecules import compact
from .model import BispecificModel


def compile_kernels(parallel: bool = False) -> None:
    """Run a 12x12 patch for a few steps under drug (serial, or parallel as asked)."""
    model = BispecificModel(width=12, height=12, plasma_pg_per_ml=5000.0, seed=1,
                            parallel=parallel, record_every_minutes=1.0)
    for _ in range(3):
        model.step()
    s = model.state  # compaction runs only when holes pile up: compile it now
    compact(0, s.m_state, s.m_blast, s.m_tcell, s.m_release)
