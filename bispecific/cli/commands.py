"""What each `bispecific` command does, as library calls. Each failure becomes an exception
whose message is the one line the user sees (`main` picks the exit status), and it says what
was kept."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..scenario import Scenario, load_scenario
from ..scenario.names import slug
from . import guards
from .errors import Interrupted, RunFailed, UserError

ANALYSES = ("sensitivity", "optimise")
CHECKPOINT_SAVED = "saved a checkpoint"  # how `Checkpointing` starts the note of a save


def _file_kind(path: Path) -> str | None:
    """"sensitivity", "optimise", "cohort" or "scenario" by the file's head table (an
    analysis file holds a cohort too); None when it has none or cannot be read (the loader
    then reports the problem in one line)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not TOML, a NUL in the path
        return None
    return next((kind for kind in (*ANALYSES, "cohort", "scenario") if kind in data), None)


def _refuse_other_kind(path: Path, command: str) -> None:
    """A file of another kind than `command` runs: say which command runs it."""
    kind = _file_kind(path)
    runs = {"scenario": "run", "cohort": "cohort", "sensitivity": "sensitivity",
            "optimise": "optimise"}
    if kind is not None and runs[kind] != command:
        article = "an" if kind[0] in "aeiou" else "a"
        raise UserError(f"{path}: is {article} {kind} file; run it with 'bispecific "
                        f"{runs[kind]} {path}'")


def _load(path: Path, seed: int | None = None, days: float | None = None) -> Scenario:
    from ..scenario import ScenarioError

    _refuse_other_kind(path, "run")
    scenario = load_scenario(path)
    changes = {k: v for k, v in (("seed", seed), ("days", days)) if v is not None}
    if changes:
        try:
            scenario = scenario.with_changes(**changes)
        except ScenarioError as exc:
            flag = " ".join(f"--{k} {v}" for k, v in changes.items())
            raise UserError(f"{flag}: {str(exc).split(': ', 1)[1]}") from None
    return scenario


def _output_folder(given: Path | None, name: str) -> Path:
    return given if given is not None else Path("runs") / slug(name)


def _check_folder(out: Path, kind: str, given: bool) -> None:
    """Fail before running, not after, when the output folder cannot or must not be used."""
    from ..outputs.folders import FolderError, check_folder

    try:
        check_folder(out, kind)
    except FolderError as exc:
        raise UserError(f"--out {exc}" if given else str(exc)) from None


def _formats(args: argparse.Namespace) -> tuple[str, ...]:
    return ("png", "svg") if args.svg else ("png",)


def _progress_bar(total: float, unit: str, desc: str, quiet: bool) -> Any:
    """A tqdm bar on a terminal; None when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=round(total), unit=unit, desc=desc, file=sys.stderr, leave=False)


def _notes(quiet: bool, bar: Any) -> Callable[[str], None] | None:
    """Where a run's notes go (a line each on stderr, above the bar); None when quiet."""
    if quiet:
        return None
    if bar is not None:
        return lambda line: bar.write(f"note: {line}", file=sys.stderr)
    saved = False

    def note(line: str) -> None:
        # Off a terminal (a log, a pipe) a note per checkpoint is a line per hour: only the
        # first is said, and that later ones replace it.
        nonlocal saved
        if line.startswith(CHECKPOINT_SAVED):
            if saved:
                return
            saved = True
            line += "; later checkpoints replace it without a note"
        print(f"note: {line}", file=sys.stderr, flush=True)

    return note


def _no_parquet() -> str:
    """What the outputs lack without pyarrow, for the line that lists them."""
    from ..outputs.tables import parquet_available

    if parquet_available():
        return ""
    return " (no Parquet copies: pyarrow is not installed; pip install -e '.[data]')"


def _one_line(result: Any) -> str:
    s = result.summary
    depth = ">=" if s["blast_log10_reduction_censored"] else ""
    return (f"{s['scenario']}: blasts {s['initial_blasts']} -> {s['final_blasts']} "
            f"(log10 reduction {depth}{s['blast_log10_reduction']:.2f}, P(CR) "
            f"{s['p_complete_response']:.2f}, P(MRD < 1e-4) {s['p_mrd_negative']:.2f}); "
            f"peak IL-6 {s['peak_il6_pg_per_ml']:.0f} pg/mL, P(CRS >= 1/2/3) "
            f"{s['p_crs_grade1_or_more']:.2f}/{s['p_crs_grade2_or_more']:.2f}/"
            f"{s['p_crs_grade3_or_more']:.2f}; {result.wall_time_s:.1f} s"
            + (f"; treatment stopped on day {s['treatment_end_day']:g} ({s['stop_reason']})"
               if s.get("stop_reason", "none") != "none" else ""))


