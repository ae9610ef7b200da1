"""Running a virtual cohort: every patient x arm, on local worker processes or a Dask cluster.

Nothing is lost: each patient x arm result is saved (atomically) as it finishes, under
`OUT/tasks/`. Running the same command again runs only what is missing and ends with the
same files. Each run's seed derives from the cohort seed and the patient's index, so results
are identical patient by patient whatever the number of workers or the engine.
A run that raises is recorded in `failures.csv`; the rest of the cohort completes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..outputs.files import atomic_write_text
from ..scenario import Scenario
from .spec import Cohort, patient_scenario

TASKS = "tasks"
# Summary fields that differ between identical runs (timing) stay out of the result files.
UNSTABLE = ("wall_time_s",)


@dataclass(frozen=True)
class Task:
    patient: int
    arm: str
    scenario: Scenario

    @property
    def id(self) -> str:
        return f"p{self.patient:06d}__{self.arm}"


def run_task(scenario: Scenario) -> dict[str, Any]:
    """Run one patient x arm in a worker; errors come back as data, never as a crash."""
    from ..simulation.run import run_scenario

    try:
        summary = run_scenario(scenario).summary
        return {"ok": True, "summary": summary}
    except Exception as exc:  # a failing patient must not stop the cohort
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=5)}


class WorkerLost(RuntimeError):
    """A worker process died mid-run (killed, out of memory); finished results are kept."""


class CohortRun:
    """One cohort's output folder: what is done, what is missing, and the final tables."""

    def __init__(self, cohort: Cohort, out_dir: str | Path) -> None:
        self.cohort = cohort
        self.out = Path(out_dir)
        self.tasks_dir = self.out / TASKS
        self.patients = cohort.sample_patients()
        self.tasks: list[Task] = []
        self._bad_patients: dict[int, str] = {}
        for p in self.patients:
            for arm in cohort.arms:
                try:
                    scenario = patient_scenario(arm, p, cohort.run_seed(int(p["patient"])))
                except Exception as exc:  # a covariate draw outside the model's range
                    self._bad_patients[int(p["patient"])] = str(exc)
                    scenario = None
                self.tasks.append(Task(int(p["patient"]), arm.name, scenario))

    def prepare(self) -> None:
        self.tasks_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.out / "patients.csv",
                          pd.DataFrame(self.patients).to_csv(index=False))
        for task in self.tasks:  # invalid patients fail at once, recorded like run errors
            if task.scenario is None:
                self.save(task, {"ok": False, "error": f"ScenarioError: "
                                 f"{self._bad_patients[task.patient]}", "traceback": ""})

    def result_path(self, task: Task) -> Path:
        return self.tasks_dir / f"{task.id}.json"

    def failure_path(self, task: Task) -> Path:
        return self.tasks_dir / f"{task.id}.failed.json"

    def missing(self) -> list[Task]:
        """Tasks with no saved result; failures are tried again."""
        return [t for t in self.tasks
                if t.scenario is not None and not self.result_path(t).exists()]

    def save(self, task: Task, outcome: dict[str, Any]) -> None:
        if outcome["ok"]:
            record = {"patient": task.patient, "arm": task.arm}
            record.update({k: v for k, v in outcome["summary"].items() if k not in UNSTABLE})
            atomic_write_text(self.result_path(task), json.dumps(record, indent=1) + "\n")
            self.failure_path(task).unlink(missing_ok=True)
        else:
            atomic_write_text(self.failure_path(task), json.dumps(
                {"patient": task.patient, "arm": task.arm, "error": outcome["error"],
                 "traceback": outcome["traceback"]}, indent=1) + "\n")

    def finish(self, wall_time_s: float, engine: str) -> dict[str, Path]:
        """Write results.csv, failures.csv, arms.csv, cohort.png and cohort.json."""
        from ..outputs.figures import cohort_figure
        from .stats import arm_table

        results = [json.loads(self.result_path(t).read_text()) for t in self.tasks
                   if self.result_path(t).exists()]
        arm_order = {a.name: i for i, a in enumerate(self.cohort.arms)}
        results.sort(key=lambda r: (r["patient"], arm_order[r["arm"]]))
        table = pd.DataFrame(results)
        failures = [json.loads(self.failure_path(t).read_text()) for t in self.tasks
                    if self.failure_path(t).exists()]
        failures.sort(key=lambda r: (r["patient"], arm_order[r["arm"]]))
        paths = {"results": self.out / "results.csv", "failures": self.out / "failures.csv",
                 "arms": self.out / "arms.csv"}
        atomic_write_text(paths["results"], table.to_csv(index=False))
        atomic_write_text(paths["failures"], pd.DataFrame(
            failures, columns=["patient", "arm", "error"]).to_csv(index=False))
        arms = arm_table(table, [a.name for a in self.cohort.arms])
        atomic_write_text(paths["arms"], arms.to_csv(index=False))
        patients = pd.DataFrame(self.patients)
        paths["figure"] = cohort_figure(table, arms, patients, self.cohort.name,
                                        self.out / "cohort")
        info = {"cohort": self.cohort.name, "seed": self.cohort.seed,
                "patients": self.cohort.patients, "arms": [a.name for a in self.cohort.arms],
                "runs": len(self.tasks), "completed": len(results), "failed": len(failures),
                "engine": engine, "wall_time_s": round(wall_time_s, 2),
                "bispecific_version": __version__}
        paths["info"] = self.out / "cohort.json"
        atomic_write_text(paths["info"], json.dumps(info, indent=2) + "\n")
        return paths


