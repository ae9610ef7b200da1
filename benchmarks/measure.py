"""What the benchmark measures: the kernel's throughput at each patch size and load, where a
step's and a course's time goes, memory, start-up, cohorts and whole runs. Each function
returns plain numbers (dicts and lists) for benchmarks/report.py to write; nothing here
asserts a time. The pipeline that calls them is benchmarks/run.py.

An agent-update is one agent (blast, T cell, normal cell or bound molecule) advanced by one
step. Since 0.4 bound molecules are counts on their cells, still counted one per molecule.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import re
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
from bispecific.engine.core.threads import ThreadPolicy  # noqa: E402
from bispecific.engine.facade.model import BispecificModel  # noqa: E402

STEADY_28_UG_PER_DAY_PG_PER_ML = 525.0  # Css at 28 ug/day (docs/references.md V2)
WARM_UP_STEPS = 150
LOADING_STEPS = 120  # 2 h at twice the steady-state concentration, then steady state
QUIET_LOAD = 0.5  # a machine is quiet when its 1-minute load average is below this
MODES = ("serial", "parallel", "forced2")
MODE_NAMES = {"serial": "1 thread", "parallel": "parallel = true",
              "forced2": "2 threads forced"}
LOADS = (0, 1, 2)  # spinning processes beside the benchmark


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


def state_bytes(m: BispecificModel) -> int:
    """Bytes of per-step state in use (slots in use, not spare capacity), grid and scratch
    (event buffers) included. Bound molecules are counts on their cells: they cost nothing
    of their own."""
    s = m.state
    per_blast = sum(a.itemsize for a in (s.b_voxel, s.b_alive, s.b_cd19, s.b_bound,
                                         s.b_trimers, s.b_partner, s.b_events,
                                         s.new_bindings))
    per_t = sum(a.itemsize for a in (s.t_voxel, s.t_alive, s.t_engaged, s.t_partner,
                                     s.t_timer_min, s.t_activation, s.t_exhaustion,
                                     s.t_desens, s.t_kills, s.t_bound, s.t_trimers,
                                     s.t_bridge_blast, s.t_bridge_tcell, s.t_last_partner,
                                     s.t_last_trimers))
    per_t += s.new_bindings.itemsize
    per_normal = s.c_voxel.itemsize + s.c_alive.itemsize + s.c_events.itemsize
    grid = s.occ_kind.nbytes + s.occ_idx.nbytes
    return s.n_blasts * per_blast + s.n_tcells * per_t + s.n_normal * per_normal + grid


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
        m = realistic_model(size, False)
        set_policy(m, "serial")
        wall, updates = measure(m, 200)
        kernel = {"updates_per_s": updates / wall, "agents": updates // 200}
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
        summary = json.loads((Path(out) / "summary.json").read_text())
    # A stopping rule can end a run early (scenario [stopping]): say how far it went.
    return {"scenario": scenario.name, "args": extra, "wall_s": wall,
            "model_wall_s": timing["wall_time_s"],
            "simulated_days": summary.get("treatment_end_day", summary["days"]),
            "stop_reason": summary.get("stop_reason", "none")}


@contextlib.contextmanager
def spinners(n: int):
    """`n` processes that keep a core busy each, started here and stopped on leaving."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        if procs:
            time.sleep(0.5)  # let them start spinning
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


def load_average() -> float:
    try:
        return float(os.getloadavg()[0])
    except OSError:
        return float("nan")


def set_policy(m: BispecificModel, mode: str) -> None:
    policy = {"serial": lambda: ThreadPolicy.forced(1),
              "parallel": lambda: ThreadPolicy(True, m.state.voxels),
              "forced2": lambda: ThreadPolicy.forced(2)}[mode]()
    m.config = dataclasses.replace(m.config, threads=policy)


def measure(m: BispecificModel, steps: int) -> tuple[float, int]:
    """Wall time and agent-updates of `steps` steps."""
    updates = 0
    start = time.perf_counter()
    for _ in range(steps):
        updates += live_agents(m)
        m.step()
    return time.perf_counter() - start, updates


