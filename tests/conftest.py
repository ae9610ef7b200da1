"""Test-session set-up."""

import os
import tempfile

# Numba's on-disk cache is keyed by each kernel's own source file, so an edit to a helper it
# inlines (rng.py, grid.py, kernels/constants.py) can leave a stale compiled kernel. Tests
# compile into a fresh cache folder per session (a few seconds); subprocesses inherit it.
os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="bispecific-numba-")