def _local(tasks: list[Task], workers: int) -> Iterator[tuple[Task, dict[str, Any]]]:
    """Results as they finish, from `workers` local processes (spawned: Mesa's default).
    Each worker's patches use at most its share of the cores, so workers x threads never
    exceeds them (`NUMBA_NUM_THREADS`, where set, still decides)."""
    from ..engine.threads import limit_process_threads, worker_threads

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=limit_process_threads,
                             initargs=(worker_threads(workers),)) as pool:
        futures = {pool.submit(run_task, t.scenario): t for t in tasks}
        try:
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    raise WorkerLost("a worker process died (killed or out of memory); "
                                     "finished results are kept: run the same command "
                                     "again to continue") from None
                yield futures[future], outcome
        finally:
            for future in futures:
                future.cancel()


def _dask(tasks: list[Task], address: str) -> Iterator[tuple[Task, dict[str, Any]]]:
    """Results as they finish, from a Dask distributed cluster at `address`."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise RuntimeError("--scheduler needs the cluster extra: "
                           "pip install 'bispecific[cluster]'") from None
    with Client(address, timeout="30s") as client:
        futures = {client.submit(run_task, t.scenario, key=f"bispecific-{t.id}", pure=False): t
                   for t in tasks}
        try:
            for future in dask_completed(futures):
                yield futures[future], future.result()
        finally:
            client.cancel(list(futures))


def run_cohort(
    cohort: Cohort,
    out_dir: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop_after: int | None = None,
) -> dict[str, Path]:
    """Run every missing patient x arm, then write the cohort's tables and figure.

    Args:
        cohort: a validated cohort.
        out_dir: output folder; results already there are kept and not run again.
        workers: local worker processes (default: every core). Ignored with `scheduler`.
        scheduler: address of a Dask distributed scheduler (e.g. tcp://host:8786).
        progress: called as progress(done, total) after each finished run.
        stop_after: stop (as if interrupted) after this many runs; for testing resumption.
    """
    start = time.perf_counter()
    run = CohortRun(cohort, out_dir)
    run.prepare()
    todo = run.missing()
    total = len(run.tasks)
    done = total - len(todo)
    if progress is not None:
        progress(done, total)
    engine = f"dask {scheduler}" if scheduler else f"local, {workers or os.cpu_count()} workers"
    if todo:
        stream = _dask(todo, scheduler) if scheduler else _local(todo, workers or os.cpu_count())
        for finished, (task, outcome) in enumerate(stream, start=1):
            run.save(task, outcome)
            done += 1
            if progress is not None:
                progress(done, total)
            if stop_after is not None and finished >= stop_after:
                raise KeyboardInterrupt(f"stopped after {finished} runs")
    return run.finish(time.perf_counter() - start, engine)
