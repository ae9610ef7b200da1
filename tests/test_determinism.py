"""The same inputs and seed give bit-identical results, on any number of threads."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np

from bispecific.engine.core.threads import ThreadPolicy

from .helpers import ROOT, small_model


def _snapshot(m):
    s = m.state
    nb, nt = s.n_blasts, s.n_tcells
    return (
        s.b_bound[:nb].copy(), s.b_trimers[:nb].copy(), s.t_bound[:nt].copy(),
        s.t_trimers[:nt].copy(), s.b_alive[:nb].copy(), s.t_voxel[:nt].copy(),
        s.c_voxel[: s.n_normal].copy(), s.counters.copy(), np.array([s.free_molecules]),
        s.stimulation.copy(), m.datacollector.get_model_vars_dataframe(),
    )


def _equal(a, b):
    pairs = zip(a, b, strict=True)
    return all(x.equals(y) if hasattr(x, "equals") else np.array_equal(x, y) for x, y in pairs)


def _with_threads(m, policy):
    m.config = dataclasses.replace(m.config, threads=policy)
    return m


class _Alternating(ThreadPolicy):
    """One thread and two on alternate steps: a policy that switches every step."""

    def __init__(self):
        super().__init__(False, 0)
        self.n = 0

    def threads(self):
        self.n += 1
        return 1 + self.n % 2


def test_same_seed_same_result():
    runs = []
    for _ in range(2):
        m = small_model(size=20, plasma_pg_per_ml=2000.0, seed=123)
        m.run_for(0.3)
        runs.append(_snapshot(m))
    assert _equal(*runs)


def test_parallel_kernel_matches_serial_bit_for_bit():
    """One thread, two threads, and a switch of thread count at every step (as the adaptive
    policy does) give the same run. The patch is large enough for several chunks of blasts,
    and every phase that can run on threads does, however small."""
    runs = []
    for policy in (ThreadPolicy.forced(1), ThreadPolicy.forced(2), _Alternating()):
        m = _with_threads(small_model(size=96, plasma_pg_per_ml=20000.0, seed=9,
                                      marrow_blast_fraction=0.8,
                                      record_every_minutes=10.0), policy)
        m.config = dataclasses.replace(m.config, min_parallel_cells=0,
                                       min_parallel_tcells=0)
        m.run_for(0.05)
        assert m.state.n_blasts > 4096  # two chunks of blasts
        runs.append(_snapshot(m))
    assert _equal(runs[0], runs[1])
    assert _equal(runs[0], runs[2])


_RUN = """
import dataclasses, hashlib, json, numba
from tests.helpers import small_model
m = small_model(size=96, plasma_pg_per_ml=20000.0, seed=5, parallel=True,
                marrow_blast_fraction=0.8, record_every_minutes=10.0)
# every phase on threads
m.config = dataclasses.replace(m.config, min_parallel_cells=0, min_parallel_tcells=0)
m.run_for(0.05)
s = m.state
h = hashlib.sha256()
for a in (s.b_bound[:s.n_blasts], s.b_trimers[:s.n_blasts], s.t_bound[:s.n_tcells],
          s.b_alive[:s.n_blasts], s.t_voxel[:s.n_tcells], s.c_voxel[:s.n_normal], s.counters,
          s.stimulation):
    h.update(a.tobytes())
h.update(m.datacollector.get_model_vars_dataframe().to_csv().encode())
print(json.dumps({"threads": numba.get_num_threads(), "policy": m.config.threads.describe(),
                  "hash": h.hexdigest()}))
"""


def test_any_numba_thread_count_gives_the_same_run():
    """NUMBA_NUM_THREADS = 1, 2 and 3 (more threads than this machine may have cores) force
    the thread count in fresh processes; the runs are identical."""
    results = []
    for threads in (1, 2, 3):
        env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
        out = subprocess.run([sys.executable, "-c", _RUN], capture_output=True, text=True,
                             env=env, cwd=ROOT, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for threads, r in zip((1, 2, 3), results, strict=True):
        assert f"{threads} thread(s) (NUMBA_NUM_THREADS)" == r["policy"]
    assert len({r["hash"] for r in results}) == 1, results


def test_different_seeds_differ():
    a = small_model(size=20, plasma_pg_per_ml=2000.0, seed=1)
    b = small_model(size=20, plasma_pg_per_ml=2000.0, seed=2)
    a.run_for(0.1)
    b.run_for(0.1)
    assert not _equal(_snapshot(a), _snapshot(b))


def test_seed_is_recorded_even_when_drawn():
    m = small_model(size=10, seed=None)
    assert isinstance(m.seed, int)
    again = small_model(size=10, seed=m.seed)
    m.run_for(0.05)
    again.run_for(0.05)
    assert _equal(_snapshot(m), _snapshot(again))

