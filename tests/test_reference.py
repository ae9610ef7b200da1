"""The Numba kernels and the plain reference implementation agree in distribution.

Both start from the same initial cells; each uses its own random stream. Over many seeds
the means of the outcomes must agree within sampling error, and a deliberately different
rule in the reference must be detected (so the comparison has power).
"""

import numpy as np

from bispecific import units
from bispecific.engine.reference import ReferencePatch

from .helpers import params, small_model

SEEDS = range(24)
STEPS = 300
PLASMA = 3000.0
METRICS = ("kills", "synapses", "entered", "exit", "internalised", "bound", "blasts",
           "stimulation")


def _kernel_outcome(seed):
    m = small_model(size=16, plasma_pg_per_ml=PLASMA, seed=seed)
    for _ in range(STEPS):
        m.step()
    s = m.state
    return {
        "kills": m.counter("kills_total"),
        "synapses": m.counter("synapses_total"),
        "entered": m.counter("molecules_entered"),
        "exit": m.counter("molecules_cleared_exit"),
        "internalised": m.counter("molecules_cleared_internalised"),
        "bound": s.n_molecules - s.molecules_in_state(0),
        "blasts": s.blasts_alive(),
        "stimulation": float(s.stimulation[1]),
    }


def _reference_outcome(seed, parameters=None):
    m = small_model(size=16, plasma_pg_per_ml=PLASMA, seed=seed)
    p = parameters or m.params
    ref = ReferencePatch.from_state(m.state, p, m.dt_minutes, m.voxel_um, seed=10_000 + seed)
    tissue = p.tissue_plasma_partition * units.pg_per_ml_to_molecules_per_um3(PLASMA)
    for _ in range(STEPS):
        ref.step(tissue)
    return {
        "kills": ref.counts["kills"],
        "synapses": ref.counts["synapses"],
        "entered": ref.counts["entered"],
        "exit": ref.counts["exit"],
        "internalised": ref.counts["internalised"],
        "bound": ref.bound_molecules(),
        "blasts": ref.blasts_alive(),
        "stimulation": ref.stimulation,
    }


def _z(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return abs(a.mean() - b.mean()) / max(se, 1e-9)


def test_kernel_and_reference_agree_in_distribution():
    kern = [_kernel_outcome(s) for s in SEEDS]
    ref = [_reference_outcome(s) for s in SEEDS]
    for metric in METRICS:
        z = _z([k[metric] for k in kern], [r[metric] for r in ref])
        assert z < 4.0, f"{metric}: kernel and reference differ (z = {z:.1f})"
    assert np.mean([k["kills"] for k in kern]) > 5  # the comparison covers killing


def test_comparison_detects_a_changed_rule():
    kern = [_kernel_outcome(s)["kills"] for s in SEEDS[:12]]
    slower = params(kill_probability=0.2)
    ref = [_reference_outcome(s, slower)["kills"] for s in SEEDS[:12]]
    assert _z(kern, ref) > 4.0