def cmd_validate(args: argparse.Namespace) -> int:
    """Accept exactly what run, cohort, sensitivity and optimise accept."""
    kind = _file_kind(args.scenario)
    if kind == "sensitivity":
        from ..analysis.sensitivity_spec import load_sensitivity

        spec = load_sensitivity(args.scenario)
        print(f"{args.scenario}: ok (sensitivity {spec.name}, {spec.method}, "
              f"{len(spec.ranges)} parameters, {spec.candidates_planned()} candidates x "
              f"{spec.cohort.patients} patients: {spec.runs_planned()} runs with the noise "
              "replicates)")
        return 0
    if kind == "optimise":
        from ..analysis.optimise_spec import load_optimise

        spec = load_optimise(args.scenario)
        print(f"{args.scenario}: ok (optimise {spec.name}, {spec.objective}, {spec.trials} "
              f"trials x {spec.cohort.patients} patients, references "
              f"{', '.join(a.name for a in spec.cohort.arms)})")
        return 0
    if kind == "cohort":
        from ..cohorts.runner import plan
        from ..cohorts.spec import load_cohort

        c = load_cohort(args.scenario)
        tasks, invalid = plan(c)
        note = (f"; {len(invalid)} of {len(tasks) + len(invalid)} runs draw covariates outside "
                "the model's ranges and will be recorded as failures" if invalid else "")
        print(f"{args.scenario}: ok (cohort {c.name}, {c.patients} patients, arms "
              f"{', '.join(a.name for a in c.arms)}, covariates "
              f"{', '.join(v.name for v in c.covariates) or 'none'}{note})")
        return 0
    from ..simulation.estimate import estimate

    s = _load(args.scenario)
    guards.check_memory(args.scenario, s, args.force)
    print(f"{args.scenario}: ok ({s.name}, {s.days:g} days, {s.grid.width}x{s.grid.height} "
          f"voxels, {len(s.schedule.infusions)} infusion and {len(s.schedule.boluses)} "
          f"bolus entries; a run takes {estimate(s).text()})")
    return 0



def _kept(checkpointing: Any) -> str:
    if checkpointing is None or checkpointing.saved_h is None:
        return ""
    return (f"; the checkpoint at hour {checkpointing.saved_h:g} is kept in "
            f"{checkpointing.path}: run the same command again to continue from it")


def cmd_run(args: argparse.Namespace) -> int:
    from ..outputs.files import write_run
    from ..simulation.checkpoint import CHECKPOINT, Checkpointing
    from ..simulation.run import RunInterrupted, run_scenario, snapshot_days_problem

    scenario = _load(args.scenario, args.seed, args.days)
    if args.snapshots is not None:
        problem = snapshot_days_problem(args.snapshots, scenario.days)
        if problem is not None:
            raise UserError(f"--snapshots {','.join(f'{d:g}' for d in args.snapshots)}: "
                            f"{problem}")
    guards.check_memory(args.scenario, scenario, args.force)
    out = _output_folder(args.out, scenario.name)
    _check_folder(out, "run", args.out is not None)
    total_h = scenario.days * 24.0
    bar = _progress_bar(total_h, "h", scenario.name, args.quiet)
    checkpointing = Checkpointing(out / CHECKPOINT, args.checkpoint_every,
                                  notify=_notes(args.quiet, bar))
    try:
        result = run_scenario(scenario, progress=None if bar is None else bar.update,
                              snapshot_days=args.snapshots,
                              frame_every_h=6.0 if args.animate else None,
                              checkpointing=checkpointing)
    except RunInterrupted as exc:
        kept = _kept(checkpointing) or (
            ": nothing was written" + ("" if args.checkpoint_every else
                                       " (--checkpoint-every HOURS makes a run resumable)"))
        raise Interrupted(f"at hour {exc.at_h:g} of {total_h:g}{kept}", exc) from None
    except KeyboardInterrupt as exc:  # while the model was being built
        raise Interrupted(f"before the run started: nothing was written{_kept(checkpointing)}",
                          exc) from None
    except OSError as exc:  # the only file a run writes as it goes is its checkpoint
        raise RunFailed(f"{checkpointing.path}: cannot save the checkpoint "
                        f"({exc.strerror or exc}){_kept(checkpointing)}") from None
    finally:
        if bar is not None:
            bar.close()
    try:
        paths = write_run(result, out, _formats(args))
    except KeyboardInterrupt as exc:
        raise Interrupted(f"while writing {out}: it holds what it held before"
                          f"{_kept(checkpointing)}", exc) from None
    except OSError as exc:
        raise RunFailed(f"{out}: cannot write the outputs ({exc.strerror or exc}); it holds "
                        f"what it held before{_kept(checkpointing)}") from None
    if not args.quiet:
        print(_one_line(result))
        print(f"wrote {out}/: " + ", ".join(p.name for p in paths.values()) + _no_parquet())
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..outputs.files import write_comparison
    from ..simulation.run import run_scenario

    scenarios = [_load(path, days=args.days) for path in args.scenarios]
    names = [slug(s.name) for s in scenarios]  # each run's folder in the comparison
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise UserError(f"two scenarios are named '{dup}' (or alike, as folder names); "
                        "names must differ to compare them")
    _check_folder(args.out, "comparison", True)
    results = []
    try:
        for s in scenarios:
            bar = _progress_bar(s.days * 24.0, "h", s.name, args.quiet)
            try:
                results.append(run_scenario(s, progress=None if bar is None else bar.update))
            finally:
                if bar is not None:
                    bar.close()
        paths = write_comparison(results, args.out, _formats(args))
    except KeyboardInterrupt as exc:
        raise Interrupted(f"{args.out} holds what it held before: a comparison is written "
                          "once all its runs finish", exc) from None
    except OSError as exc:
        raise RunFailed(f"{args.out}: cannot write the outputs ({exc.strerror or exc}); it "
                        "holds what it held before") from None
    if not args.quiet:
        for r in results:
            print(_one_line(r))
        print(f"wrote {paths['comparison_csv']} and {paths['comparison_figure']}")
    return 0


