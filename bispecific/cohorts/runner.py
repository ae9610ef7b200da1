"""Running a virtual cohort: every patient x arm, on local worker processes or a Dask cluster.

Nothing is lost, nothing is mixed. Each patient x arm result is saved (atomically) as it
finishes, under `OUT/tasks/`, named by the key of everything that determines it
(`identity.task_key`); running the same command again runs only what is missing and ends with
the same files. A folder holding another cohort is refused before anything runs
(`folder.check_cohort_folder`). Each run's seed derives from the cohort seed and the
patient's index, so results are identical patient by patient whatever the number of workers
or the engine. A run that raises is recorded in `failures.csv`; the rest of the cohort
completes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..outputs.files import atomic_write_text
from ..scenario import Scenario, ScenarioError
from ..scenario.names import slug
from .engines import (
    ClusterLost,
    SchedulerError,
    Simulator,
    WorkerLost,
    open_engine,
    run_task,
)
from .folder import (
    MANIFEST,
    TASKS,
    check_cohort_folder,
    locked_run,
    mark_finished,
    write_manifest,
)
from .identity import task_key
from .spec import Cohort, patient_scenario

__all__ = ["ClusterLost", "CohortRun", "SchedulerError", "Task", "TaskStore", "WorkerLost",
           "plan", "run_cohort", "run_task", "run_tasks"]


@dataclass(frozen=True)
class Task:
    patient: int
    arm: str
    scenario: Scenario
    key: str

    @property
    def id(self) -> str:
        """The task's file name: readable, and unique to what it computes."""
        return f"p{self.patient:06d}__{slug(self.arm)}__{self.key[:16]}"


@dataclass(frozen=True)
class InvalidDraw:
    """A patient whose covariates fall outside the model's ranges in an arm: never run."""

    patient: int
    arm: str
    error: str


def plan(cohort: Cohort,
         patients: list[dict[str, float]] | None = None) -> tuple[list[Task], list[InvalidDraw]]:
    """Every patient x arm of the cohort: the runnable tasks, and the draws that fall outside
    the model's ranges (recorded as failures, never run). Raises ScenarioError when no
    patient can be run at all: that is a cohort file to fix, not a result."""
    tasks: list[Task] = []
    invalid: list[InvalidDraw] = []
    for p in patients if patients is not None else cohort.sample_patients():
        index = int(p["patient"])
        for arm in cohort.arms:
            try:
                scenario = patient_scenario(arm, p, cohort.run_seed(index))
            except ScenarioError as exc:  # a covariate draw outside the model's range
                invalid.append(InvalidDraw(index, arm.name, str(exc)))
                continue
            tasks.append(Task(index, arm.name, scenario, task_key(scenario)))
    if not tasks:
        raise ScenarioError(
            f"{cohort.source}: no patient can be run: all {len(invalid)} covariate draws "
            f"fall outside the model's ranges (first: {invalid[0].error}); narrow the "
            "distributions or clip them")
    return tasks, invalid


