"""Benchmarks of the kernel and the whole run, printed against the targets of issue 13.

    python benchmarks/run.py           # full run (about half an hour on 2 cores); also
                                       # rewrites docs/benchmarks.md's numbers
    python benchmarks/run.py --quick   # under 2 minutes
    python benchmarks/run.py --readme  # only rewrite docs/benchmarks.md from results/full.json
    python benchmarks/run.py --smoke   # every part of the full run at tiny sizes

Writes benchmarks/results/<name>.json and .md (and a scaling plot). Nothing here asserts a
time: the tables say which target is met and by how much.

Kernel throughput is measured at each patch size in three modes: one thread; `parallel =
true` (the automatic thread policy of bispecific/engine/threads.py, probing included); and
two threads forced (NUMBA_NUM_THREADS=2, no policy). Each is measured on the machine as it is
("quiet": the load average is recorded, and should be below 0.5), then with one and with
two spinning processes (`while True: pass`) that the benchmark starts and stops itself.

An agent-update is one agent (blast, T cell, normal cell or bound molecule) processed in one
step.
"""

from __future__ import annotations

import argparse
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
from bispecific.engine import step as engine_step  # noqa: E402
from bispecific.engine.model import BispecificModel  # noqa: E402
from bispecific.engine.threads import ThreadPolicy  # noqa: E402

STEADY_28_UG_PER_DAY_PG_PER_ML = 525.0  # Css at 28 ug/day (docs/references.md V2)
WARM_UP_STEPS = 150
LOADING_STEPS = 120  # 2 h at twice the steady-state concentration, then steady state
QUIET_LOAD = 0.5  # a machine is quiet when its 1-minute load average is below this
MODES = ("serial", "parallel", "forced2")
MODE_NAMES = {"serial": "1 thread", "parallel": "parallel = true",
              "forced2": "2 threads forced"}
LOADS = (0, 1, 2)  # spinning processes beside the benchmark

# Issue 13's targets: (key, measure, before, target).
TARGETS = {
    "quiet_speedup": 1.8,  # parallel / serial, quiet, >= 1e5 agents, 2 cores
    "busy_ratio": 0.9,  # parallel / serial with 1 or 2 spinners, any size
    "flatness": 1.5,  # cost per update at 1e7 agents over the best at 1e4-1e5
    "in_cache_updates_per_s": 150e6,  # one core, working set in cache
    "large_run_s": 150.0,  # 28-day approved regimen on 1024^2, 2 cores
    "cohort_quiet": 1.9,  # 2 workers / 1 worker, quiet
    "cohort_busy": 1.0,  # 2 workers / 1 worker, one core busy
    "end_to_end_s": 30.0,  # continuous_4wk.toml, start-up included
}
BEFORE = {
    "quiet_speedup": "1.13-1.37x",
    "busy_ratio": "0.003-0.06x (load ~3)",
    "flatness": "3.8x",
    "in_cache_updates_per_s": "117-153 M/s",
    "large_run_s": "425 s",
    "cohort_quiet": "1.87x",
    "cohort_busy": "0.87x (49.6 vs 56.8 runs/min)",
    "end_to_end_s": "6.0 s",
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


def state_bytes(m: BispecificModel) -> int:
    """Bytes of per-step state in use (slots in use, holes included, not spare capacity),
    grid and scratch (event buffers, the molecules' sort buffers) included."""
    s = m.state
    per_blast = sum(a.itemsize for a in (s.b_voxel, s.b_alive, s.b_cd19, s.b_bound,
                                         s.b_trimers, s.b_partner, s.b_events,
                                         s.new_bindings))
    per_t = sum(a.itemsize for a in (s.t_voxel, s.t_alive, s.t_engaged, s.t_partner,
                                     s.t_timer_min, s.t_activation, s.t_exhaustion,
                                     s.t_desens, s.t_kills, s.t_bound, s.t_trimers,
                                     s.t_bridge_blast, s.t_bridge_tcell))
    per_t += s.new_bindings.itemsize
    per_normal = s.c_voxel.itemsize + s.c_alive.itemsize + s.c_events.itemsize
    per_m = 2 * (s.m_state.itemsize + s.m_blast.itemsize + s.m_tcell.itemsize
                 + s.m_release.itemsize) + s.events.itemsize
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
    return {"scenario": scenario.name, "args": extra, "wall_s": wall,
            "model_wall_s": timing["wall_time_s"]}


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
    from bispecific.engine.warmup import compile_kernels

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
    """Where a serial step's time goes, by phase (bispecific/engine/step.py)."""
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


def _compact_keeping_order(s) -> None:
    """The compaction before issue 13: drop cleared molecules, the rest keeping their order
    (for `sort_payoff` only; it gives other slots, so other draws, than the sort)."""
    from numba import njit

    from bispecific.engine.state import CLEARED

    global _compact_kernel
    if _compact_kernel is None:
        @njit(cache=False)
        def compact(n, m_state, m_blast, m_tcell, m_release):
            j = 0
            for i in range(n):
                if m_state[i] != CLEARED:
                    m_state[j] = m_state[i]
                    m_blast[j] = m_blast[i]
                    m_tcell[j] = m_tcell[i]
                    m_release[j] = m_release[i]
                    j += 1
            return j

        _compact_kernel = compact
    s.n_molecules = _compact_kernel(s.n_molecules, s.m_state, s.m_blast, s.m_tcell,
                                    s.m_release)


_compact_kernel = None


def sort_payoff(sizes: list[int], steps: int, rounds: int) -> list[dict]:
    """Does sorting the molecules by cell pay in the whole step? One thread, the same patch
    run with the sort (as the model does) and with the old order-keeping compaction, taking
    turns in rounds; wall time of every step, compactions included."""
    sorted_compact = engine_step.compact_molecules
    warm = realistic_model(16, False)  # compile the order-keeping kernel outside the timing
    _compact_keeping_order(warm.state)
    rows = []
    for size in sizes:
        models = {"sorted": realistic_model(size, False),
                  "kept order": realistic_model(size, False)}
        totals = {k: [0.0, 0, 0] for k in models}
        for _ in range(rounds):
            for name, m in models.items():
                set_policy(m, "serial")
                calls = [0]
                base = sorted_compact if name == "sorted" else _compact_keeping_order

                def counted(s, base=base, calls=calls):
                    calls[0] += 1
                    base(s)

                engine_step.compact_molecules = counted
                try:
                    wall, updates = measure(m, steps)
                finally:
                    engine_step.compact_molecules = sorted_compact
                totals[name][0] += wall
                totals[name][1] += updates
                totals[name][2] += calls[0]
        row = {"grid": size, "agents": totals["sorted"][1] // (steps * rounds),
               "steps": steps * rounds}
        for name, (wall, updates, compactions) in totals.items():
            key = name.replace(" ", "_")
            row[f"{key}_ns_per_update"] = wall / updates * 1e9
            row[f"{key}_compactions"] = compactions
        row["gain"] = row["kept_order_ns_per_update"] / row["sorted_ns_per_update"]
        rows.append(row)
        print(f"sort payoff {size}^2: sorted {row['sorted_ns_per_update']:.1f} ns/update, "
              f"order kept {row['kept_order_ns_per_update']:.1f} (x{row['gain']:.2f})",
              flush=True)
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
    for `days`, one thread, each phase of the step timed (engine/step.py PHASES); what is
    not in a phase is the model's Python around the kernels and the readouts. Also the slots
    against the live agents at the end: a kernel's pass over dead slots is work for nothing."""
    from bispecific.engine.warmup import compile_kernels
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
                     "normal cells": [s.n_normal, s.normal_alive()],
                     "molecules": [s.n_molecules, int(s.n_live_molecules)]}}
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