def cmd_cohort(args: argparse.Namespace) -> int:
    from ..cohorts.engines import SchedulerError
    from ..cohorts.runner import run_cohort
    from ..cohorts.spec import COHORT_KEYS, load_cohort
    from ..outputs.folders import FolderError

    _refuse_other_kind(args.cohort, "cohort")
    cohort = load_cohort(args.cohort)
    guards.check_workers(args)
    if cohort.survival is not None:  # refused now, not after the runs
        from ..cohorts.survival import SurvivalError, require_lifelines

        try:
            require_lifelines()
        except SurvivalError as exc:
            raise UserError(f"{args.cohort}: [survival] {exc}") from None
    if args.patients:
        if not COHORT_KEYS["patients"].accepts(args.patients):
            raise UserError(f"--patients {args.patients}: expected "
                            f"{COHORT_KEYS['patients'].allowed()}")
        cohort = cohort.with_patients(args.patients)
    out = _output_folder(args.out, cohort.name)
    bar = _progress_bar(cohort.patients * len(cohort.arms), "run", cohort.name, args.quiet)
    done = {"runs": 0, "total": cohort.patients * len(cohort.arms)}

    def progress(finished: int, total: int) -> None:
        done.update(runs=finished, total=total)
        if bar is not None:
            bar.total = total
            bar.n = finished
            bar.refresh()

    tasks = out / "tasks"
    try:
        paths = run_cohort(cohort, out, workers=args.workers, scheduler=args.scheduler,
                           progress=progress, fresh=args.fresh, verbose=args.verbose)
    except SchedulerError as exc:
        raise UserError(f"--scheduler {args.scheduler}: {exc}") from None
    except FolderError as exc:
        raise UserError(f"--out {exc}" if args.out is not None else str(exc)) from None
    except KeyboardInterrupt as exc:
        raise Interrupted(f"{done['runs']} of {done['total']} runs are finished and kept in "
                          f"{tasks}/: run the same command again to run the rest",
                          exc) from None
    except OSError as exc:
        raise RunFailed(f"{exc.filename or out}: cannot write ({exc.strerror or exc}); "
                        f"finished runs are kept in {tasks}/: run the same command again "
                        "to continue") from None
    finally:
        if bar is not None:
            bar.close()
    info = json.loads(paths["info"].read_text(encoding="utf-8"))
    if not args.quiet:
        _print_arms(paths["arms"])
        print(f"wrote {out}/: " + ", ".join(p.name for p in paths.values()) + _no_parquet())
    if info["failed"]:
        raise RunFailed(f"{info['failed']} of {info['runs']} runs failed (see "
                        f"{paths['failures']}); the other {info['completed']} are in "
                        f"{paths['results']}")
    return 0


