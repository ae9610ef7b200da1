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

from bispecific import __version__, units  # noqa: E402
from bispecific.engine.model import BispecificModel  # noqa: E402

STEADY_28_UG_PER_DAY_PG_PER_ML = 525.0  # Css at 28 ug/day (science.md V2)
WARM_UP_STEPS = 150
LOADING_STEPS = 120  # 2 h at twice the steady-state concentration, then steady state

TARGETS = {
    "mesa_ratio": 1000.0,  # kernel / idiomatic Mesa, same rules and size
    "in_cache_updates_per_s": 100e6,  # one core, working set in cache
    "parallel_speedup": 1.6,  # 2 cores vs 1, at >= 1e6 agents
    "flatness": 2.0,  # max/min cost per update from 1e4 to 1e7 agents
    "bytes_per_agent": 32.0,
    "end_to_end_s": 30.0,  # continuous_4wk.toml, start-up included
}


def warm_plasma(step: int) -> float:
    return 2.0 * STEADY_28_UG_PER_DAY_PG_PER_ML if step < LOADING_STEPS else (
        STEADY_28_UG_PER_DAY_PG_PER_ML)


def live_agents(m: BispecificModel) -> int:
    """Agents processed one by one in a step: blasts, T cells, normal cells and bound
    molecules, from the O(1) counters. Free drug is a pool, updated in O(1), not counted."""
    s = m.state
    return (s.blasts_alive_count() + s.tcells_alive_count() + s.normal_alive_count()
            + s.n_live_molecules)


def realistic_model(size: int, parallel: bool, seed: int = 1) -> BispecificModel:
    """A patch under 28 ug/day with bound drug built up: 2 h at twice the steady-state
    concentration, then 30 min at it, so that blasts carry the few bound molecules each that
    a full run shows at 28 ug/day, without simulating a day first."""
    def plasma(t_h: float) -> float:
        return warm_plasma(int(t_h * 60.0))

    m = BispecificModel(width=size, height=size, plasma_pg_per_ml=plasma, parallel=parallel,
                        record_every_minutes=10**6, seed=seed)
    for _ in range(WARM_UP_STEPS):
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
        "molecules": int(m.state.n_live_molecules), "wall_s": wall,
        "updates_per_s": updates / wall, "ns_per_update": wall / updates * 1e9,
        "state_bytes_per_agent": state_bytes(m) / max(live_agents(m), 1),
    }


def state_bytes(m: BispecificModel) -> int:
    """Bytes of per-step state in use (slots in use, holes included, not spare capacity),
    grid and event buffer included, per live agent."""
    s = m.state
    per_blast = sum(a.itemsize for a in (s.b_voxel, s.b_alive, s.b_cd19, s.b_bound,
                                         s.b_trimers, s.b_partner))
    per_t = sum(a.itemsize for a in (s.t_voxel, s.t_alive, s.t_engaged, s.t_partner,
                                     s.t_timer_min, s.t_activation, s.t_exhaustion,
                                     s.t_desens, s.t_kills, s.t_bound, s.t_trimers,
                                     s.t_bridge_blast, s.t_bridge_tcell))
    per_normal = s.c_voxel.itemsize + s.c_alive.itemsize
    per_m = (s.m_state.itemsize + s.m_blast.itemsize + s.m_tcell.itemsize
             + s.m_release.itemsize + s.events.itemsize)
    grid = s.occ_kind.nbytes + s.occ_idx.nbytes
    return (s.n_blasts * per_blast + s.n_tcells * per_t + s.n_normal * per_normal
            + s.n_molecules * per_m + grid)


