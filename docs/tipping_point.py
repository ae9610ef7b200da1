"""Where a patient tips from response to progression (docs/model.md s.12).

    python docs/tipping_point.py     # ~5 min on 2 cores; writes docs/figures/tipping_point.png

Killing per blast scales with T cells per blast; net growth does not. So the outcome of a
cycle turns on a ratio, and near the balance any parameter that moves killing by ~30% moves
the outcome a lot. Two maps: the day-28 marrow blast percentage over baseline burden and the
T cells' share of the marrow (calibrated defaults), and over the exhaustion per synapse for
the default patient (the parameter calibrated on MT103-211).
"""

from __future__ import annotations

import dataclasses
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BURDENS = (0.1, 0.3, 0.5, 0.7, 0.9)
T_FRACTIONS = (0.03, 0.06, 0.09)
HALVES = (0.0, 0.5, 1.0, 1.5, 2.0)  # multiples of the default exhaustion per synapse
SEEDS = (1, 2, 3)


def day28(args: tuple[float, float, float, int]) -> float:
    """Marrow blast % after cycle 1 of the approved regimen on a 64^2 patch: the MRD level
    (docs/model.md s.11), which the branching tail resolves below the patch's own limit."""
    burden, t_fraction, exhaustion, seed = args
    from bispecific.scenario import Grid, Patient, load_scenario
    from bispecific.simulation.run import run_scenario

    s = load_scenario(ROOT / "scenarios" / "continuous_4wk.toml")
    s = dataclasses.replace(
        s, seed=seed, grid=Grid(64, 64, 10.0),
        patient=Patient(marrow_blast_fraction=burden, t_cell_fraction=t_fraction),
        parameters=s.parameters.with_overrides({"exhaustion_per_synapse": exhaustion}))
    return 100.0 * run_scenario(s).summary["mrd_level_estimate"]


def main() -> None:
    from bispecific.engine.core.parameters import ModelParameters

    default = ModelParameters().exhaustion_per_synapse
    grid = [(b, t, default, s) for b in BURDENS for t in T_FRACTIONS if b + t <= 1
            for s in SEEDS]
    scan = [(0.5, 0.06, h * default, s) for h in HALVES for s in SEEDS]
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        grid_out = list(pool.map(day28, grid))
        scan_out = list(pool.map(day28, scan))
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    for t, marker in zip(T_FRACTIONS, "os^", strict=True):
        xs, ys = [], []
        for b in BURDENS:
            values = [v for (bb, tt, _, _), v in zip(grid, grid_out, strict=True)
                      if bb == b and tt == t]
            if values:
                xs.append(100 * b)
                ys.append(np.mean(values))
        left.semilogy(xs, np.clip(ys, 1e-6, None), marker=marker,
                      label=f"T cells {100 * t:.0f}% of marrow cells")
    left.axhline(5.0, color="grey", ls="--", lw=1)
    left.text(12, 5.3, "CR: < 5% marrow blasts", fontsize=8, color="grey")
    left.axhline(0.01, color="grey", ls=":", lw=1)
    left.text(12, 0.0107, "MRD-negative: < 10^-4", fontsize=8, color="grey")
    left.set_xlabel("baseline marrow blasts (%)")
    left.set_ylabel("day-28 marrow blasts (%; mean of 3 seeds)")
    left.set_title("Burden and T cells decide a cycle's outcome", loc="left", fontsize=10)
    left.legend(fontsize=8)
    exhaustion = [h * default for h in HALVES]
    by_e = [np.array([v for (_, _, e, _), v in zip(scan, scan_out, strict=True) if e == ex])
            for ex in exhaustion]
    right.semilogy(exhaustion, [np.exp(np.mean(np.log(np.clip(v, 1e-6, None))))
                                for v in by_e], marker="o")
    right.axhline(5.0, color="grey", ls="--", lw=1)
    right.axhline(0.01, color="grey", ls=":", lw=1)
    right.axvline(default, color="C3", lw=1)
    right.text(default, right.get_ylim()[1] * 0.05, " calibrated default", color="C3",
               fontsize=8)
    right.set_xlabel("exhaustion per synapse")
    right.set_ylabel("day-28 marrow blasts (%; geometric mean of 3 seeds)")
    right.set_title("Default patient (50% blasts, T cells 6%)", loc="left", fontsize=10)
    out = ROOT / "docs" / "figures" / "tipping_point.png"
    fig.savefig(out, dpi=130)
    for (b, t), v in zip(sorted({(g[0], g[1]) for g in grid}), np.reshape(
            grid_out, (-1, len(SEEDS))).mean(axis=1), strict=True):
        print(f"burden {b:.1f}, T {t:.2f}: {v:.2g}%")
    for e, v in zip(exhaustion, by_e, strict=True):
        print(f"exhaustion {e:.4f}: {np.exp(np.mean(np.log(np.clip(v, 1e-6, None)))):.2g}% "
              f"(seeds {', '.join(f'{x:.2g}' for x in v)})")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