def _needs_analysis_extra(command: str) -> None:
    import importlib.util

    if any(importlib.util.find_spec(m) is None for m in ("SALib", "optuna")):
        raise UserError(f"bispecific {command} needs the analysis extra: pip install -e "
                        "'.[analysis]'")


def _analysis_errors(args: argparse.Namespace, out: Path, kept: Callable[[], str]) -> Any:
    """The one-line failures of a command that evaluates over a cohort, as `cohort` has
    them; `kept` says what is kept, at the moment of failing."""
    import contextlib

    from ..cohorts.engines import SchedulerError
    from ..outputs.folders import FolderError

    @contextlib.contextmanager
    def errors() -> Any:
        try:
            yield
        except SchedulerError as exc:
            raise UserError(f"--scheduler {args.scheduler}: {exc}") from None
        except FolderError as exc:
            raise UserError(f"--out {exc}" if args.out is not None else str(exc)) from None
        except KeyboardInterrupt as exc:
            raise Interrupted(f"{kept()}: run the same command again to continue", exc) from None
        except OSError as exc:
            raise RunFailed(f"{exc.filename or out}: cannot write ({exc.strerror or exc}); "
                            f"{kept()}: run the same command again to continue") from None

    return errors()


def _bar_progress(bar: Any, done: dict[str, int]) -> Callable[[int, int], None]:
    def progress(finished: int, total: int) -> None:
        done.update(n=finished, total=total)
        if bar is not None:
            bar.total = total
            bar.n = finished
            bar.refresh()

    return progress


def _failed_runs(info_path: Path, failures: Path) -> None:
    info = json.loads(info_path.read_text(encoding="utf-8"))
    if info["failed"]:
        raise RunFailed(f"{info['failed']} of {info['runs']} runs failed (see {failures}); the "
                        "tables are made from the other runs")


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Morris or Sobol indices of the file's parameters over its virtual cohort."""
    from ..analysis.sensitivity_spec import load_sensitivity

    _refuse_other_kind(args.file, "sensitivity")
    spec = load_sensitivity(args.file)
    _needs_analysis_extra("sensitivity")
    from ..analysis.sensitivity import run_sensitivity

    return _run_analysis(args, spec.name, spec.runs_planned(), "run",
                         "runs are finished and kept",
                         lambda out, progress: run_sensitivity(
                             spec, out, workers=args.workers, scheduler=args.scheduler,
                             progress=progress, fresh=args.fresh, formats=_formats(args),
                             verbose=args.verbose),
                         lambda paths: _print_ranking(paths["indices"], paths["noise"]))


def _run_analysis(args: argparse.Namespace, name: str, total: int, unit: str, kept_words: str,
                  run: Callable[[Path, Callable], dict[str, Path]],
                  report: Callable[[dict[str, Path]], None]) -> int:
    """What sensitivity and optimise share: the folder, a progress bar counting `unit`s,
    one-line errors that say how much is kept, the report, and failed runs as exit 1."""
    guards.check_workers(args)
    out = _output_folder(args.out, name)
    bar = _progress_bar(total, unit, name, args.quiet)
    done = {"n": 0, "total": total}

    def kept() -> str:
        return f"{done['n']} of {done['total']} {kept_words} in {out / 'tasks'}/"

    try:
        with _analysis_errors(args, out, kept):
            paths = run(out, _bar_progress(bar, done))
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        report(paths)
        print(f"wrote {out}/: " + ", ".join(p.name for p in paths.values()))
    _failed_runs(paths["info"], paths["failures"])
    return 0


def _print_ranking(indices: Path, noise: Path) -> None:
    import pandas as pd

    from ..analysis.sensitivity import noise_text
    from ..analysis.signal import no_signal_line

    table = pd.read_csv(indices)
    noise_table = pd.read_csv(noise).set_index("readout")
    shares = noise_table["noise_share"]
    for readout, rows in table.groupby("readout", sort=False):
        reason = noise_table.loc[readout].get("no_signal")
        if isinstance(reason, str) and reason:
            print(no_signal_line(readout, reason, "parameters not ranked"))
            continue
        top = ", ".join(rows.sort_values("rank")["parameter"].head(3))
        print(f"{readout}: decided most by {top}; simulation noise "
              f"{noise_text(float(shares[readout]))}")


