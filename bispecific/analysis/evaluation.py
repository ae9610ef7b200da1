"""The evaluation engine: candidate inputs over one virtual cohort, with common random numbers.

A candidate changes the cohort's base arm: values of scenario keys (model parameters, PK,
cytokines, CRS, patient), its dosing, or both. Every candidate runs on the same virtual
patients with the same seeds (common random numbers), so that the differences between
candidates are the candidates' and not the dice's. Replicate r > 0 runs every patient with
another seed (`Cohort.run_seed`): the spread between replicates is simulation noise.

Nothing of the cohort runner is re-implemented here. Each patient x candidate is a
`cohorts.runner.Task`, saved in a `TaskStore` under the key of its resolved scenario (and of
the simulator, when a stand-in computes it) and run by `run_tasks` on the cohort engines
(local workers or Dask). So an evaluation keeps a cohort's guarantees: every result is saved
as it finishes, a rerun runs only what is missing, and results are identical whatever ran
them. Two candidates that resolve to the same scenario share one result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..cohorts.engines import Simulator, open_engine
from ..cohorts.identity import task_key
from ..cohorts.runner import Task, TaskStore, run_tasks
from ..cohorts.spec import Arm, Cohort, patient_scenario
from ..scenario import ScenarioError, scenario_from_dict
from .readouts import READOUTS, cohort_readouts

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Candidate:
    """One input to evaluate on the cohort's arm `arm` (default: the first).

    `values` are (table, key, value) triples set in the arm's scenario, e.g.
    ("parameters", "kill_probability", 0.6); `doses`, when given, replaces its [[dose]]
    tables (interruptions stay)."""

    id: str
    values: tuple[tuple[str, str, float], ...] = ()
    doses: tuple[dict[str, Any], ...] | None = None
    arm: str | None = None


def simulator_name(simulate: Simulator | None) -> str | None:
    """What computes the runs, for their keys: None for the model, else the function's
    import path (a stand-in's results never mix with the model's)."""
    if simulate is None:
        return None
    return f"{simulate.__module__}.{simulate.__qualname__}"


class Evaluation:
    """Candidates over one cohort, their runs kept in a task store.

    `tasks` says what a candidate needs, `run` computes what the store lacks on an entered
    engine, and `runs` / `readouts` read the results back in patient order (never in the
    order they finished, so tables are identical whatever ran them)."""

    def __init__(self, cohort: Cohort, store: TaskStore,
                 simulate: Simulator | None = None) -> None:
        self.cohort = cohort
        self.store = store
        self.simulate = simulate
        self.simulator = simulator_name(simulate)
        self.patients = cohort.sample_patients()
        self.arms = {a.name: a for a in cohort.arms}
        self.ran = 0  # runs computed by this object (for stop_after)
        self._tasks: dict[tuple[str, int], list[Task]] = {}
        self._invalid: dict[tuple[str, int], list[dict[str, Any]]] = {}

    def arm(self, candidate: Candidate) -> Arm:
        """The candidate's arm: the base arm with its values and doses applied, validated
        (ScenarioError for a candidate the model cannot run)."""
        base = self.arms[candidate.arm or self.cohort.arms[0].name]
        if not candidate.values and candidate.doses is None:
            return base
        data = base.scenario.to_dict()
        for table, key, value in candidate.values:
            data.setdefault(table, {})[key] = value
        if candidate.doses is not None:
            data["dose"] = [dict(d) for d in candidate.doses]
        return Arm(base.name, scenario_from_dict(data, f"candidate {candidate.id}"))

    def tasks(self, candidate: Candidate, replicate: int = 0) -> list[Task]:
        """One task per patient whose scenario is valid; the others are recorded in
        `failures` and never run."""
        slot = (candidate.id, replicate)
        if slot in self._tasks:
            return self._tasks[slot]
        tasks, invalid = [], []
        try:
            arm: Arm | None = self.arm(candidate)
        except ScenarioError as exc:
            arm, problem = None, str(exc)
        for p in self.patients:
            index = int(p["patient"])
            if arm is None:
                invalid.append({"patient": index, "error": f"ScenarioError: {problem}"})
                continue
            try:
                scenario = patient_scenario(arm, p, self.cohort.run_seed(index, replicate))
            except ScenarioError as exc:  # a covariate draw outside the model's range
                invalid.append({"patient": index, "error": f"ScenarioError: {exc}"})
                continue
            tasks.append(Task(index, arm.name, scenario, task_key(scenario, self.simulator)))
        self._tasks[slot], self._invalid[slot] = tasks, invalid
        return tasks

    def missing(self, requests: Sequence[tuple[Candidate, int]]) -> list[Task]:
        return self.store.missing([t for c, r in requests for t in self.tasks(c, r)])

    def run(self, engine: Any, requests: Sequence[tuple[Candidate, int]],
            progress: Progress | None = None, stop_after: int | None = None) -> int:
        """Run what the store lacks for (candidate, replicate) `requests` on an entered
        engine; returns how many ran. `progress(done, total)` counts distinct runs.
        `stop_after` stops (as if interrupted) once this object has run that many, for
        testing resumption."""
        every = {t.id for c, r in requests for t in self.tasks(c, r)}
        todo = self.missing(requests)
        done = len(every) - len(todo)
        if progress is not None:
            progress(done, len(every))
        if not todo:
            return 0
        left = None if stop_after is None else stop_after - self.ran
        if left is not None and left <= 0:
            raise KeyboardInterrupt(f"stopped after {self.ran} runs")

        def finished() -> None:
            nonlocal done
            done += 1
            self.ran += 1
            if progress is not None:
                progress(done, len(every))

        return run_tasks(engine, self.store, todo, finished, left)

    def runs(self, candidate: Candidate, replicate: int = 0) -> pd.DataFrame:
        """The candidate's finished runs, one row per patient (the run summary)."""
        rows = []
        for t in self.tasks(candidate, replicate):
            result = self.store.result(t)
            if result is not None:
                result.pop("key", None)
                rows.append({"candidate": candidate.id, "replicate": replicate, **result})
        return pd.DataFrame(rows)

    def failures(self, candidate: Candidate, replicate: int = 0) -> list[dict[str, Any]]:
        """Runs of the candidate that failed or could not be made, with their error."""
        out = [{"candidate": candidate.id, "replicate": replicate, **f}
               for f in self._invalid.get((candidate.id, replicate), [])]
        for t in self.tasks(candidate, replicate):
            if self.store.result(t) is None:
                failure = self.store.failure(t)
                error = failure["error"] if failure is not None else "not run"
                out.append({"candidate": candidate.id, "replicate": replicate,
                            "patient": t.patient, "error": error})
        return sorted(out, key=lambda f: f["patient"])

    def readouts(self, candidate: Candidate, replicate: int = 0,
                 names: tuple[str, ...] = tuple(READOUTS)) -> dict[str, Any]:
        """The candidate's cohort readouts, and over how many patients they were taken."""
        runs = self.runs(candidate, replicate)
        return {"candidate": candidate.id, "replicate": replicate, "patients": len(runs),
                **cohort_readouts(runs, names)}