class TaskStore:
    """A folder of finished tasks, one file each, named by the task: what is done, what is
    missing. A record is used only by a task of the same key, so a store can be shared by
    anything that computes tasks (a cohort, an analysis) without mixing results."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def result_path(self, task: Task) -> Path:
        return self.folder / f"{task.id}.json"

    def failure_path(self, task: Task) -> Path:
        return self.folder / f"{task.id}.failed.json"

    def _load(self, path: Path, task: Task) -> dict[str, Any] | None:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if record.get("key") == task.key else None

    def result(self, task: Task) -> dict[str, Any] | None:
        """The saved result of `task` (with its key), or None."""
        return self._load(self.result_path(task), task)

    def failure(self, task: Task) -> dict[str, Any] | None:
        """The saved failure of `task`, or None."""
        return self._load(self.failure_path(task), task)

    def missing(self, tasks: Sequence[Task]) -> list[Task]:
        """Tasks with no saved result, each once; failures are tried again."""
        seen: set[str] = set()
        todo = []
        for t in tasks:
            if t.id not in seen and self.result(t) is None:
                seen.add(t.id)
                todo.append(t)
        return todo

    def save(self, task: Task, outcome: dict[str, Any]) -> None:
        record = {"patient": task.patient, "arm": task.arm}
        if outcome["ok"]:
            record.update(outcome["summary"])
            record["key"] = task.key
            atomic_write_text(self.result_path(task), json.dumps(record, indent=1) + "\n")
            self.failure_path(task).unlink(missing_ok=True)
        else:
            record.update(error=outcome["error"], traceback=outcome["traceback"], key=task.key)
            atomic_write_text(self.failure_path(task), json.dumps(record, indent=1) + "\n")


def run_tasks(engine: Any, store: TaskStore, tasks: Sequence[Task],
              on_finished: Callable[[], None] | None = None,
              stop_after: int | None = None) -> int:
    """Run the `tasks` that `store` lacks on an entered engine, saving each as it finishes;
    returns how many ran. `on_finished` is called after each. `stop_after` stops (as if
    interrupted) once that many have run, for testing resumption."""
    finished = 0
    for task, outcome in engine.run(store.missing(tasks)):
        if outcome.get("interrupted"):
            raise KeyboardInterrupt("a worker was interrupted")
        store.save(task, outcome)
        finished += 1
        if on_finished is not None:
            on_finished()
        if stop_after is not None and finished >= stop_after:
            raise KeyboardInterrupt(f"stopped after {finished} runs")
    return finished


class CohortRun:
    """One cohort's output folder: what is done, what is missing, and the final tables."""

    def __init__(self, cohort: Cohort, out_dir: str | Path) -> None:
        self.cohort = cohort
        self.out = Path(out_dir)
        self.tasks_dir = self.out / TASKS
        self.store = TaskStore(self.tasks_dir)
        self.patients = cohort.sample_patients()
        self.tasks, self.invalid = plan(cohort, self.patients)

    @property
    def runs(self) -> int:
        return len(self.tasks) + len(self.invalid)

    def prepare(self, fresh: bool = False) -> None:
        write_manifest(self.out, self.cohort, self.patients, fresh)

    def result_path(self, task: Task) -> Path:
        return self.store.result_path(task)

    def failure_path(self, task: Task) -> Path:
        return self.store.failure_path(task)

    def missing(self) -> list[Task]:
        """Tasks with no saved result; failures are tried again."""
        return self.store.missing(self.tasks)

    def save(self, task: Task, outcome: dict[str, Any]) -> None:
        self.store.save(task, outcome)

    def finish(self, wall_time_s: float, engine: str) -> dict[str, Path]:
        """Write results.csv, failures.csv, arms.csv, cohort.png, population.png (the drawn
        covariates, where two or more vary), timing.json, and cohort.json (last) with the
        counts of runs."""
        from ..outputs.figures import cohort_figure, population_figure
        from ..outputs.tables import write_parquet
        from .stats import arm_table

        arm_order = {a.name: i for i, a in enumerate(self.cohort.arms)}
        results, failures = [], []
        for t in self.tasks:
            result = self.store.result(t)
            if result is not None:
                result.pop("key")
                results.append(result)
                continue
            failure = self.store.failure(t)
            if failure is not None:
                failures.append(failure)
        failures += [{"patient": d.patient, "arm": d.arm, "error": f"ScenarioError: {d.error}"}
                     for d in self.invalid]
        results.sort(key=lambda r: (r["patient"], arm_order[r["arm"]]))
        failures.sort(key=lambda r: (r["patient"], arm_order[r["arm"]]))
        table = pd.DataFrame(results)
        paths = {"results": self.out / "results.csv", "failures": self.out / "failures.csv",
                 "arms": self.out / "arms.csv"}
        atomic_write_text(paths["results"], table.to_csv(index=False))
        atomic_write_text(paths["failures"], pd.DataFrame(
            failures, columns=["patient", "arm", "error"]).to_csv(index=False))
        arms = arm_table(table, [a.name for a in self.cohort.arms])
        atomic_write_text(paths["arms"], arms.to_csv(index=False))
        for name, frame in (("results", table), ("arms", arms),
                            ("patients", pd.DataFrame(self.patients))):
            if write_parquet(frame, self.out / f"{name}.parquet"):  # with pyarrow only
                paths[f"{name}_parquet"] = self.out / f"{name}.parquet"
        paths["figure"] = cohort_figure(table, arms, pd.DataFrame(self.patients),
                                        self.cohort.name, self.out / "cohort")
        population = population_figure(pd.DataFrame(self.patients), self.cohort.name,
                                       self.out / "population")
        if population is not None:
            paths["population"] = population
        paths["timing"] = self.out / "timing.json"
        atomic_write_text(paths["timing"], json.dumps(
            {"wall_time_s": round(wall_time_s, 2), "engine": engine,
             "bispecific_version": __version__}, indent=2) + "\n")
        paths["info"] = mark_finished(self.out, {"runs": self.runs, "completed": len(results),
                                                 "failed": len(failures)})
        return paths


def run_cohort(
    cohort: Cohort,
    out_dir: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop_after: int | None = None,
    fresh: bool = False,
    connect_timeout_s: float = 30.0,
    verbose: bool = False,
    simulate: Simulator | None = None,
) -> dict[str, Path]:
    """Run every missing patient x arm, then write the cohort's tables and figure.

    Everything that can be refused is refused before anything is written: a cohort with no
    runnable patient (ScenarioError), a folder holding other files or another cohort
    (`folder.CohortFolderError`, a `FolderError`), a scheduler that cannot be reached
    (SchedulerError). `cohort.json` in the result counts runs completed and failed.

    Args:
        cohort: a validated cohort.
        out_dir: output folder; results of the same cohort already there are kept and not
            run again.
        workers: local worker processes (default: every core this process may run on).
            Ignored with `scheduler`.
        scheduler: address of a Dask distributed scheduler (e.g. tcp://host:8786).
        progress: called as progress(done, total) after each finished run.
        stop_after: stop (as if interrupted) after this many runs; for testing resumption.
        fresh: replace a folder that holds another cohort instead of refusing it.
        connect_timeout_s: how long to try to reach the scheduler.
        verbose: let what `distributed` logs reach the screen (it is kept off otherwise).
        simulate: a cheap stand-in for the model, on exactly the same path (tests).

    A cohort with `[survival]` also writes its survival analysis once the runs are done
    (`survival.write_survival`: events.csv, survival.csv, survival.png), which needs
    lifelines (the `trial` extra).
    """
    start = time.perf_counter()
    run = CohortRun(cohort, out_dir)
    check_cohort_folder(run.out, cohort, fresh)
    engine = open_engine(workers, scheduler, connect_timeout_s, simulate, verbose=verbose)
    done = 0

    def finished() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, run.runs)

    def work() -> None:
        nonlocal done
        done = run.runs - len(run.missing())
        if progress is not None:
            progress(done, run.runs)
        run_tasks(engine, run.store, run.tasks, finished, stop_after)

    paths = locked_run(run.out, MANIFEST, engine, lambda: run.prepare(fresh), work,
                       lambda: run.finish(time.perf_counter() - start, engine.description))
    plan = cohort.survival
    if plan is not None and not pd.read_csv(paths["results"]).empty:
        from .survival import write_survival

        written = write_survival(run.out, plan.reference, allocation=plan.allocation)
        paths.update(events=written["events"], survival=written["survival"],
                     survival_figure=written["figure"])
    return paths
