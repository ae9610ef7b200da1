"""The schedule optimiser: optuna proposes schedules of the family, the engine evaluates them
over the virtual cohort with common random numbers, and every evaluation is kept.

The search is a replay: optuna's sampler is seeded, trials are asked in batches and told
their readouts in trial order, and readouts come from the task store. So running the same
file again (after Ctrl-C, a kill, a lost worker) asks the same schedules, finds the finished
runs in `tasks/`, and continues exactly where it stopped: the final tables are identical to
those of a search that never stopped. More `trials` extend a finished search the same way.

The objective is explicit: the CR rate subject to a limit on the CRS grade >= 2 rate
(`max_cr`, through the sampler's constraints), or the Pareto front of both (`pareto`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..cohorts.engines import Simulator, open_engine
from ..cohorts.folder import locked_run
from ..cohorts.runner import TaskStore
from ..outputs.figures.pareto import pareto_figure
from ..outputs.files import atomic_write_text
from ..scenario import scenario_from_dict
from .evaluation import Candidate, Evaluation
from .folder import AnalysisFolder
from .optimise_spec import OptimiseSpec
from .readouts import RATE_FLOOR, READOUTS
from .schedules import Schedule
from .signal import no_signal

BEST = "best"
CR, CRS = "cr_rate", "crs_grade2_rate"
TrialProgress = Callable[[int, int], None]


def _study(spec: OptimiseSpec) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a line per trial is noise here
    # The CRS limit reaches the samplers as each trial's constraint (`Trial.set_constraint`).
    if spec.sampler == "tpe":
        sampler = optuna.samplers.TPESampler(seed=spec.seed,
                                             n_startup_trials=spec.startup_trials)
    elif spec.sampler == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=spec.seed,
                                                population_size=max(spec.batch, 4))
    else:
        sampler = optuna.samplers.RandomSampler(seed=spec.seed)
    directions = ["maximize"] if spec.objective == "max_cr" else ["maximize", "minimize"]
    study = optuna.create_study(directions=directions, sampler=sampler)
    for start in spec.starts:
        study.enqueue_trial(spec.family.start_params(start))
    return study


class Search:
    """One search: its study, its evaluation, and the trials so far."""

    def __init__(self, spec: OptimiseSpec, store: TaskStore,
                 simulate: Simulator | None = None) -> None:
        self.spec = spec
        self.evaluation = Evaluation(spec.cohort, store, simulate)
        self.study = _study(spec)
        self.rows: list[dict[str, Any]] = []
        self.schedules: dict[str, Schedule] = {}

    def candidate(self, number: int, schedule: Schedule) -> Candidate:
        f = self.spec.family
        doses = schedule.doses(self.spec.days, f.reference_bsa_m2, f.max_ug_per_day)
        return Candidate(f"t{number:04d}", doses=doses)

    def references(self) -> list[Candidate]:
        """Every arm of the cohort, as given: the approved regimen and what else the file
        compares (flat, bolus)."""
        return [Candidate(f"ref:{a.name}", arm=a.name) for a in self.spec.cohort.arms]

    def run(self, engine: Any, progress: TrialProgress | None = None,
            stop_after: int | None = None) -> None:
        import optuna

        spec = self.spec
        total = spec.trials + len(spec.cohort.arms)
        refs = self.references()
        self.evaluation.run(engine, [(c, 0) for c in refs], stop_after=stop_after)
        for c in refs:
            self.rows.append(self._row(c, None, "reference"))
        if progress is not None:
            progress(len(refs), total)
        while len(self.study.trials) < spec.trials:
            n = min(spec.batch, spec.trials - len(self.study.trials))
            trials = [self.study.ask() for _ in range(n)]
            batch = []
            for trial in trials:
                schedule = spec.family.suggest(trial)
                batch.append((trial, schedule, self.candidate(trial.number, schedule)))
            self.evaluation.run(engine, [(c, 0) for _, _, c in batch], stop_after=stop_after)
            for trial, schedule, c in batch:  # told in trial order: the replay is exact
                row = self._row(c, schedule, "search")
                for name in READOUTS:
                    trial.set_user_attr(name, row[name])
                if row["patients"] == 0 or math.isnan(row[CR]) or math.isnan(row[CRS]):
                    self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                else:
                    if spec.objective == "max_cr":  # feasible when <= 0
                        trial.set_constraint(CRS, row[CRS] - spec.max_crs_grade2_rate)
                    values = row[CR] if spec.objective == "max_cr" else [row[CR], row[CRS]]
                    self.study.tell(trial, values)
                self.rows.append(row)
                if progress is not None:
                    progress(len(self.rows), total)

    def _row(self, c: Candidate, schedule: Schedule | None, source: str) -> dict[str, Any]:
        readouts = self.evaluation.readouts(c)
        if schedule is None:  # a reference: its own scenario's dosing
            text = describe_scenario_doses(self.evaluation.arm(c).scenario.to_dict()["dose"])
            fields: dict[str, Any] = {"family": "reference"}
        else:
            self.schedules[c.id] = schedule
            text = schedule.describe(self.spec.days)
            fields = {"family": schedule.family(), "delivery": schedule.delivery,
                      "units": schedule.units, "steps": schedule.steps,
                      "first_dose_ug_per_day": schedule.first_dose,
                      "first_days": schedule.first_days,
                      "target_dose_ug_per_day": schedule.target_dose}
        return {"trial": c.id, "source": source, **fields, "schedule": text,
                **{k: readouts[k] for k in ("patients", *READOUTS)}}


def describe_scenario_doses(doses: list[dict[str, Any]]) -> str:
    """A scenario's [[dose]] tables in one line, for the table of schedules."""
    parts = []
    for d in doses:
        if d["kind"] == "infusion":
            rate = (f"{d['rate_ug_per_day']:g} ug/day" if "rate_ug_per_day" in d
                    else f"{d['rate_ug_per_m2_per_day']:g} ug/m^2/day")
            parts.append(f"infusion {rate} d{d['start_day']:g}-{d['end_day']:g}")
        else:
            amount = (f"{d['dose_ug']:g} ug" if "dose_ug" in d
                      else f"{d['dose_ug_per_m2']:g} ug/m^2")
            until = f"d{d['until_day']:g}" if "until_day" in d else "the end"
            every = f" every {d['every_days']:g} d to {until}" if "every_days" in d else ""
            parts.append(f"bolus {amount} d{d['day']:g}{every}")
    return "; ".join(parts) or "no drug"