def compile_all_kernels() -> None:
    """Compile (or load from Numba's cache) the serial and the threaded kernels before
    anything is timed. The threaded variants otherwise compile inside the first timed steps
    that use them (the first patch above the PARALLEL_MIN_* sizes): after a change to a
    kernel's source that took seconds and read as a 0.1x 'speed-up'."""
    from bispecific.engine.facade.warmup import compile_kernels

    compile_kernels(parallel=True)


def kernel_steps(agents: int, quick: bool) -> int:
    """Steps per mode and load: about 1.2 s (quick: 0.4 s) of serial work, 24 to 1000."""
    budget = 0.4 if quick else 1.2
    return int(min(1000, max(24, budget / (agents * 7e-9))))


def kernel_sizes(sizes: list[int], quick: bool, rounds: int) -> list[dict]:
    """Each size: the three modes, quiet and beside 1 and 2 spinners, taking turns in
    `rounds` rounds (so that a change of load affects them alike); totals over the rounds.
    Each mode keeps its thread policy from round to round."""
    rows = []
    for size in sizes:
        m = realistic_model(size, False)
        agents = live_agents(m)
        steps = max(4, kernel_steps(agents, quick) // rounds)
        for load in LOADS:
            before = load_average()
            totals = {mode: [0.0, 0] for mode in MODES}
            with spinners(load):
                policies = {}
                for mode in MODES:
                    set_policy(m, mode)
                    policies[mode] = m.config.threads
                for _ in range(rounds):
                    for mode in MODES:
                        m.config = dataclasses.replace(m.config, threads=policies[mode])
                        wall, updates = measure(m, steps)
                        totals[mode][0] += wall
                        totals[mode][1] += updates
            serial_rate = totals["serial"][1] / totals["serial"][0]
            for mode in MODES:
                wall, updates = totals[mode]
                rate = updates / wall
                rows.append({
                    "grid": size, "agents": agents, "spinners": load, "mode": mode,
                    "load_before": before, "steps": steps * rounds, "wall_s": wall,
                    "updates_per_s": rate, "ns_per_update": 1e9 / rate,
                    "vs_serial": rate / serial_rate,
                    "state_bytes_per_agent": state_bytes(m) / max(live_agents(m), 1),
                })
            print(f"grid {size}^2, {agents:,} agents, {load} spinner(s), load {before:.2f}: "
                  + ", ".join(f"{MODE_NAMES[r['mode']]} {r['updates_per_s'] / 1e6:.1f} M/s "
                              f"(x{r['vs_serial']:.2f})" for r in rows[-3:]), flush=True)
    return rows


def flatness(small: int, large: int, steps_small: int, steps_large: int,
             rounds: int) -> dict:
    """Cost per update of a large patch over a small one, one thread, the two taking turns
    in rounds so that both see the same load (sizes measured one after the other on a
    machine whose load changes are not comparable)."""
    models = {small: realistic_model(small, False), large: realistic_model(large, False)}
    steps = {small: steps_small, large: steps_large}
    totals = {size: [0.0, 0] for size in models}
    for _ in range(rounds):
        for size, m in models.items():
            set_policy(m, "serial")
            wall, updates = measure(m, steps[size])
            totals[size][0] += wall
            totals[size][1] += updates
    ns = {size: wall / updates * 1e9 for size, (wall, updates) in totals.items()}
    row = {"small_grid": small, "large_grid": large,
           "small_agents": totals[small][1] // (steps_small * rounds),
           "large_agents": totals[large][1] // (steps_large * rounds),
           "small_ns_per_update": ns[small], "large_ns_per_update": ns[large],
           "ratio": ns[large] / ns[small], "rounds": rounds, "load": load_average()}
    print(f"flatness, interleaved: {small}^2 {ns[small]:.1f} ns, {large}^2 {ns[large]:.1f} ns "
          f"per update (x{row['ratio']:.2f})", flush=True)
    return row


def phase_profile(sizes: list[int], steps: int) -> list[dict]:
    """Where a serial step's time goes, by phase (bispecific/engine/core/step.py)."""
    rows = []
    for size in sizes:
        m = realistic_model(size, False)
        set_policy(m, "serial")
        m.config = dataclasses.replace(m.config, phase_times={})
        wall, updates = measure(m, steps)
        times = dict(m.config.phase_times)
        rows.append({"grid": size, "agents": updates // steps, "step_us": wall / steps * 1e6,
                     "phases_us": {k: v / steps * 1e6 for k, v in times.items()}})
        print(f"profile {size}^2: " + ", ".join(
            f"{k} {v:.0f} us" for k, v in rows[-1]["phases_us"].items()), flush=True)
    return rows


def cohort_throughput(patients: int, days: float) -> list[dict]:
    """Patient-runs per minute of scenarios/cohort_tower.toml (cut to `patients` and `days`)
    with 1 and 2 local workers, process start-up included; quiet, then with one core busy."""
    from bispecific.cohorts.runner import run_cohort
    from bispecific.cohorts.spec import load_cohort

    text = (ROOT / "scenarios" / "cohort_tower.toml").read_text()
    text = text.replace("[cohort]\n", f"[cohort]\ndays = {days}  # every arm's run length\n",
                        1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cohort.toml"
        path.write_text(re.sub(r'^(scenario|base) = "', lambda m: f'{m.group(1)} = "'
                               f'{ROOT / "scenarios"}/', text, flags=re.M))
        cohort = load_cohort(path).with_patients(patients)
        for load in (0, 1):
            with spinners(load):
                for workers in (1, 2):
                    start = time.perf_counter()
                    run_cohort(cohort, Path(tmp) / f"out{workers}_{load}", workers=workers)
                    wall = time.perf_counter() - start
                    runs = patients * len(cohort.arms)
                    rows.append({"workers": workers, "spinners": load, "runs": runs,
                                 "days": days, "wall_s": wall,
                                 "runs_per_min": runs / wall * 60.0})
                    print(f"cohort: {workers} worker(s), {load} spinner(s), {runs} runs of "
                          f"{days:g} days: {rows[-1]['runs_per_min']:.1f} runs/min", flush=True)
            rows[-1]["speedup"] = rows[-2]["wall_s"] / rows[-1]["wall_s"]
    return rows


def end_to_end_large(size: int, days: float = 28.0) -> dict:
    """The approved regimen on a size^2 patch, `parallel = true` (a scenario written on the
    fly), for its 28 days or, where time is short, its first `days`."""
    text = (ROOT / "scenarios" / "continuous_4wk.toml").read_text()
    text += f"\n[grid]\nwidth = {size}\nheight = {size}\n\n[simulation]\nparallel = true\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"continuous_4wk_{size}.toml"
        path.write_text(text)
        row = end_to_end(path, [] if days >= 28.0 else ["--days", f"{days:g}"])
    row["scenario"] = f"continuous_4wk.toml on {size}^2, parallel = true"
    row["days"] = days
    if days < 28.0:
        row["scenario"] += f", first {days:g} of 28 days"
    return row


def memory_figures() -> dict:
    """What the memory system delivers, to set the kernel's out-of-cache cost against:
    streaming bandwidth (a STREAM-like triad, 1 and 2 threads, 3 x 128 MiB) and the cost of
    a random read (gathers into 64 MiB, the access pattern of T cells' and molecules' look-ups
    into the grid and the cells' arrays when the patch outgrows the caches)."""
    import numba
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def triad_par(a, b, c, x):
        for i in prange(a.shape[0]):
            a[i] = b[i] + x * c[i]

    @njit(cache=False)
    def triad(a, b, c, x):
        for i in range(a.shape[0]):
            a[i] = b[i] + x * c[i]

    @njit(cache=False)
    def gather(table, idx):
        total = 0
        for i in range(idx.shape[0]):
            total += table[idx[i]]
        return total

    @njit(parallel=True, cache=False)
    def compute(n):
        out = np.zeros(64)
        for c in prange(64):
            x = 0.0
            for i in range(n):
                x += np.sqrt(i + c + 1.0)
            out[c] = x
        return out.sum()

    n = 16 * 2**20  # float64: 128 MiB per array
    a, b, c = np.zeros(n), np.ones(n), np.ones(n)
    out: dict = {}
    before = numba.get_num_threads()
    for name, fn, threads in (("triad_1_thread_gb_s", triad, 1),
                              ("triad_2_threads_gb_s", triad_par, min(2, before))):
        numba.set_num_threads(threads)
        fn(a, b, c, 2.0)
        best = math.inf
        for _ in range(5):
            t = time.perf_counter()
            fn(a, b, c, 2.0)
            best = min(best, time.perf_counter() - t)
        out[name] = 3 * a.nbytes / best / 1e9
    # The most two threads can gain here, now: a loop with no memory traffic and nothing
    # shared. On a virtual machine whose cores other work holds, this is what is left.
    compute(10)
    times = {}
    for threads in (1, min(2, before), 1, min(2, before)):
        numba.set_num_threads(threads)
        t = time.perf_counter()
        compute(2_000_000)
        times[threads] = min(times.get(threads, math.inf), time.perf_counter() - t)
    out["compute_2_threads_speedup"] = times[1] / times[min(2, before)]
    numba.set_num_threads(before)
    table = np.arange(16 * 2**20, dtype=np.int32)  # 64 MiB
    rng = np.random.default_rng(1)
    for name, size in (("random_read_in_cache_ns", 2**16), ("random_read_64mib_ns", table.size)):
        idx = rng.integers(0, size, 2**22).astype(np.int64)
        gather(table, idx)
        t = time.perf_counter()
        gather(table, idx)
        out[name] = (time.perf_counter() - t) / idx.size * 1e9
    print("memory: " + ", ".join(f"{k} {v:.2f}" for k, v in out.items()), flush=True)
    return out


def course_profile(days: float) -> dict:
    """Where a course's time goes: continuous_4wk.toml's patient (100^2, readouts included)
    for `days`, one thread, each phase of the step timed (engine/core/step.py PHASES); what is
    not in a phase is the model's Python around the kernels and the readouts. Also the cell
    slots against the live cells at the end: a kernel's pass over dead slots is work for
    nothing."""
    from bispecific.engine.facade.warmup import compile_kernels
    from bispecific.scenario import load_scenario
    from bispecific.simulation.run import build_model

    compile_kernels()  # loading the kernels is start-up, not the course
    m = build_model(load_scenario(ROOT / "scenarios" / "continuous_4wk.toml"))
    set_policy(m, "serial")
    m.config = dataclasses.replace(m.config, phase_times={})
    start = time.perf_counter()
    m.run_for(days)
    wall = time.perf_counter() - start
    s = m.state
    row = {"days": days, "steps": int(m.steps), "wall_s": wall,
           "phases_s": dict(m.config.phase_times),
           "slots": {"blasts": [s.n_blasts, s.blasts_alive()],
                     "T cells": [s.n_tcells, s.tcells_alive()],
                     "normal cells": [s.n_normal, s.normal_alive()]},
           "bound_molecules": int(s.n_live_molecules)}
    row["other_s"] = wall - sum(row["phases_s"].values())
    print(f"course profile, {days:g} days: {wall:.1f} s, " + ", ".join(
        f"{k} {v:.2f} s" for k, v in row["phases_s"].items()) + f", other {row['other_s']:.2f} s",
        flush=True)
    return row


def large_run_agents(size: int) -> int:
    """Agents of the large run's patch at the start (no drug yet): the work a step has."""
    from bispecific.scenario import load_scenario
    from bispecific.simulation.run import build_model

    scenario = load_scenario(ROOT / "scenarios" / "continuous_4wk.toml")
    scenario = dataclasses.replace(scenario, grid=dataclasses.replace(
        scenario.grid, width=size, height=size))
    return live_agents(build_model(scenario))


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




