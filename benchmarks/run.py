"""Benchmarks of the kernel and the whole run, printed against the targets of issue 13.

    python benchmarks/run.py           # full run (about half an hour on 2 cores); also
                                       # rewrites docs/benchmarks.md's numbers
    python benchmarks/run.py --quick   # a few minutes
    python benchmarks/run.py --readme  # only rewrite docs/benchmarks.md from results/full.json
    python benchmarks/run.py --smoke   # every part of the full run at tiny sizes

Writes benchmarks/results/<name>.json and .md (and a scaling plot). Nothing here asserts a
time: the tables say which target is met and by how much.

Quick, full and smoke runs are one pipeline (`measure_all`) over a `Plan` of sizes and
lengths. The measurements are in benchmarks/measure.py, the writing in benchmarks/report.py.

Kernel throughput is measured at each patch size in three modes: one thread; `parallel =
true` (the automatic thread policy of bispecific/engine/core/threads.py, probing included); and
two threads forced (NUMBA_NUM_THREADS=2, no policy). Each is measured on the machine as it is
("quiet": the load average is recorded, and should be below 0.5), then with one and with
two spinning processes (`while True: pass`) that the benchmark starts and stops itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure as mz  # noqa: E402
from report import TARGETS, readme_section, write, write_readme  # noqa: E402

SCENARIOS = mz.ROOT / "scenarios"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one benchmark run measures, and at what sizes and lengths."""

    name: str
    implementations: list[int]  # patch sides for the kernel / reference / Mesa comparison
    kernel: list[int]  # patch sides of the throughput table
    rounds: int  # rounds per throughput measurement
    profile: list[int]  # patch sides of the phase profile
    profile_steps: int
    cohort_patients: int
    cohort_days: float
    course_days: float  # the course profile's days of continuous_4wk
    large: tuple[int, float] | None  # the approved regimen on a large patch: (side, days)
    five_courses: bool  # approved_5_courses.toml end to end
    start_up: bool  # first-call compile and cached start-up, in fresh processes


def plans(args: argparse.Namespace) -> dict[str, Plan]:
    return {
        "quick": Plan("quick", [16, 32], [64, 256], 3, [256], 20, 2, 3.0, 28.0, None, False,
                      True),
        "full": Plan("full", [16, 32, 64], [24, 64, 128, 256, 512, 1024, 2048], 4,
                     [256, 2048], 40, args.cohort_patients, args.cohort_days, 28.0,
                     (1024, args.large_days), True, True),
        "smoke": Plan("smoke", [16], [24, 64], 2, [64], 10, 1, 0.5, 0.25, (128, 1.0), False,
                      False),
    }


def measure_all(plan: Plan, command: str) -> dict:
    """Every measurement of the plan, in one dict (the results file)."""
    results: dict = {"machine": mz.machine(), "quick": plan.name != "full",
                     "targets": TARGETS, "load_at_start": mz.load_average(),
                     "command": command}
    mz.compile_all_kernels()
    print(f"load average at start: {results['load_at_start']:.2f}", flush=True)
    results["implementations"] = mz.implementations(plan.implementations)
    results["kernel"] = mz.kernel_sizes(plan.kernel, plan.name != "full", plan.rounds)
    quiet_serial = [r for r in results["kernel"] if r["mode"] == "serial" and not r["spinners"]]
    results["scaling_exponent"] = mz.fit_exponent(
        [r["agents"] for r in quiet_serial], [r["wall_s"] / r["steps"] for r in quiet_serial])
    results["profile"] = mz.phase_profile(plan.profile, plan.profile_steps)
    results["memory"] = mz.memory_figures()
    results["start_up"] = mz.start_up_times() if plan.start_up else {
        "compile_first_call_s": math.nan, "cached_start_up_s": math.nan}
    results["cohort"] = mz.cohort_throughput(plan.cohort_patients, plan.cohort_days)
    results["course_profile"] = mz.course_profile(plan.course_days)
    results["end_to_end"] = [mz.end_to_end(SCENARIOS / "continuous_4wk.toml", [])]
    if plan.five_courses:
        results["end_to_end"].append(mz.end_to_end(SCENARIOS / "approved_5_courses.toml", []))
    if plan.large is not None:
        side, days = plan.large
        results["end_to_end"].append(mz.end_to_end_large(side, days))
        if plan.name == "smoke":  # the full run's 1024^2 row, on a small patch
            results["end_to_end"][-1]["scenario"] = results["end_to_end"][-1][
                "scenario"].replace(str(side), f"1024 (smoke: {side})")
        else:
            results["large_run_agents"] = mz.large_run_agents(side)
    results["load_at_end"] = mz.load_average()
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
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
        write_readme(json.loads((mz.RESULTS / "full.json").read_text()))
        return 0
    if args.report:
        results = json.loads((mz.RESULTS / "full.json").read_text())
        write(results, "full")
        write_readme(results)
        return 0
    if args.flatness:
        # Sizes measured one after another compare only on a machine whose load holds still;
        # this measures the flatness target with the sizes taking turns, into full.json.
        results = json.loads((mz.RESULTS / "full.json").read_text())
        results["flatness"] = mz.flatness(128, 2048, 1000, 4, 6)  # equal work per turn
        results["command"] += f"; then {command}"
        write(results, "full")
        write_readme(results)
        return 0
    plan = plans(args)["smoke" if args.smoke else "quick" if args.quick else "full"]
    results = measure_all(plan, command)
    if plan.name == "smoke":  # the Performance section it would write is printed, not written
        write(results, "smoke")
        print(readme_section(results))
        return 0
    name = args.name or plan.name
    write(results, name)
    if name == "full":
        write_readme(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