def pareto_front(points: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Which (cr, crs) points no other point dominates: has CR at least as high and CRS at
    most as high, one of them strictly. With a `tolerance`, rates below it count as 0 and a
    CR higher by no more than it is not told apart: a point is also dominated by one with
    lower CRS whose CR is within `tolerance` below its own (its gain is noise)."""
    pts = np.where(np.abs(points) < tolerance, 0.0, points) if tolerance > 0 else points
    on = np.ones(len(pts), bool)
    for i, (cr, crs) in enumerate(pts):
        if np.isnan(cr) or np.isnan(crs):
            on[i] = False
            continue
        better = ((pts[:, 0] >= cr) & (pts[:, 1] <= crs)
                  & ((pts[:, 0] > cr) | (pts[:, 1] < crs)))
        if tolerance > 0:
            better |= (pts[:, 0] >= cr - tolerance) & (pts[:, 1] < crs)
        on[i] = not better.any()
    return on


def search_no_signal(table: pd.DataFrame) -> str | None:
    """Why the searched schedules' CR rates carry no signal (`signal.no_signal`), or None:
    then nothing is ranked and no front is marked."""
    search = table[table["source"] == "search"]
    return no_signal(CR, search[CR].to_numpy(float))


def choose_best(spec: OptimiseSpec, table: pd.DataFrame) -> pd.DataFrame:
    """The best distinct schedules of the search. max_cr: the feasible ones with the highest
    CR rate (ties to lower CRS). pareto: first the schedules on the front that beat the base
    regimen (the first arm) on both rates, highest CR first: the answer to "as good, with
    less CRS"; then others spread along the front."""
    search = table[(table["source"] == "search") & table[CR].notna()]
    search = search.drop_duplicates("schedule")
    if spec.objective == "max_cr":
        ok = search[search[CRS] <= spec.max_crs_grade2_rate]
        return ok.sort_values([CR, CRS], ascending=[False, True], kind="stable").head(spec.best)
    front = search[search["on_front"]].sort_values([CRS, CR], kind="stable")
    base = table[table["trial"] == f"ref:{spec.cohort.arms[0].name}"].iloc[0]
    beats = (front[CR] >= base[CR]) & (front[CRS] <= base[CRS]) & (
        (front[CR] > base[CR]) | (front[CRS] < base[CRS]))
    chosen = front[beats].sort_values([CR, CRS], ascending=[False, True], kind="stable")
    rest = front[~beats]
    room = spec.best - len(chosen)
    if room > 0 and len(rest):
        picks = np.unique(np.round(np.linspace(0, len(rest) - 1, min(room, len(rest))))
                          .astype(int))
        chosen = pd.concat([chosen, rest.iloc[picks].sort_values(CR, ascending=False,
                                                                 kind="stable")])
    return chosen.head(spec.best)


def run_optimise(
    spec: OptimiseSpec,
    out_dir: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: TrialProgress | None = None,
    stop_after: int | None = None,
    fresh: bool = False,
    simulate: Simulator | None = None,
    formats: tuple[str, ...] = ("png",),
    connect_timeout_s: float = 30.0,
    verbose: bool = False,
) -> dict[str, Path]:
    """Search the schedule family into `out_dir`; write the table of schedules, the Pareto
    figure and the best schedules as scenario files.

    Refused before anything is written: a folder of other files or of another search
    (`FolderError`), a scheduler that cannot be reached (SchedulerError). `progress(done,
    total)` counts trials (references included); `stop_after` stops as if interrupted after
    that many patient runs; `simulate` replaces the model by a cheap stand-in (tests)."""
    start = time.perf_counter()
    folder = AnalysisFolder(out_dir, "optimise", spec.definition(), "schedule search")
    folder.check(fresh)
    search = Search(spec, TaskStore(folder.tasks), simulate)
    engine = open_engine(workers, scheduler, connect_timeout_s, simulate,
                         verbose=verbose)
    return locked_run(
        folder.out, folder.manifest, engine,
        lambda: folder.prepare(fresh, {"optimise": spec.name, "objective": spec.objective,
                                       "seed": spec.seed, "cohort_seed": spec.cohort.seed,
                                       "patients": spec.cohort.patients,
                                       "trials": spec.trials},
                               spec.text, spec.cohort, search.evaluation.patients),
        lambda: search.run(engine, progress, stop_after),
        lambda: _write(spec, folder, search, formats, time.perf_counter() - start,
                       engine.description))


def _write(spec: OptimiseSpec, folder: AnalysisFolder, search: Search,
           formats: tuple[str, ...], wall_time_s: float, engine: str) -> dict[str, Path]:
    out = folder.out
    table = pd.DataFrame(search.rows)
    silent = search_no_signal(table)
    table["on_front"] = (pareto_front(table[[CR, CRS]].to_numpy(float), RATE_FLOOR)
                         if silent is None else False)
    if spec.objective == "max_cr":
        table["feasible"] = table[CRS] <= spec.max_crs_grade2_rate
    best = choose_best(spec, table) if silent is None else table.iloc[:0]
    table["best"] = pd.array([pd.NA] * len(table), dtype="Int64")
    for rank, trial in enumerate(best["trial"], start=1):
        table.loc[table["trial"] == trial, "best"] = rank
    ev = search.evaluation
    candidates = {**{c.id: c for c in search.references()}}
    requests = [candidates.get(t) or search.candidate(int(t[1:]), search.schedules[t])
                for t in table["trial"]]
    runs = pd.concat([ev.runs(c) for c in requests], ignore_index=True)
    failures = [f for c in requests for f in ev.failures(c)]
    paths = {"trials": out / "trials.csv", "markdown": out / "trials.md",
             "results": out / "results.csv", "failures": out / "failures.csv"}
    atomic_write_text(paths["trials"], table.to_csv(index=False))
    atomic_write_text(paths["markdown"], markdown(spec, table, best, silent))
    atomic_write_text(paths["results"], runs.to_csv(index=False))
    atomic_write_text(paths["failures"], pd.DataFrame(
        failures, columns=["candidate", "replicate", "patient", "error"]).to_csv(index=False))
    (out / BEST).mkdir(exist_ok=True)
    for rank, (_, row) in enumerate(best.iterrows(), start=1):
        scenario = best_scenario(spec, search, row, rank)
        path = out / BEST / f"{spec.name}_best_{rank}.toml"
        atomic_write_text(path, scenario)
        paths[f"best_{rank}"] = path
    paths["figure"] = pareto_figure(
        table, spec.max_crs_grade2_rate,
        f"{spec.name}: {spec.trials} schedules x {spec.cohort.patients} patients "
        f"({spec.objective})", out / "pareto", formats, no_signal=silent)
    paths["timing"] = out / "timing.json"
    atomic_write_text(paths["timing"], json.dumps(
        {"wall_time_s": round(wall_time_s, 2), "engine": engine,
         "bispecific_version": __version__}, indent=2) + "\n")
    paths["info"] = folder.finish({"runs": len(runs) + len(failures), "completed": len(runs),
                                   "failed": len(failures)})
    return paths


def best_scenario(spec: OptimiseSpec, search: Search, row: Any, rank: int) -> str:
    """A best schedule as a scenario file `bispecific run` accepts: the base arm's scenario
    (its patient, run length, patch and premedication) with the schedule's doses."""
    c = search.candidate(int(row["trial"][1:]), search.schedules[row["trial"]])
    data = search.evaluation.arm(c).scenario.to_dict()
    data["scenario"]["name"] = f"{spec.name}_best_{rank}"
    data["scenario"]["description"] = (
        f"{row['schedule']}; in the search: CR rate {row[CR]:.2f}, CRS grade >= 2 rate "
        f"{row[CRS]:.2f} over {int(row['patients'])} virtual patients")
    scenario = scenario_from_dict(data, f"best schedule {rank}")  # checked as run will
    header = (f"# Written by 'bispecific optimise' ({spec.name}, trial {row['trial']}, "
              f"bispecific {__version__}).\n")
    return header + scenario.to_toml()


def markdown(spec: OptimiseSpec, table: pd.DataFrame, best: pd.DataFrame,
             silent: str | None = None) -> str:
    """The best schedules and the references, then every schedule tried, as markdown."""
    goal = (f"maximise the CR rate with the CRS grade >= 2 rate at most "
            f"{spec.max_crs_grade2_rate:g}" if spec.objective == "max_cr"
            else "the Pareto front of CR rate (up) against CRS grade >= 2 rate (down)")
    lines = [f"# Schedule search: {spec.name}", "",
             f"Objective: {goal}. {spec.trials} trials ({spec.sampler}, seed {spec.seed}) over "
             f"{spec.cohort.patients} virtual patients (cohort {spec.cohort.name}, seed "
             f"{spec.cohort.seed}); bispecific {__version__}.", ""]

    def rows(frame: pd.DataFrame) -> list[str]:
        out = ["| trial | schedule | CR rate | CRS >= 2 rate | median peak IL-6 | front |",
               "|---|---|---|---|---|---|"]
        for _, r in frame.iterrows():
            out.append(f"| {r['trial']} | {r['schedule']} | {r[CR]:.2f} | {r[CRS]:.2f} | "
                       f"{r['median_peak_il6_pg_per_ml']:.0f} | "
                       f"{'yes' if r['on_front'] else ''} |")
        return out

    if silent is not None:
        lines += [f"No signal: {silent}; no schedule is ranked and no front is marked.", ""]
    lines += ["## Best schedules", ""] + rows(table[table["trial"].isin(best["trial"])]
                                              .set_index("trial").loc[best["trial"]]
                                              .reset_index())
    lines += ["", "## References", ""] + rows(table[table["source"] == "reference"])
    lines += ["", "## Every schedule tried", ""] + rows(table[table["source"] == "search"])
    return "\n".join(lines) + "\n"