def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    ap.add_argument("--name", default=None, help="results file name (default quick/full)")
    ap.add_argument("--readme", action="store_true",
                    help="only rewrite docs/benchmarks.md's numbers from full.json")
    ap.add_argument("--report", action="store_true",
                    help="only rewrite full.md, its figure and docs/benchmarks.md from full.json")
    ap.add_argument("--smoke", action="store_true",
                    help="every part of the full run at tiny sizes (checks the script)")
    ap.add_argument("--large-days", type=float, default=28.0,
                    help="days of the 1024^2 approved-regimen run (default all 28)")
    ap.add_argument("--cohort-patients", type=int, default=6,
                    help="patients per cohort measurement (full run; default 6)")
    ap.add_argument("--cohort-days", type=float, default=28.0,
                    help="days per cohort run (full run; default 28)")
    ap.add_argument("--flatness", action="store_true",
                    help="add the flatness target, sizes taking turns, to full.json and "
                         "rewrite full.md and docs/benchmarks.md")
    args = ap.parse_args(argv)
    command = " ".join(["python benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])
    if args.readme:
        write_readme(json.loads((RESULTS / "full.json").read_text()))
        return 0
    if args.report:
        results = json.loads((RESULTS / "full.json").read_text())
        write(results, "full")
        write_readme(results)
        return 0
    if args.flatness:
        # Sizes measured one after another compare only on a machine whose load holds still;
        # this measures the flatness target with the sizes taking turns, into full.json.
        results = json.loads((RESULTS / "full.json").read_text())
        results["flatness"] = flatness(128, 2048, 1000, 4, 6)  # equal work per turn
        results["command"] += f"; then {command}"
        write(results, "full")
        write_readme(results)
        return 0
    if args.smoke:
        return smoke()
    sizes = [64, 256] if args.quick else [24, 64, 128, 256, 512, 1024, 2048]
    results: dict = {"machine": machine(), "quick": args.quick, "targets": TARGETS,
                     "load_at_start": load_average(), "command": command}
    compile_all_kernels()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    print(f"load average at start: {results['load_at_start']:.2f}", flush=True)
    results["implementations"] = implementations([16, 32] if args.quick else [16, 32, 64])
    results["kernel"] = kernel_sizes(sizes, args.quick, 3 if args.quick else 4)
    quiet_serial = [r for r in results["kernel"] if r["mode"] == "serial" and not r["spinners"]]
    results["scaling_exponent"] = fit_exponent(
        [r["agents"] for r in quiet_serial], [r["wall_s"] / r["steps"] for r in quiet_serial])
    results["profile"] = phase_profile([256] if args.quick else [256, 2048],
                                       20 if args.quick else 40)
    results["sort_payoff"] = sort_payoff([256] if args.quick else [256, 1024],
                                         20 if args.quick else 30, 3)
    results["memory"] = memory_figures()
    results["start_up"] = start_up_times()
    results["cohort"] = cohort_throughput(2 if args.quick else args.cohort_patients,
                                          3.0 if args.quick else args.cohort_days)
    results["end_to_end"] = [end_to_end(ROOT / "scenarios" / "continuous_4wk.toml", [])]
    results["course_profile"] = course_profile(28.0)
    if not args.quick:
        results["end_to_end"].append(end_to_end_large(1024, args.large_days))
        results["large_run_agents"] = large_run_agents(1024)
    results["load_at_end"] = load_average()
    name = args.name or ("quick" if args.quick else "full")
    write(results, name)
    if name == "full":
        write_readme(results)
    return 0


def smoke() -> int:
    """The full run's code path at tiny sizes, written as results/smoke.*; the Performance page
    section it would write is printed, not written."""
    results: dict = {"machine": machine(), "quick": True, "targets": TARGETS,
                     "load_at_start": load_average()}
    compile_all_kernels()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    results["implementations"] = implementations([16])
    results["kernel"] = kernel_sizes([24, 64], True, 2)
    quiet_serial = [r for r in results["kernel"] if r["mode"] == "serial" and not r["spinners"]]
    results["scaling_exponent"] = fit_exponent(
        [r["agents"] for r in quiet_serial], [r["wall_s"] / r["steps"] for r in quiet_serial])
    results["profile"] = phase_profile([64], 10)
    results["sort_payoff"] = sort_payoff([24], 10, 2)
    results["memory"] = memory_figures()
    results["start_up"] = {"compile_first_call_s": math.nan, "cached_start_up_s": math.nan}
    results["cohort"] = cohort_throughput(1, 0.5)
    results["course_profile"] = course_profile(0.25)
    results["end_to_end"] = [end_to_end(ROOT / "scenarios" / "continuous_4wk.toml", []),
                             end_to_end_large(128, 1.0)]
    results["end_to_end"][1]["scenario"] = results["end_to_end"][1]["scenario"].replace(
        "128", "1024 (smoke: 128)")
    results["load_at_end"] = load_average()
    write(results, "smoke")
    print(readme_section(results))
    return 0


def _rows(results: dict, mode: str, spinners: int | None = None) -> list[dict]:
    return [r for r in results["kernel"] if r["mode"] == mode
            and (spinners is None or r["spinners"] == spinners)]


def target_rows(results: dict) -> list[tuple[str, str, str, str, str]]:
    """(measure, before, target, measured, met?) for issue 13's targets."""
    t = results["targets"]
    rows = []

    def row(key, name, target, measured, ok):
        rows.append((name, BEFORE[key], target, measured,
                     "-" if ok is None else ("met" if ok else "NOT met")))

    # Quiet: a low load average at the start, or both cores measured free during the run
    # (two threads doubling a loop with no memory traffic).
    ceiling = results.get("memory", {}).get("compute_2_threads_speedup", 0.0)
    quiet = results.get("load_at_start", 0.0) < QUIET_LOAD or ceiling >= 1.8
    note = "" if quiet else f" (machine not quiet: load {results['load_at_start']:.1f})"
    big = [r for r in _rows(results, "parallel", 0) if r["agents"] >= 1e5]
    if big:
        worst = min(big, key=lambda r: r["vs_serial"])
        best = max(big, key=lambda r: r["vs_serial"])
        row("quiet_speedup", "parallel / serial, quiet, >= 1e5 agents",
            f">= {t['quiet_speedup']}x on 2 cores",
            f"{worst['vs_serial']:.2f}x ({worst['grid']}^2) to {best['vs_serial']:.2f}x "
            f"({best['grid']}^2){note}", worst["vs_serial"] >= t["quiet_speedup"])
    else:
        row("quiet_speedup", "parallel / serial, quiet, >= 1e5 agents",
            f">= {t['quiet_speedup']}x on 2 cores", "not measured (patches too small)", None)
    busy = [r for r in results["kernel"] if r["mode"] == "parallel" and r["spinners"]]
    worst = min(busy, key=lambda r: r["vs_serial"])
    forced = [r for r in results["kernel"] if r["mode"] == "forced2" and r["spinners"]]
    worst_forced = min(forced, key=lambda r: r["vs_serial"])
    row("busy_ratio", "parallel / serial, cores busy (1 or 2 spinners), any size",
        f">= {t['busy_ratio']}x",
        f"{worst['vs_serial']:.2f}x at worst ({worst['grid']}^2, {worst['spinners']} "
        f"spinner(s)); 2 threads forced: {worst_forced['vs_serial']:.2f}x at worst",
        worst["vs_serial"] >= t["busy_ratio"])
    serial = _rows(results, "serial", 0)
    small = [r for r in serial if 1e4 <= r["agents"] <= 1.2e5]
    large = [r for r in serial if r["agents"] >= 9e6]
    if "flatness" in results:
        f = results["flatness"]
        row("flatness", "cost per update, 1e7 vs 1e4-1e5 agents", f"<= {t['flatness']}x",
            f"{f['ratio']:.2f}x ({f['large_ns_per_update']:.1f} ns at {f['large_agents']:,} "
            f"agents, {f['small_ns_per_update']:.1f} ns at {f['small_agents']:,}; sizes taking "
            f"turns, load {f['load']:.1f})", f["ratio"] <= t["flatness"])
    elif small and large:
        flat = large[-1]["ns_per_update"] / min(r["ns_per_update"] for r in small)
        row("flatness", "cost per update, 1e7 vs 1e4-1e5 agents", f"<= {t['flatness']}x",
            f"{flat:.2f}x ({large[-1]['ns_per_update']:.1f} ns at {large[-1]['agents']:,} "
            f"agents, best {min(r['ns_per_update'] for r in small):.1f} ns){note}",
            flat <= t["flatness"])
    else:
        row("flatness", "cost per update, 1e7 vs 1e4-1e5 agents", f"<= {t['flatness']}x",
            "not measured (no 1e7-agent patch in this run)", None)
    # In cache: the state fits one core's L2 (2 MiB here), as 128^2 did when the figure
    # before was taken (153 M/s at 128^2, 32,251 agents).
    in_cache = [r for r in serial if r["agents"] * r["state_bytes_per_agent"] < 2 * 2**20]
    best = max((r["updates_per_s"] for r in in_cache), default=math.nan)
    row("in_cache_updates_per_s", "serial in cache", ">= 150 M/s, no regression",
        f"{best / 1e6:.0f} M/s{note}", best >= t["in_cache_updates_per_s"])
    large_run = [e for e in results["end_to_end"] if "1024" in e["scenario"]]
    if large_run and large_run[0].get("days", 28.0) < 28.0:
        e = large_run[0]
        per_day = e["model_wall_s"] / e["days"]
        agents = results.get("large_run_agents")
        floor = ""
        if agents:
            best = max(r["updates_per_s"] for r in results["kernel"] if not r["spinners"])
            floor = (f"; its {agents / 1e6:.1f} M agents at the start, over 40,320 steps "
                     f"at the best quiet rate measured ({best / 1e6:.0f} M/s), would take "
                     f"{agents * 40320 / best:.0f} s")
        row("large_run_s", "28-day approved regimen, 1024^2 patch, 2 cores",
            f"<= {t['large_run_s']:.0f} s",
            f"28 days not run (time): first {e['days']:g} days {e['wall_s']:.0f} s wall, "
            f"model {per_day:.0f} s per day{floor}{note}", None)
    elif large_run:
        e = large_run[0]
        same = [r for r in results["kernel"] if r["grid"] == 1024 and not r["spinners"]]
        floor = ""
        if same:
            # The work is agents x steps; no thread policy changes that. The kernel table's
            # 1024^2 patch is this run's at 28 ug/day (its last three weeks), so this is the
            # floor set by the best rate measured there, and the rate the target would need.
            agents = same[0]["agents"]
            best = max(r["updates_per_s"] for r in same)
            floor = (f"; {agents / 1e6:.1f} M agents at 28 ug/day x 40,320 steps at the best "
                     f"quiet rate measured on this patch ({best / 1e6:.0f} M/s) is "
                     f"{agents * 40320 / best:.0f} s, and {t['large_run_s']:.0f} s would need "
                     f"{agents * 40320 / t['large_run_s'] / 1e6:.0f} M/s")
        row("large_run_s", "28-day approved regimen, 1024^2 patch, 2 cores",
            f"<= {t['large_run_s']:.0f} s", f"{e['wall_s']:.0f} s{floor}{note}",
            e["wall_s"] <= t["large_run_s"])
    else:
        row("large_run_s", "28-day approved regimen, 1024^2 patch, 2 cores",
            f"<= {t['large_run_s']:.0f} s", "not measured (full run only)", None)
    cohort = results["cohort"]
    quiet_c = [r for r in cohort if r["spinners"] == 0 and "speedup" in r]
    busy_c = [r for r in cohort if r["spinners"] == 1 and "speedup" in r]
    row("cohort_quiet", "cohort, 2 workers / 1 worker, quiet",
        f">= {t['cohort_quiet']}x", f"{quiet_c[0]['speedup']:.2f}x{note}",
        quiet_c[0]["speedup"] >= t["cohort_quiet"])
    row("cohort_busy", "cohort, 2 workers / 1 worker, one core busy",
        f">= {t['cohort_busy']}x", f"{busy_c[0]['speedup']:.2f}x",
        busy_c[0]["speedup"] >= t["cohort_busy"])
    e2e = results["end_to_end"][0]["wall_s"]
    row("end_to_end_s", "continuous_4wk.toml end to end (100^2)", f"< {t['end_to_end_s']:.0f} s",
        f"{e2e:.1f} s", e2e < t["end_to_end_s"])
    return rows


def _course_profile_lines(results: dict) -> list[str]:
    """The course profile's section of the report (`course_profile`)."""
    p = results.get("course_profile")
    if p is None:
        return []
    lines = ["", f"## Where a course's time goes: continuous_4wk.toml, {p['days']:g} days, "
             "one thread", "",
             f"{p['steps']:,} steps in {p['wall_s']:.1f} s ({p['wall_s'] / p['days']:.2f} s "
             "per simulated day; start-up and outputs not included).", "",
             "| phase | s | share |", "|---|---|---|"]
    rows = [*p["phases_s"].items(), ("readouts and the model's Python", p["other_s"])]
    lines += [f"| {k} | {v:.2f} | {v / p['wall_s'] * 100:.0f}% |" for k, v in rows]
    lines += ["", "Slots against live agents at the end (a pass over slots visits the dead "
              "ones too): " + "; ".join(f"{k} {n:,} slots, {a:,} alive"
                                        for k, (n, a) in p["slots"].items()) + "."]
    return lines


def write(results: dict, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    m = results["machine"]
    lines = [f"# Benchmark results ({name})", "",
             f"Machine: {m['cpu_model']}, {m['cores']} cores ({m['caches']}), Python "
             f"{m['python']}, NumPy {m['numpy']}, Numba {m['numba']} ({m['numba_threads']} "
             f"threads), bispecific {m['bispecific']}. Command: `"
             + results.get("command", "python benchmarks/run.py"
                           + (" --quick" if results["quick"] else ""))
             + f"`. Load average at the start "
             f"{results['load_at_start']:.2f}, at the end {results['load_at_end']:.2f} "
             f"(quiet: below {QUIET_LOAD}).", "",
             "An agent-update is one agent (blast, T cell, normal cell or bound molecule) "
             "processed in one step. Populations are a 28 ug/day patch after a 2.5 h warm-up "
             "(~2.5 agents per voxel). Modes: 1 thread; `parallel = true` (the automatic "
             "thread policy, probing included); 2 threads forced (no policy). 'Spinners' are "
             "processes that keep a core busy, started and stopped by the benchmark.",
             "", "## Targets (issue 13)", "",
             "| measure | before | target | measured | |", "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in target_rows(results)]
    lines += ["", "## Kernel throughput, M agent-updates/s (x: over 1 thread, same load)", "",
              "| grid | agents | spinners | load before | 1 thread | parallel = true "
              "| 2 threads forced | ns/update (1 thread) | bytes/agent |",
              "|---|---|---|---|---|---|---|---|---|"]
    by_key: dict = {}
    for r in results["kernel"]:
        by_key.setdefault((r["grid"], r["spinners"]), {})[r["mode"]] = r
    for (grid, load), modes in by_key.items():
        s1, par, f2 = modes["serial"], modes["parallel"], modes["forced2"]
        lines.append(
            f"| {grid}^2 | {s1['agents']:,} | {load} | {s1['load_before']:.1f} "
            f"| {s1['updates_per_s'] / 1e6:.1f} "
            f"| {par['updates_per_s'] / 1e6:.1f} (x{par['vs_serial']:.2f}) "
            f"| {f2['updates_per_s'] / 1e6:.1f} (x{f2['vs_serial']:.2f}) "
            f"| {s1['ns_per_update']:.1f} | {s1['state_bytes_per_agent']:.1f} |")
    lines += _reading_the_rows(results)
    lines += ["", f"Fitted exponent of time per step against agents (1 thread, quiet): "
              f"{results['scaling_exponent']:.2f} (1.00 is linear)."]
    lines += ["", "## Where a serial step's time goes (us per step)", ""]
    phases = list(results["profile"][0]["phases_us"])
    lines += ["| grid | agents | step | " + " | ".join(phases) + " |",
              "|---" * (len(phases) + 3) + "|"]
    for r in results["profile"]:
        lines.append(f"| {r['grid']}^2 | {r['agents']:,} | {r['step_us']:.0f} | "
                     + " | ".join(f"{r['phases_us'].get(k, 0.0):.0f}" for k in phases) + " |")
    lines += ["", "What bounds two threads: the T-cell phase runs on one thread (T cells compete "
              "for blasts and voxels in slot order, docs/model.md s.5), and so do the few cells "
              "that act, the molecule events, the sort and the pool; a phase runs on threads "
              "only above a size (bispecific/engine/step.py, StepConfig.min_parallel_*), "
              "since waking a sleeping thread costs 10-70 us here. Amdahl's bound on 2 "
              "threads from the profile: "
              + "; ".join(_amdahl(r) for r in results["profile"]) + "."]
    lines += _limits(results)
    lines += _course_profile_lines(results)
    lines += ["", "## What was tried (issue 13)", "",
              "- Idle threads sleep (OMP_WAIT_POLICY=PASSIVE) instead of spinning: a region no "
              "longer waits a time slice for a descheduled spinner on a busy machine.",
              "- Threads chosen per step (bispecific/engine/threads.py): free cores from "
              "os.sched_getaffinity and the load, then kept only while measured faster "
              "(probes <= 2% of the run); cohort workers get cores // workers each.",
              "- Fewer, larger parallel regions: the blasts' and normal cells' draws fused into "
              "one pass over fixed chunks; binding in fixed blocks; each phase on threads only "
              "above a size, since waking a thread costs 10-70 us here.",
              "- Locality: molecules sorted by the cell that holds them at each compaction "
              "(whole-step effect in the table above); the neighbour look-up with one "
              "division instead of four; the T-cell pass prefetches each T cell's grid rows "
              "and partner 16 T cells ahead (bispecific/engine/kernels/prefetch.py; on one "
              "step's state, same result: -27% to -34% of the T-cell phase at 2048^2, "
              "measured while other work ran).",
              "- Not tried: T cells in tiles (a checkerboard would change which T cell wins a "
              "contested blast or voxel, docs/model.md s.5, so results would no longer match "
              "the serial rules); renumbering cells in space order (every molecule, partner "
              "and grid index would need remapping at each sort)."]
    su = results["start_up"]
    lines += ["", f"Compile (first call, empty cache): {su['compile_first_call_s']:.1f} s; "
              f"cached start-up: {su['cached_start_up_s']:.1f} s.", "",
              "## Kernel, idiomatic Mesa and reference, same rules and sizes", "",
              "| grid | agents | kernel M/s | idiomatic Mesa M/s | reference M/s "
              "| kernel / Mesa | kernel / reference |", "|---|---|---|---|---|---|---|"]
    for r in results["implementations"]:
        lines.append(f"| {r['grid']}^2 | {r['agents']:,} | {r['kernel_updates_per_s'] / 1e6:.1f} "
                     f"| {r['mesa_updates_per_s'] / 1e6:.3f} "
                     f"| {r['reference_updates_per_s'] / 1e6:.3f} "
                     f"| {r['kernel_over_mesa']:,.0f}x | {r['kernel_over_reference']:,.0f}x |")
    lines += ["", "## End to end", ""]
    for e in results["end_to_end"]:
        lines.append(f"- `{e['scenario']}`: {e['wall_s']:.1f} s wall, process start-up "
                     f"included (model {e['model_wall_s']:.1f} s)")
    lines += ["", "## Cohort throughput (scenarios/cohort_tower.toml, 64^2 patches)", "",
              "| workers | spinners | runs | days per run | wall s | patient-runs per minute "
              "| 2 workers / 1 |", "|---|---|---|---|---|---|---|"]
    for r in results["cohort"]:
        lines.append(f"| {r['workers']} | {r['spinners']} | {r['runs']} | {r['days']:g} "
                     f"| {r['wall_s']:.1f} | {r['runs_per_min']:.1f} | "
                     + (f"{r['speedup']:.2f}x |" if "speedup" in r else "- |"))
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    scaling_plot(results, RESULTS / f"{name}_scaling.png")
    print("\n".join(lines))


def _reading_the_rows(results: dict) -> list[str]:
    """What the kernel table can and cannot resolve: its noise floor beside spinners, and
    what `parallel = true` includes."""
    small = _same_code_rows(results)
    lines = [""]
    if small:
        low = min(r["vs_serial"] for r in small)
        high = max(r["vs_serial"] for r in small)
        grids = sorted({r["grid"] for r in small})
        lines.append(
            "Noise floor: at " + " and ".join(f"{g}^2" for g in grids) + " no phase is large "
            "enough to run on threads (bispecific/engine/step.py, "
            "StepConfig.min_parallel_*), so all three modes run the same serial code; "
            "beside spinners they still measured "
            f"x{low:.2f} to x{high:.2f}. Differences of that size in the busy rows are the "
            "scheduler's, not the kernel's.")
    lines.append(
        "`parallel = true` includes the policy's own decisions: it starts on one thread when "
        "the load average (which counts this benchmark's own busy process) shows fewer than "
        "1.5 free cores, probes the other count after 8 steps, and keeps the faster. These "
        "rows are 24 to 1000 steps long, so a start on the wrong count (about 13 steps) weighs "
        "on the large patches' rows; in a 28-day run's 40,320 steps it is 0.03%.")
    return lines


def _same_code_rows(results: dict) -> list[dict]:
    """Busy rows whose patch is below every PARALLEL_MIN_* size: there no phase runs on
    threads, so all three modes run the same serial code, and their spread is the
    measurement's own noise."""
    return [r for r in results["kernel"] if r["spinners"] and r["mode"] != "serial"
            and r["agents"] < engine_step.PARALLEL_MIN_MOLECULES]


def _noise_floor_note(results: dict) -> str:
    small = [r["vs_serial"] for r in _same_code_rows(results)]
    if not small:
        return ""
    return (f" Beside spinners, identical serial code measured x{min(small):.2f} to "
            f"x{max(small):.2f} of itself (the noise floor in `full.md`).")


def _limits(results: dict) -> list[str]:
    """The sort's payoff over the whole step, and the memory figures the out-of-cache cost
    is set against."""
    lines = ["", "## Sorting the molecules by cell: the whole step, one thread", "",
             "The same patch run with the sort (what the model does) and with the order-keeping "
             "compaction it replaced, taking turns; every step timed, compactions included "
             "(the two runs draw differently once slots differ, with the same rules).", "",
             "| grid | agents | steps | sorted, ns/update | order kept, ns/update | gain "
             "| compactions |", "|---|---|---|---|---|---|---|"]
    for r in results.get("sort_payoff", []):
        lines.append(f"| {r['grid']}^2 | {r['agents']:,} | {r['steps']} "
                     f"| {r['sorted_ns_per_update']:.1f} | {r['kept_order_ns_per_update']:.1f} "
                     f"| {r['gain']:.2f}x | {r['sorted_compactions']} |")
    mem = results.get("memory")
    if mem:
        serial = _rows(results, "serial", 0)
        big = serial[-1]
        streamed = big["updates_per_s"] * big["state_bytes_per_agent"] / 1e9
        lines += ["", "## Memory and cores: what bounds the cost out of cache and on threads",
                  "",
                  "- Two threads on a loop with no memory traffic and nothing shared (the most "
                  "any kernel could gain from a second core at the time): "
                  f"{mem.get('compute_2_threads_speedup', math.nan):.2f}x.",
                  f"- Streaming (triad, 3 x 128 MiB): {mem['triad_1_thread_gb_s']:.1f} GB/s on "
                  f"one thread, {mem['triad_2_threads_gb_s']:.1f} GB/s on two.",
                  f"- A random read: {mem['random_read_in_cache_ns']:.2f} ns in cache, "
                  f"{mem['random_read_64mib_ns']:.2f} ns into 64 MiB "
                  f"({mem['random_read_64mib_ns'] / mem['random_read_in_cache_ns']:.1f}x).",
                  f"- At {big['grid']}^2 ({big['agents']:,} agents) one thread makes "
                  f"{big['updates_per_s'] / 1e6:.0f} M updates/s; reading the whole state "
                  f"({big['state_bytes_per_agent']:.0f} B/agent) once per update would be "
                  f"{streamed:.1f} GB/s, {streamed / mem['triad_1_thread_gb_s'] * 100:.0f}% of "
                  "the streaming rate: what grows out of cache is the cost of scattered reads, "
                  "not the volume read."]
        profile = results.get("profile", [])
        if len(profile) >= 2:
            small, large = profile[0], profile[-1]
            growth = [(k, (large["phases_us"][k] / large["agents"])
                       / (small["phases_us"][k] / small["agents"]))
                      for k in large["phases_us"] if small["phases_us"].get(k, 0.0) > 0.0]
            lines.append(f"- Cost per agent at {large['grid']}^2 over {small['grid']}^2, by "
                         "phase (the profile above): " + ", ".join(
                             f"{k} {g:.1f}x" for k, g in growth) + ".")
    return lines


SERIAL_PHASES = ("set-up", "T cells", "cells acting", "molecule events", "sort",
                 "pool and production")


def _amdahl(profile: dict) -> str:
    phases = profile["phases_us"]
    total = sum(phases.values())
    serial = sum(phases.get(k, 0.0) for k in SERIAL_PHASES) / total
    return (f"{profile['grid']}^2: {serial * 100:.0f}% of the step on one thread (T cells "
            f"{phases.get('T cells', 0.0) / total * 100:.0f}%), at most "
            f"{1.0 / (serial + (1.0 - serial) / 2.0):.2f}x")


def readme_section(results: dict) -> str:
    """The Performance section (docs/benchmarks.md), from a full run's results."""
    quiet = {(r["grid"], r["mode"]): r for r in results["kernel"] if r["spinners"] == 0}
    busy = {(r["grid"], r["spinners"], r["mode"]): r for r in results["kernel"]
            if r["spinners"]}
    grids = sorted({r["grid"] for r in results["kernel"] if r["grid"] >= 128})
    lines = ["## Performance", "",
             f"Measured with `{results.get('command', 'python benchmarks/run.py')}` on this "
             "project's 2-core reference "
             f"machine ({results['machine']['cpu_model']}; load average "
             f"{results['load_at_start']:.1f} at the start). The full report is "
             "`benchmarks/results/full.md`, with `full_scaling.png`; `--quick` takes under 2 "
             "minutes. This section is written by the full run (`--readme` rewrites it from "
             "`full.json`).", "",
             "| patch | agents | 1 thread, M agent-updates/s | parallel = true, quiet "
             "| 1 core busy | 2 cores busy |", "|---|---|---|---|---|---|"]
    for g in grids:
        s1, par = quiet[(g, "serial")], quiet[(g, "parallel")]
        cells = [f"{busy[(g, n, 'parallel')]['vs_serial']:.2f}x" for n in (1, 2)]
        lines.append(f"| {g}^2 | {s1['agents'] / 1e6:.2g} M | {s1['updates_per_s'] / 1e6:.0f} "
                     f"| {par['updates_per_s'] / 1e6:.0f} ({par['vs_serial']:.2f}x) "
                     f"| {cells[0]} | {cells[1]} |")
    lines += ["", "The last two columns are `parallel = true` against one thread with one or "
              "two other processes keeping cores busy. Threads are chosen per step "
              "(`bispecific/engine/threads.py`): by patch size and free cores, then by "
              "measuring steps with one thread and with all; results are bit-identical for any "
              "number. `NUMBA_NUM_THREADS` forces a count, `parallel = false` one thread. How "
              "the step is cut for threads: `docs/performance.md`.", ""]
    e2e = results["end_to_end"]
    lines.append(f"- The approved 4-week regimen runs in {e2e[0]['wall_s']:.1f} s end to end "
                 "on the default patch, start-up included"
                 + (f", and in {e2e[1]['wall_s']:.0f} s on a 1024^2 patch with "
                    "`parallel = true`" + (f" (its first {e2e[1]['days']:g} days only)."
                                           if e2e[1].get("days", 28.0) < 28.0 else ".")
                    if len(e2e) > 1 else "."))
    su = results["start_up"]
    lines.append(f"- A cold kernel compile takes {su['compile_first_call_s']:.1f} s once; "
                 f"after that, start-up is {su['cached_start_up_s']:.1f} s.")
    impl = results["implementations"]
    lines.append(f"- The same rules written as an idiomatic Mesa 3 model run at "
                 f"{min(r['mesa_updates_per_s'] for r in impl) / 1e6:.1f}-"
                 f"{max(r['mesa_updates_per_s'] for r in impl) / 1e6:.1f} M agent-updates/s, "
                 f"{min(r['kernel_over_mesa'] for r in impl):,.0f}x to "
                 f"{max(r['kernel_over_mesa'] for r in impl):,.0f}x slower.")
    cohort = {(r["workers"], r["spinners"]): r for r in results["cohort"]}
    lines.append(f"- Cohorts: 2 workers give {cohort[(2, 0)]['speedup']:.2f}x the runs per "
                 f"minute of one, {cohort[(2, 1)]['speedup']:.2f}x with a core busy; workers "
                 "share the cores (workers x threads <= cores).")
    mem = results.get("memory", {})
    if "compute_2_threads_speedup" in mem:
        gain = mem["compute_2_threads_speedup"]
        state = ("the cores were free" if gain >= 1.8 else
                 f"other work held the cores; load average {results['load_at_start']:.1f}")
        lines.append(f"- During this run two threads gained {gain:.2f}x "
                     "on a loop with no memory traffic: the ceiling for any threaded speed-up "
                     f"on the machine as it was ({state}).")
    profile = results.get("profile", [])
    forced = [r for r in results["kernel"] if r["mode"] == "forced2" and not r["spinners"]]
    if profile and forced:
        top = max(forced, key=lambda r: r["grid"])
        lines.append(f"- Two threads forced gain {top['vs_serial']:.2f}x at {top['grid']}^2, "
                     "against Amdahl's bound from the step's serial share, "
                     + "; ".join(_amdahl(r) for r in profile if r["grid"] == top["grid"])
                     + ": the T-cell phase, serial by the model's rules (docs/model.md s.5), "
                     "is what caps threads." + _noise_floor_note(results))
    missed = [r for r in target_rows(results) if r[4] == "NOT met"]
    if missed:
        lines.append("- Targets missed (issue 13; limits and what was tried in "
                     "`benchmarks/results/full.md`):")
        lines += [f"    - {r[0]}: {r[3]} against {r[2]};" for r in missed]
    return "\n".join(lines) + "\n"


def write_readme(results: dict) -> None:
    """Rewrite the Performance page's generated region (docs/benchmarks.md) from `results`.

    `python docs/quoted_numbers.py` writes the same region, and the README's run time, from
    full.json.
    """
    path = ROOT / "docs" / "benchmarks.md"
    body = readme_section(results).split("\n", 1)[1].strip("\n")  # the page has its title
    new = re.sub(r"(<!-- generated:performance -->\n).*?(<!-- /generated -->)",
                 lambda m: f"{m[1]}\n{body}\n\n{m[2]}", path.read_text(), count=1, flags=re.S)
    path.write_text(new)


def scaling_plot(results: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.subplots()
    for mode, load, label, style in (("serial", 0, "1 thread", "o-"),
                                     ("parallel", 0, "parallel = true, quiet", "s-"),
                                     ("parallel", 2, "parallel = true, 2 cores busy", "^--"),
                                     ("forced2", 2, "2 threads forced, 2 cores busy", "v:")):
        rows = _rows(results, mode, load)
        ax.loglog([r["agents"] for r in rows], [r["ns_per_update"] for r in rows], style,
                  label=label)
    impl = results["implementations"]
    ax.loglog([r["mesa_agents"] for r in impl], [1e9 / r["mesa_updates_per_s"] for r in impl],
              "x-", label="idiomatic Mesa")
    ax.axhline(10.0, color="grey", ls="--", lw=1)
    ax.text(1e3, 11, "100 M/s", color="grey", fontsize=8)
    ax.set_xlabel("agents")
    ax.set_ylabel("ns per agent-update (wall)")
    ax.set_title("Cost per agent-update against population size", loc="left")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
