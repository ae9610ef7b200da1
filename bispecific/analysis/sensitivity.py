"""Sensitivity analysis: which uncertain parameters decide a readout, and how much of it is
simulation noise.

SALib draws the candidates (Morris trajectories for screening many parameters, a Sobol'
design for first-order and total indices of a few) and computes the indices, with
bootstrap confidence intervals. Every candidate is evaluated over the same virtual patients
with the same seeds (`evaluation`), so the indices compare parameters, not dice. The first
`noise_samples` candidates are run again with other seeds (`replicates`): the variance
between seed sets at fixed parameters, against the readout's variance over the samples, is
the share of the readout that is simulation noise, reported beside the indices.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..cohorts.engines import Simulator, open_engine
from ..cohorts.folder import locked_run
from ..cohorts.runner import TaskStore
from ..outputs.figures.sensitivity import sensitivity_figure
from ..outputs.files import atomic_write_text
from .evaluation import Candidate, Evaluation, Progress
from .folder import AnalysisFolder
from .readouts import READOUTS
from .sensitivity_spec import SensitivitySpec
from .signal import no_signal


def _problem(spec: SensitivitySpec) -> dict[str, Any]:
    return {"num_vars": len(spec.ranges), "names": [r.name for r in spec.ranges],
            "bounds": [r.bounds() for r in spec.ranges]}


def sample(spec: SensitivitySpec) -> np.ndarray:
    """The design, one row per candidate, in the space each parameter is sampled in (log10
    for log ranges); the same for the same file."""
    problem = _problem(spec)
    if spec.method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, spec.trajectories, num_levels=spec.levels,
                             seed=spec.seed)
    from SALib.sample import sobol

    return sobol.sample(problem, spec.samples, calc_second_order=False, scramble=True,
                        seed=spec.seed)


def candidates(spec: SensitivitySpec, design: np.ndarray) -> list[Candidate]:
    """The design's rows as candidates: parameter values in their units, set in their
    scenario tables."""
    return [Candidate(f"s{i:05d}", tuple((r.table, r.name, r.value(x))
                                         for r, x in zip(spec.ranges, row, strict=True)))
            for i, row in enumerate(design)]


def indices(spec: SensitivitySpec, design: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """One readout's indices, one row per parameter, ranked (1 decides most): by mu* for
    Morris, by the total index for Sobol."""
    problem = _problem(spec)
    with warnings.catch_warnings():  # a readout that never varies: 0/0, and NaN is the answer
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", "Constant values encountered", UserWarning)
        if spec.method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(problem, design, y, num_resamples=spec.resamples,
                                 conf_level=spec.confidence, num_levels=spec.levels,
                                 seed=spec.seed)
            table = pd.DataFrame({"parameter": problem["names"], "mu_star": res["mu_star"],
                                  "mu_star_conf": res["mu_star_conf"], "mu": res["mu"],
                                  "sigma": res["sigma"]})
            key = "mu_star"
        else:
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=False,
                                num_resamples=spec.resamples, conf_level=spec.confidence,
                                seed=spec.seed)
            table = pd.DataFrame({"parameter": problem["names"], "S1": res["S1"],
                                  "S1_conf": res["S1_conf"], "ST": res["ST"],
                                  "ST_conf": res["ST_conf"]})
            key = "ST"
    # A stable sort on the index, NaN last: ties keep the file's order.
    order = np.argsort(-np.nan_to_num(table[key].to_numpy(float), nan=-np.inf), kind="stable")
    table["rank"] = np.empty(len(table), int)
    table.loc[table.index[order], "rank"] = np.arange(1, len(table) + 1)
    return table.sort_values("rank", kind="stable").reset_index(drop=True)


def unranked(table: pd.DataFrame, noise_table: pd.DataFrame) -> pd.DataFrame:
    """`table` (indices of every readout) with no rank for the readouts that carry no
    signal (`noise_table`'s `no_signal` says why): their indices measure noise."""
    silent = set(noise_table.loc[noise_table["no_signal"] != "", "readout"])
    table = table.copy()
    table["rank"] = table["rank"].astype("Int64")
    table.loc[table["readout"].isin(silent), "rank"] = pd.NA
    return table


def noise(spec: SensitivitySpec, samples: pd.DataFrame) -> pd.DataFrame:
    """Per readout: the SD over the samples, the SD between seed sets at fixed parameters
    (pooled over the replicated candidates), and the noise share of the variance."""
    rows = []
    main = samples[samples["replicate"] == 0]
    replicated = samples.groupby("candidate").filter(lambda g: len(g) > 1)
    for name in spec.readouts:
        total_var = float(np.nanvar(main[name].to_numpy(float), ddof=1)) if len(main) > 1 \
            else float("nan")
        if len(replicated):
            noise_var = float(replicated.groupby("candidate")[name].var(ddof=1).mean())
        else:
            noise_var = float("nan")
        share = noise_var / total_var if total_var > 0 else (
            float("nan") if np.isnan(noise_var) or noise_var > 0 else 0.0)
        rows.append({"readout": name, "sd_over_samples": np.sqrt(total_var),
                     "sd_between_seeds": np.sqrt(noise_var),
                     "noise_share": min(share, 1.0) if not np.isnan(share) else share,
                     "replicated_candidates": replicated["candidate"].nunique(),
                     "replicates": spec.replicates})
    return pd.DataFrame(rows)


def markdown(spec: SensitivitySpec, table: pd.DataFrame, noise_table: pd.DataFrame) -> str:
    """The indices as markdown, a table per readout, with its noise share."""
    ranges = {r.name: r for r in spec.ranges}
    lines = [f"# Sensitivity: {spec.name}", "",
             f"{spec.method.capitalize()}, {len(spec.ranges)} parameters, "
             f"{spec.candidates_planned()} candidates x {spec.cohort.patients} patients "
             f"(cohort {spec.cohort.name}, seed {spec.cohort.seed}); sample seed {spec.seed}; "
             f"{spec.confidence:.0%} intervals from {spec.resamples} bootstrap resamples; "
             f"bispecific {__version__}.", ""]
    for name in spec.readouts:
        n = noise_table.set_index("readout").loc[name]
        share = noise_text(n["noise_share"])
        if not np.isnan(n["noise_share"]):
            share += (f" (SD between seed sets {n['sd_between_seeds']:.3g}, over the samples "
                      f"{n['sd_over_samples']:.3g})")
        lines += [f"## {READOUTS[name].label}", "", f"Simulation noise: {share}.", ""]
        if n.get("no_signal"):
            lines += [f"No signal: {n['no_signal']}; the parameters are not ranked.", ""]
        rows = table[table["readout"] == name]
        if spec.method == "morris":
            lines += ["| rank | parameter | range | mu* (CI) | mu | sigma |",
                      "|---|---|---|---|---|---|"]
            for _, r in rows.iterrows():
                lines.append(f"| {_rank(r['rank'])} | {r['parameter']} | "
                             f"{_range(ranges[r['parameter']])}"
                             f" | {r['mu_star']:.3g} (+-{r['mu_star_conf']:.2g}) | "
                             f"{r['mu']:.3g} | {r['sigma']:.3g} |")
        else:
            lines += ["| rank | parameter | range | S1 (CI) | ST (CI) |", "|---|---|---|---|---|"]
            for _, r in rows.iterrows():
                lines.append(f"| {_rank(r['rank'])} | {r['parameter']} | "
                             f"{_range(ranges[r['parameter']])}"
                             f" | {r['S1']:.2f} (+-{r['S1_conf']:.2f}) | {r['ST']:.2f} "
                             f"(+-{r['ST_conf']:.2f}) |")
        lines.append("")
    return "\n".join(lines)


def noise_text(share: float) -> str:
    """The noise share in words; a small share is not rounded to 0%."""
    if np.isnan(share):
        return "not measured (replicates = 1)"
    if share == 0:
        amount = "0%"
    elif share < 0.001:
        amount = "under 0.1%"
    elif share < 0.01:
        amount = f"{100 * share:.1f}%"
    else:
        amount = f"{share:.0%}"
    return f"{amount} of its variance over the samples"


def _rank(rank: Any) -> str:
    return "-" if pd.isna(rank) else str(int(rank))


def _range(r: Any) -> str:
    return f"{r.low:g}-{r.high:g}" + (" (log)" if r.scale == "log" else "")


def run_sensitivity(
    spec: SensitivitySpec,
    out_dir: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    stop_after: int | None = None,
    fresh: bool = False,
    simulate: Simulator | None = None,
    formats: tuple[str, ...] = ("png",),
    connect_timeout_s: float = 30.0,
    verbose: bool = False,
    on_start: Callable[[], None] | None = None,
) -> dict[str, Path]:
    """Run the analysis into `out_dir` and write its tables and figures.

    Refused before anything is written: a folder of other files or of another analysis
    (`FolderError`), a scheduler that cannot be reached (SchedulerError). Resumable: every
    run is kept in `out_dir/tasks/` as it finishes, and the same call again runs only what
    is missing, ending with the same files. `simulate` replaces the model by a cheap
    stand-in (tests); `stop_after` stops as if interrupted after that many runs."""
    start = time.perf_counter()
    folder = AnalysisFolder(out_dir, "sensitivity", spec.definition(), "sensitivity analysis")
    folder.check(fresh)
    design = sample(spec)
    main = candidates(spec, design)
    noisy = main[:min(spec.noise_samples, len(main))]
    requests = [(c, 0) for c in main] + [(c, r) for r in range(1, spec.replicates)
                                         for c in noisy]
    evaluation = Evaluation(spec.cohort, TaskStore(folder.tasks), simulate)
    engine = open_engine(workers, scheduler, connect_timeout_s, simulate,
                         verbose=verbose)
    def work() -> None:
        if on_start is not None:
            on_start()
        evaluation.run(engine, requests, progress, stop_after)

    return locked_run(
        folder.out, folder.manifest, engine,
        lambda: folder.prepare(fresh, {"sensitivity": spec.name, "method": spec.method,
                                       "seed": spec.seed, "cohort_seed": spec.cohort.seed,
                                       "patients": spec.cohort.patients,
                                       "candidates": len(main)},
                               spec.text, spec.cohort, evaluation.patients),
        work,
        lambda: _write(spec, folder, evaluation, design, main, requests, formats,
                       time.perf_counter() - start, engine.description))


def _write(spec: SensitivitySpec, folder: AnalysisFolder, evaluation: Evaluation,
           design: np.ndarray, main: list[Candidate], requests: list[tuple[Candidate, int]],
           formats: tuple[str, ...], wall_time_s: float, engine: str) -> dict[str, Path]:
    out = folder.out
    values = pd.DataFrame([{r.name: r.value(x) for r, x in zip(spec.ranges, row, strict=True)}
                           for row in design])
    values.insert(0, "candidate", [c.id for c in main])
    readouts = pd.DataFrame([evaluation.readouts(c, r, spec.readouts) for c, r in requests])
    samples = readouts.merge(values, on="candidate", how="left")
    samples = samples[["candidate", "replicate", "patients", *values.columns[1:],
                       *spec.readouts]]
    runs = pd.concat([evaluation.runs(c, r) for c, r in requests], ignore_index=True)
    failures = [f for c, r in requests for f in evaluation.failures(c, r)]
    paths = {"samples": out / "samples.csv", "results": out / "results.csv",
             "failures": out / "failures.csv", "indices": out / "indices.csv",
             "noise": out / "noise.csv", "markdown": out / "indices.md"}
    atomic_write_text(paths["samples"], samples.to_csv(index=False))
    atomic_write_text(paths["results"], runs.to_csv(index=False))
    atomic_write_text(paths["failures"], pd.DataFrame(
        failures, columns=["candidate", "replicate", "patient", "error"]).to_csv(index=False))
    y = samples[samples["replicate"] == 0]
    table = pd.concat([indices(spec, design, y[name].to_numpy(float)).assign(readout=name)
                       for name in spec.readouts], ignore_index=True)
    table = table[["readout", "rank", *[c for c in table.columns if c not in
                                        ("readout", "rank")]]]
    noise_table = noise(spec, samples)
    noise_table["no_signal"] = [
        no_signal(name, y[name].to_numpy(float), float(share)) or ""
        for name, share in zip(noise_table["readout"], noise_table["noise_share"],
                               strict=True)]
    table = unranked(table, noise_table)
    atomic_write_text(paths["indices"], table.to_csv(index=False))
    atomic_write_text(paths["noise"], noise_table.to_csv(index=False))
    atomic_write_text(paths["markdown"], markdown(spec, table, noise_table))
    for name in spec.readouts:
        row = noise_table.set_index("readout").loc[name]
        paths[f"figure_{name}"] = sensitivity_figure(
            table[table["readout"] == name], spec.method, READOUTS[name].label,
            f"simulation noise {noise_text(float(row['noise_share']))}",
            f"{spec.name}: {len(main)} candidates x {spec.cohort.patients} patients",
            out / f"sensitivity_{name}", formats, no_signal=row["no_signal"] or None)
    paths["timing"] = out / "timing.json"
    atomic_write_text(paths["timing"], json.dumps(
        {"wall_time_s": round(wall_time_s, 2), "engine": engine,
         "bispecific_version": __version__}, indent=2) + "\n")
    paths["info"] = folder.finish({"runs": len(runs) + len(failures), "completed": len(runs),
                                   "failed": len(failures)})
    return paths