def evaluate(cohort: Cohort, candidates: Sequence[Candidate], tasks_dir: str | Path,
             replicates: int = 1, workers: int | None = None, scheduler: str | None = None,
             simulate: Simulator | None = None, progress: Progress | None = None,
             stop_after: int | None = None, connect_timeout_s: float = 30.0) -> pd.DataFrame:
    """Evaluate `candidates` over `cohort` (each with `replicates` seed sets), keeping every
    run in `tasks_dir`; one row per candidate x replicate with its readouts.

    The library face of the engine that `bispecific sensitivity` and `bispecific optimise`
    stand on: run it again after an interruption and only the missing runs are computed.
    `simulate` replaces the model by a cheap module-level function (tests, scripts)."""
    start = time.perf_counter()
    store = TaskStore(tasks_dir)
    Path(tasks_dir).mkdir(parents=True, exist_ok=True)
    evaluation = Evaluation(cohort, store, simulate)
    requests = [(c, r) for c in candidates for r in range(replicates)]
    with open_engine(workers, scheduler, connect_timeout_s, simulate) as engine:
        evaluation.run(engine, requests, progress, stop_after)
    table = pd.DataFrame([evaluation.readouts(c, r) for c, r in requests])
    table.attrs["wall_time_s"] = time.perf_counter() - start
    return table