def mesa_throughput(size: int, steps: int) -> dict:
    """The same rules as an idiomatic Mesa 3 model (benchmarks/mesa_idiomatic.py)."""
    from mesa_idiomatic import IdiomaticMesaModel

    m = IdiomaticMesaModel(width=size, height=size, seed=1)
    for i in range(WARM_UP_STEPS):
        m.set_plasma(warm_plasma(i))
        m.step()
    m.set_plasma(STEADY_28_UG_PER_DAY_PG_PER_ML)
    updates = 0
    start = time.perf_counter()
    for _ in range(steps):
        updates += len(m.agents)
        m.step()
    wall = time.perf_counter() - start
    return {"implementation": "idiomatic Mesa", "grid": size, "steps": steps,
            "agents": updates // steps, "updates_per_s": updates / wall}


def reference_throughput(size: int, steps: int) -> dict:
    """The plain reference implementation (bispecific/engine/reference.py)."""
    from bispecific.engine.reference import ReferencePatch

    m = BispecificModel(width=size, height=size, seed=1)
    ref = ReferencePatch.from_state(m.state, m.params, m.dt_minutes, m.voxel_um, 0.06, seed=1)

    def tissue(pg: float) -> float:
        return m.params.tissue_plasma_partition * units.pg_per_ml_to_molecules_per_um3(pg)

    for i in range(WARM_UP_STEPS):
        ref.step(tissue(warm_plasma(i)))
    updates = 0
    start = time.perf_counter()
    for _ in range(steps):
        updates += (ref.blasts_alive() + ref.tcells_alive() + ref.normal_alive()
                    + len(ref.molecules))
        ref.step(tissue(STEADY_28_UG_PER_DAY_PG_PER_ML))
    wall = time.perf_counter() - start
    return {"implementation": "reference", "grid": size, "steps": steps,
            "agents": updates // steps, "updates_per_s": updates / wall}


def implementations(sizes: list[int]) -> list[dict]:
    """Kernel, idiomatic Mesa and reference at the same sizes; ratios pair by pair."""
    rows = []
    for size in sizes:
        kernel = kernel_throughput(size, False, 200)
        mesa_row = mesa_throughput(size, 5)
        ref = reference_throughput(size, 5)
        rows.append({
            "grid": size, "agents": kernel["agents"],
            "kernel_updates_per_s": kernel["updates_per_s"],
            "mesa_updates_per_s": mesa_row["updates_per_s"],
            "reference_updates_per_s": ref["updates_per_s"],
            "kernel_over_mesa": kernel["updates_per_s"] / mesa_row["updates_per_s"],
            "kernel_over_reference": kernel["updates_per_s"] / ref["updates_per_s"],
            "mesa_agents": mesa_row["agents"], "reference_agents": ref["agents"],
        })
        print(f"grid {size}^2: kernel {kernel['updates_per_s'] / 1e6:.1f} M/s, idiomatic Mesa "
              f"{mesa_row['updates_per_s'] / 1e6:.3f} M/s (x{rows[-1]['kernel_over_mesa']:.0f})"
              f", reference {ref['updates_per_s'] / 1e6:.3f} M/s", flush=True)
    return rows


def end_to_end(scenario: Path, extra: list[str]) -> dict:
    """Wall time of `bispecific run` in a fresh process (start-up and imports included)."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "bispecific", "run", str(scenario), "--out",
                            out, "--quiet", *extra], capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        timing = json.loads((Path(out) / "timing.json").read_text())
    return {"scenario": scenario.name, "args": extra, "wall_s": wall,
            "model_wall_s": timing["wall_time_s"]}


def cohort_throughput(patients: int, days: float) -> list[dict]:
    """Patient-runs per minute of scenarios/cohort_tower.toml (cut to `patients` and `days`)
    with 1 and 2 local workers, process start-up included."""
    from bispecific.cohorts.runner import run_cohort
    from bispecific.cohorts.spec import load_cohort

    # The copy names the shipped scenarios by absolute path (arms' `scenario` and `base`)
    # and cuts every arm to `days` through the cohort's own `days`.
    text = (ROOT / "scenarios" / "cohort_tower.toml").read_text()
    text = text.replace("[cohort]\n", f"[cohort]\ndays = {days}\n", 1)
    for key in ("scenario", "base"):
        text = text.replace(f'{key} = "', f'{key} = "{ROOT / "scenarios"}/')
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cohort.toml"
        path.write_text(text)
        cohort = load_cohort(path).with_patients(patients)
        for workers in (1, 2):
            start = time.perf_counter()
            run_cohort(cohort, Path(tmp) / f"out{workers}", workers=workers)
            wall = time.perf_counter() - start
            runs = patients * len(cohort.arms)
            rows.append({"workers": workers, "runs": runs, "days": days, "wall_s": wall,
                         "runs_per_min": runs / wall * 60.0})
            print(f"cohort: {workers} worker(s), {runs} runs of {days:g} days on 64^2: "
                  f"{rows[-1]['runs_per_min']:.1f} runs/min", flush=True)
    rows[1]["speedup"] = rows[0]["wall_s"] / rows[1]["wall_s"]
    return rows


def end_to_end_large(size: int) -> dict:
    """The approved regimen on a size^2 patch, parallel kernel (a scenario written on the fly)."""
    text = (ROOT / "scenarios" / "continuous_4wk.toml").read_text()
    text += f"\n[grid]\nwidth = {size}\nheight = {size}\n\n[simulation]\nparallel = true\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"continuous_4wk_{size}.toml"
        path.write_text(text)
        row = end_to_end(path, [])
    row["scenario"] = f"continuous_4wk.toml on {size}^2, parallel"
    return row


def start_up_times() -> dict:
    """First-call compile time (empty Numba cache) and cached start-up, in fresh processes."""
    code = ("import time; t=time.perf_counter(); from bispecific import BispecificModel;"
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
            "numpy": np.__version__, "cpu_model": _cpu_model(), "caches": _caches(),
            "cores": os.cpu_count(), "bispecific": __version__,
            "numba_threads": numba.get_num_threads()}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _caches() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return "caches unknown"
    keep = [ln.split(":", 1) for ln in out.splitlines()
            if ln.split(":")[0].strip() in ("L1d cache", "L2 cache", "L3 cache")]
    return ", ".join(f"{k.strip().split()[0]} {v.strip()}" for k, v in keep) or "caches unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    ap.add_argument("--name", default=None, help="results file name (default quick/full)")
    args = ap.parse_args(argv)
    sizes = [24, 64, 256] if args.quick else [24, 64, 128, 256, 512, 1024, 2048, 2304]
    results: dict = {"machine": machine(), "quick": args.quick, "targets": TARGETS}
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    results["implementations"] = implementations([16, 32] if args.quick else [16, 32, 64])

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
    results["cohort"] = cohort_throughput(2 if args.quick else 6, 7.0 if args.quick else 28.0)
    results["end_to_end"] = [end_to_end(ROOT / "scenarios" / "continuous_4wk.toml", [])]
    if not args.quick:
        results["end_to_end"].append(end_to_end_large(1024))
    write(results, args.name or ("quick" if args.quick else "full"))
    return 0


def target_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(target, measured, met?, distance) for the table printed beside the measurements."""
    t = results["targets"]
    serial = [r for r in results["kernel"] if not r["parallel"]]
    parallel = [r for r in results["kernel"] if r["parallel"]]
    rows = []

    def row(name, measured, ok, distance):
        rows.append((name, measured, "met" if ok else "NOT met", distance))

    impl = results["implementations"]
    ratio = min(r["kernel_over_mesa"] for r in impl)
    top = max(impl, key=lambda r: r["kernel_over_mesa"])
    row(f">= {t['mesa_ratio']:.0f}x the idiomatic Mesa model",
        f"{ratio:,.0f}x to {top['kernel_over_mesa']:,.0f}x ({top['grid']}^2)",
        ratio >= t["mesa_ratio"], f"{top['kernel_over_mesa'] / t['mesa_ratio']:.2f} of target "
        "at best")
    in_cache = [r for r in serial if r["agents"] * r["state_bytes_per_agent"] < 1.5e6]
    best = max(r["updates_per_s"] for r in in_cache) if in_cache else math.nan
    row(">= 100 M agent-updates/s, one core, in cache", f"{best / 1e6:.0f} M/s",
        best >= t["in_cache_updates_per_s"], f"{best / t['in_cache_updates_per_s']:.2f} of target")
    big = [r for r in parallel if r["agents"] >= 1e6]
    if big:
        speedup = min(r["speedup_vs_serial"] for r in big)
        row(">= 1.6x on 2 cores at >= 1e6 agents", f"{speedup:.2f}x (smallest)",
            speedup >= t["parallel_speedup"],
            f"{speedup / t['parallel_speedup']:.2f} of target")
    else:
        rows.append((">= 1.6x on 2 cores at >= 1e6 agents", "not measured (no patch that "
                     "large in this run)", "-", "-"))
    span = [r for r in serial if 1e4 <= r["agents"] <= 1.2e7]
    if len(span) >= 2 and max(r["agents"] for r in span) >= 1e6:
        costs = [r["ns_per_update"] for r in span]
        flat = max(costs) / min(costs)
        row("cost per update flat within 2x, 1e4-1e7 agents",
            f"{flat:.2f}x (max/min, {min(r['agents'] for r in span):,}-"
            f"{max(r['agents'] for r in span):,} agents)",
            flat <= t["flatness"], f"{flat / t['flatness']:.2f} of limit")
    else:
        rows.append(("cost per update flat within 2x, 1e4-1e7 agents",
                     "not measured (sizes too small in this run)", "-", "-"))
    worst = max(r["state_bytes_per_agent"] for r in results["kernel"])
    row("<= 32 bytes per agent", f"{worst:.1f} B", worst <= t["bytes_per_agent"],
        f"{worst / t['bytes_per_agent']:.2f} of limit")
    e2e = results["end_to_end"][0]["wall_s"]
    row("continuous_4wk.toml end to end < 30 s", f"{e2e:.1f} s", e2e < t["end_to_end_s"],
        f"{e2e / t['end_to_end_s']:.2f} of limit")
    return rows


def write(results: dict, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    m = results["machine"]
    lines = [f"# Benchmark results ({name})", "",
             f"Machine: {m['cpu_model']}, {m['cores']} cores ({m['caches']}), Python "
             f"{m['python']}, NumPy {m['numpy']}, Numba {m['numba']} ({m['numba_threads']} "
             f"threads), bispecific {m['bispecific']}. Command: `python benchmarks/run.py"
             f"{' --quick' if results['quick'] else ''}`.", "",
             "An agent-update is one agent (blast, T cell or molecule) processed in one step. "
             "Populations are a 28 ug/day patch after a 2.5 h warm-up (~2 agents per voxel).",
             "", "## Targets", "", "| target | measured | | distance |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in target_rows(results)]
    lines += ["", "## Kernel, idiomatic Mesa and reference, same rules and sizes", "",
              "| grid | agents | kernel M/s | idiomatic Mesa M/s | reference M/s "
              "| kernel / Mesa | kernel / reference |", "|---|---|---|---|---|---|---|"]
    for r in results["implementations"]:
        lines.append(f"| {r['grid']}^2 | {r['agents']:,} | {r['kernel_updates_per_s'] / 1e6:.1f} "
                     f"| {r['mesa_updates_per_s'] / 1e6:.3f} "
                     f"| {r['reference_updates_per_s'] / 1e6:.3f} "
                     f"| {r['kernel_over_mesa']:,.0f}x | {r['kernel_over_reference']:,.0f}x |")
    lines += ["", "## Kernel throughput and scaling", "",
              "| grid | agents | mode | M agent-updates/s | ns/update | bytes/agent | speed-up |",
              "|---|---|---|---|---|---|---|"]
    for r in results["kernel"]:
        lines.append(
            f"| {r['grid']}^2 | {r['agents']:,} | {'parallel' if r['parallel'] else 'serial'} "
            f"| {r['updates_per_s'] / 1e6:.1f} | {r['ns_per_update']:.1f} "
            f"| {r['state_bytes_per_agent']:.1f} | "
            + (f"{r['speedup_vs_serial']:.2f} |" if r["parallel"] else "- |"))
    su = results["start_up"]
    lines += ["", f"Fitted exponent of time per step against agents (serial): "
              f"{results['scaling_exponent']:.2f} (1.00 is linear).",
              f"Compile (first call, empty cache): {su['compile_first_call_s']:.1f} s; "
              f"cached start-up: {su['cached_start_up_s']:.1f} s.", "", "## End to end", ""]
    for e in results["end_to_end"]:
        lines.append(f"- `{e['scenario']}`: {e['wall_s']:.1f} s wall, process start-up "
                     f"included (model {e['model_wall_s']:.1f} s)")
    lines += ["", "## Cohort throughput (scenarios/cohort_tower.toml, 64^2 patches)", "",
              "| workers | runs | days per run | wall s | patient-runs per minute |",
              "|---|---|---|---|---|"]
    for r in results["cohort"]:
        lines.append(f"| {r['workers']} | {r['runs']} | {r['days']:g} | {r['wall_s']:.1f} "
                     f"| {r['runs_per_min']:.1f} |")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    scaling_plot(results, RESULTS / f"{name}_scaling.png")
    print("\n".join(lines))


def scaling_plot(results: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.subplots()
    for parallel, label in ((False, "kernel, 1 thread"), (True, "kernel, 2 threads")):
        rows = [r for r in results["kernel"] if r["parallel"] == parallel]
        ax.loglog([r["agents"] for r in rows], [r["ns_per_update"] for r in rows], "o-",
                  label=label)
    impl = results["implementations"]
    ax.loglog([r["mesa_agents"] for r in impl], [1e9 / r["mesa_updates_per_s"] for r in impl],
              "s-", label="idiomatic Mesa")
    ax.loglog([r["reference_agents"] for r in impl],
              [1e9 / r["reference_updates_per_s"] for r in impl], "^-", label="reference")
    ax.axhline(10.0, color="grey", ls="--", lw=1)
    ax.text(1e3, 11, "100 M/s", color="grey", fontsize=8)
    ax.set_xlabel("agents")
    ax.set_ylabel("ns per agent-update")
    ax.set_title("Cost per agent-update against population size", loc="left")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