def cmd_optimise(args: argparse.Namespace) -> int:
    """A schedule search over the file's family and virtual cohort."""
    from dataclasses import replace

    from ..analysis.optimise_spec import HEAD_KEYS, load_optimise

    _refuse_other_kind(args.file, "optimise")
    spec = load_optimise(args.file)
    if args.trials:
        if not HEAD_KEYS["trials"].accepts(args.trials):
            raise UserError(f"--trials {args.trials}: expected {HEAD_KEYS['trials'].allowed()}")
        spec = replace(spec, trials=args.trials)
    _needs_analysis_extra("optimise")
    from ..analysis.optimise import run_optimise

    return _run_analysis(args, spec.name, spec.trials + len(spec.cohort.arms), "schedule",
                         "schedules are evaluated and their runs kept",
                         lambda out, progress: run_optimise(
                             spec, out, workers=args.workers, scheduler=args.scheduler,
                             progress=progress, fresh=args.fresh, formats=_formats(args),
                             verbose=args.verbose),
                         lambda paths: _print_best(paths["trials"]))


def _print_best(trials: Path) -> None:
    import pandas as pd

    from ..analysis.optimise import CR, search_no_signal
    from ..analysis.signal import no_signal_line

    table = pd.read_csv(trials)
    shown = pd.concat([table[table["source"] == "reference"],
                       table[table["best"].notna()].sort_values("best")])
    for _, r in shown.iterrows():
        label = (f"best {int(r['best'])}" if r["source"] == "search" else
                 f"reference {r['trial'][4:]}")
        print(f"{label}: CR {r['cr_rate']:.0%}, CRS >= 2 {r['crs_grade2_rate']:.0%}: "
              f"{r['schedule']}")
    silent = search_no_signal(table)
    if silent is not None:
        print(no_signal_line(CR, silent, "no schedule is ranked and no front is marked"))


def _print_arms(path: Path) -> None:
    import pandas as pd

    for _, a in pd.read_csv(path).iterrows():
        if not a["patients"]:
            print(f"{a['arm']}: no finished runs")
            continue
        print(f"{a['arm']}: {int(a['patients'])} patients, CR {a['cr_rate']:.0%} "
              f"({a['cr_rate_low']:.0%}-{a['cr_rate_high']:.0%}, Wilson 95% for n = "
              f"{int(a['patients'])}), MRD < 1e-4 "
              f"{a['mrd_negative_rate']:.0%}, fever (CRS >= 1) {a['crs_grade1_rate']:.0%}, "
              f"CRS >= 2 {a['crs_grade2_rate']:.0%}, grade >= 3 {a['crs_grade3_rate']:.1%}, "
              f"median peak IL-6 "
              f"{a['median_peak_il6_pg_per_ml']:.0f} pg/mL")


def cmd_plot(args: argparse.Namespace) -> int:
    from ..outputs.files import SCENARIO, TIMESERIES, is_finished_run, redraw
    from ..outputs.folders import FolderError, check_writable

    folder = args.run_dir
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    if not is_finished_run(folder):
        missing = [n for n in (TIMESERIES, SCENARIO, "summary.json")
                   if not (folder / n).exists()]
        raise UserError(f"{folder}: not a finished run (missing {', '.join(missing)})")
    try:
        check_writable(folder)
    except FolderError as exc:
        raise UserError(str(exc)) from None
    paths = redraw(folder, _formats(args))
    print(f"redrew {folder}/: " + ", ".join(p.name for p in paths.values()))
    return 0


def cmd_survival(args: argparse.Namespace) -> int:
    """events.csv, survival.csv and survival.png in a finished cohort folder
    (`cohorts.survival`)."""
    from ..cohorts.survival import SurvivalError, parse_allocation, write_survival
    from ..outputs.folders import FolderError, check_writable

    folder = args.cohort_dir
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    try:
        allocation = parse_allocation(args.randomise) if args.randomise else None
        check_writable(folder)
        paths = write_survival(folder, args.reference, allocation=allocation)
    except (SurvivalError, FolderError) as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {folder}/: " + ", ".join(p.name for p in paths.values()))
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    """The scenario (or the approved regimen) in the browser (`bispecific.viz`)."""
    import importlib.util

    from ..simulation.scenario_model import default_scenario

    scenario = _load(args.scenario) if args.scenario else default_scenario()
    if importlib.util.find_spec("solara") is None:
        raise UserError("bispecific view needs the viz extra: pip install -e '.[viz]'")
    from ..viz.server import serve

    serve(args.scenario, scenario, host=args.host, port=args.port,
          open_browser=not args.no_browser, announce=lambda line: print(line, flush=True))
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run, "compare": cmd_compare, "validate": cmd_validate, "plot": cmd_plot,
    "cohort": cmd_cohort, "view": cmd_view, "sensitivity": cmd_sensitivity,
    "optimise": cmd_optimise, "survival": cmd_survival,
}
