"""Benchmarks of the kernel and the whole run, printed against their targets.

    python benchmarks/run.py           # full run (several minutes on 2 cores)
    python benchmarks/run.py --quick   # under 2 minutes

Writes benchmarks/results/<name>.json and .md (and a scaling plot). Nothing here asserts a
time: the tables say which target is met and by how much.

An agent-update is one agent (blast, T cell or molecule) processed in one step.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(ROOT))

from bispecific import __version__  # noqa: E402
from bispecific.model import BispecificModel  # noqa: E402
from bispecific.state import BLAST_APOPTOSES, BLAST_BIRTHS, KILLS, T_BIRTHS, T_DEATHS  # noqa: E402

STEADY_28_UG_PER_DAY_PG_PER_ML = 525.0  # Css at 28 ug/day (science.md V2)


def live_agents(m: BispecificModel) -> int:
    """Blasts + T cells + molecules alive now, from the O(1) counters."""
    s, c = m.state, m.state.counters
    blasts = s.initial_blasts + c[BLAST_BIRTHS] - c[KILLS] - c[BLAST_APOPTOSES]
    tcells = s.initial_tcells + c[T_BIRTHS] - c[T_DEATHS]
    return int(blasts + tcells + s.n_molecules)


def realistic_model(size: int, parallel: bool, seed: int = 1) -> BispecificModel:
    """A patch under 28 ug/day with bound drug built up: 2 h at twice the steady-state
    concentration, then 30 min at it. This gives ~2 agents per voxel, ~5 bound molecules per
    blast, as a full run shows at 28 ug/day, without simulating a day first."""
    loading = 2.0 * STEADY_28_UG_PER_DAY_PG_PER_ML

    def plasma(t_h: float) -> float:
        return loading if t_h < 2.0 else STEADY_28_UG_PER_DAY_PG_PER_ML

    m = BispecificModel(width=size, height=size, plasma_pg_per_ml=plasma, parallel=parallel,
                        record_every_minutes=10**6, seed=seed)
    for _ in range(150):
        m.step()
    return m


def kernel_throughput(size: int, parallel: bool, steps: int) -> dict:
    m = realistic_model(size, parallel)
    updates = 0
    start = time.perf_counter()
    for _ in range(steps):
        updates += live_agents(m)
        m.step()
    wall = time.perf_counter() - start
    return {
        "grid": size, "parallel": parallel, "steps": steps, "agents": updates // steps,
        "molecules": int(m.state.n_molecules), "wall_s": wall,
        "updates_per_s": updates / wall, "ns_per_update": wall / updates * 1e9,
        "state_bytes_per_agent": state_bytes(m) / max(live_agents(m), 1),
    }


def state_bytes(m: BispecificModel) -> int:
    """Bytes of per-step state in use (slots in use, not spare capacity), grid included."""
    s = m.state
    per_blast = sum(a.itemsize for a in (s.b_voxel, s.b_alive, s.b_cd19, s.b_bound,
                                         s.b_engaged, s.b_pbind))
    per_t = sum(a.itemsize for a in (s.t_voxel, s.t_alive, s.t_partner, s.t_timer_min,
                                     s.t_will_kill, s.t_activation, s.t_exhaustion,
                                     s.t_kills, s.t_bound, s.t_pbind))
    per_m = s.m_voxel.itemsize + s.m_state.itemsize + s.m_cell.itemsize
    grid = s.occ_kind.nbytes + s.occ_idx.nbytes
    return s.n_blasts * per_blast + s.n_tcells * per_t + s.n_molecules * per_m + grid


def end_to_end(scenario: Path, extra: list[str]) -> dict:
    """Wall time of `bispecific run` in a fresh process (start-up and imports included)."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "bispecific", "run", str(scenario), "--out",
                            out, "--quiet", *extra], capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        summary = json.loads((Path(out) / "summary.json").read_text())
    return {"scenario": scenario.name, "args": extra, "wall_s": wall,
            "model_wall_s": summary["wall_time_s"]}


def start_up_times() -> dict:
    """First-call compile time (empty Numba cache) and cached start-up, in fresh processes."""
    code = ("import time; t=time.perf_counter(); from bispecific.model import BispecificModel;"
            "m=BispecificModel(width=16,height=16,plasma_pg_per_ml=525.0,seed=1); m.step();"
            "print(time.perf_counter()-t)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        times = []
        for _ in range(2):
            r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               env=env, cwd=ROOT, check=True)
            times.append(float(r.stdout.strip().splitlines()[-1]))
    return {"compile_first_call_s": times[0], "cached_start_up_s": times[1]}


def fit_exponent(agents: list[float], seconds_per_step: list[float]) -> float:
    """Slope of log(time per step) against log(agents): 1.0 is linear scaling."""
    return float(np.polyfit(np.log(agents), np.log(seconds_per_step), 1)[0])


def machine() -> dict:
    import numba

    return {"python": platform.python_version(), "numba": numba.__version__,
            "numpy": np.__version__, "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "bispecific": __version__,
            "numba_threads": numba.get_num_threads()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    ap.add_argument("--name", default=None, help="results file name (default quick/full)")
    args = ap.parse_args(argv)
    sizes = [64, 256] if args.quick else [64, 128, 256, 512, 1024, 2048]
    results: dict = {"machine": machine(), "quick": args.quick}

    rows = []
    for size in sizes:
        steps = max(5, min(200, int(2e7 / (size * size * 4))))
        serial = kernel_throughput(size, False, steps)
        parallel = kernel_throughput(size, True, steps)
        parallel["speedup_vs_serial"] = serial["wall_s"] / parallel["wall_s"]
        rows += [serial, parallel]
        print(f"grid {size}^2: {serial['agents']:,} agents, serial "
              f"{serial['updates_per_s'] / 1e6:.1f} M/s, parallel "
              f"{parallel['updates_per_s'] / 1e6:.1f} M/s "
              f"(x{parallel['speedup_vs_serial']:.2f})", flush=True)
    results["kernel"] = rows
    serial_rows = [r for r in rows if not r["parallel"]]
    results["scaling_exponent"] = fit_exponent(
        [r["agents"] for r in serial_rows], [r["wall_s"] / r["steps"] for r in serial_rows])
    results["start_up"] = start_up_times()
    results["end_to_end"] = [end_to_end(ROOT / "scenarios" / "continuous_4wk.toml", [])]
    write(results, args.name or ("quick" if args.quick else "full"))
    return 0


def write(results: dict, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"# Benchmark results ({name})", "", "Machine: " + ", ".join(
        f"{k} {v}" for k, v in results["machine"].items()), "",
        "| grid | agents | mode | M agent-updates/s | ns/update | bytes/agent | speed-up |",
        "|---|---|---|---|---|---|---|"]
    for r in results["kernel"]:
        lines.append(
            f"| {r['grid']}^2 | {r['agents']:,} | {'parallel' if r['parallel'] else 'serial'} "
            f"| {r['updates_per_s'] / 1e6:.1f} | {r['ns_per_update']:.1f} "
            f"| {r['state_bytes_per_agent']:.1f} | {r.get('speedup_vs_serial', math.nan):.2f} |")
    su = results["start_up"]
    lines += ["", f"Scaling exponent (time per step vs agents, serial): "
              f"{results['scaling_exponent']:.2f}",
              f"Compile (first call, empty cache): {su['compile_first_call_s']:.1f} s; "
              f"cached start-up: {su['cached_start_up_s']:.1f} s"]
    for e in results["end_to_end"]:
        lines.append(f"End to end `{e['scenario']}` {' '.join(e['args'])}: {e['wall_s']:.1f} s "
                     f"(model {e['model_wall_s']:.1f} s)")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
