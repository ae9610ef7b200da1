"""The `bispecific` command: a thin layer over library calls a script could make itself.

Errors in the user's input (a bad scenario, flag or path) print one line and exit with
status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..scenario import Scenario, ScenarioError, load_scenario
from ..scenario.names import slug

EXIT_USAGE = 2


class UserError(Exception):
    """Bad input from the user; the message is printed as is."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + error
        raise UserError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bispecific",
                     description="Simulate blinatumomab therapy in a patch of B-ALL marrow.")
    parser.add_argument("--version", action="version", version=f"bispecific {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run a scenario and write its outputs and figures")
    run.add_argument("scenario", type=Path, help="scenario .toml file")
    run.add_argument("--out", type=Path, help="output folder (default runs/<scenario name>)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--days", type=float, help="override the scenario's length in days")
    _figure_flags(run)
    run.add_argument("--snapshots", type=_day_list, metavar="DAYS",
                     help="days for grid snapshots, comma-separated (default 0,1/4,1/2,end)")
    run.add_argument("--animate", action="store_true",
                     help="also write animation.gif of the grid (a frame every 6 h)")
    run.add_argument("--quiet", action="store_true", help="no progress bar or messages")

    compare = sub.add_parser("compare", help="run several scenarios and compare them")
    compare.add_argument("scenarios", type=Path, nargs="+", help="scenario .toml files")
    compare.add_argument("--out", type=Path, default=Path("runs") / "comparison",
                         help="output folder (default runs/comparison)")
    compare.add_argument("--days", type=float, help="override every scenario's length")
    _figure_flags(compare)
    compare.add_argument("--quiet", action="store_true", help="no progress bar or messages")

    validate = sub.add_parser("validate",
                              help="check a scenario or cohort file without running it")
    validate.add_argument("scenario", type=Path)

    cohort = sub.add_parser("cohort", help="run a virtual cohort: many patients, several arms")
    cohort.add_argument("cohort", type=Path, help="cohort .toml file")
    cohort.add_argument("--out", type=Path, help="output folder (default runs/<cohort name>)")
    cohort.add_argument("--patients", type=_positive_int, help="override the patient count")
    engine = cohort.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=_positive_int,
                        help="local worker processes (default: every core)")
    engine.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on a Dask distributed scheduler, e.g. tcp://host:8786")
    cohort.add_argument("--quiet", action="store_true", help="no progress bar or messages")

    plot = sub.add_parser("plot", help="redraw the figures of a finished run")
    plot.add_argument("run_dir", type=Path, help="a folder written by 'bispecific run'")
    _figure_flags(plot)
    return parser


def _figure_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--svg", action="store_true", help="write SVG figures as well as PNG")


def _day_list(text: str) -> list[float]:
    try:
        days = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a comma-separated list of days, e.g. 0,7,14,28") from None
    if not days or any(d < 0 for d in days):
        raise argparse.ArgumentTypeError(f"'{text}': days must be 0 or more")
    return days


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}': must be 1 or more")
    return value


def _formats(args: argparse.Namespace) -> tuple[str, ...]:
    return ("png", "svg") if args.svg else ("png",)


def _load(path: Path, seed: int | None = None, days: float | None = None) -> Scenario:
    if _file_kind(path) == "cohort":
        raise UserError(f"{path}: is a cohort file; run it with 'bispecific cohort {path}'")
    scenario = load_scenario(path)
    changes = {k: v for k, v in (("seed", seed), ("days", days)) if v is not None}
    if changes:
        try:
            scenario = scenario.with_changes(**changes)
        except ScenarioError as exc:
            flag = " ".join(f"--{k} {v}" for k, v in changes.items())
            raise UserError(f"{flag}: {str(exc).split(': ', 1)[1]}") from None
    return scenario


def _file_kind(path: Path) -> str | None:
    """"cohort" or "scenario" by the file's head table; None when it has neither or cannot
    be read (the loader then reports the problem in one line)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not TOML, a NUL in the path
        return None
    return next((kind for kind in ("cohort", "scenario") if kind in data), None)


def _cmd_validate(args: argparse.Namespace) -> int:
    if _file_kind(args.scenario) == "cohort":
        from ..cohorts.spec import load_cohort

        c = load_cohort(args.scenario)
        print(f"{args.scenario}: ok (cohort {c.name}, {c.patients} patients, arms "
              f"{', '.join(a.name for a in c.arms)}, covariates "
              f"{', '.join(v.name for v in c.covariates) or 'none'})")
        return 0
    s = _load(args.scenario)
    print(f"{args.scenario}: ok ({s.name}, {s.days:g} days, {s.grid.width}x{s.grid.height} "
          f"voxels, {len(s.schedule.infusions)} infusion and {len(s.schedule.boluses)} "
          "bolus entries)")
    return 0


def _progress_bar(scenario: Scenario, quiet: bool):
    """A tqdm bar in simulated hours on a terminal; None when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=round(scenario.days * 24), unit="h", desc=scenario.name,
                file=sys.stderr, leave=False)


def _run_one(scenario: Scenario, quiet: bool, **kwargs):
    from ..simulation.run import run_scenario

    bar = _progress_bar(scenario, quiet)
    try:
        return run_scenario(scenario, progress=None if bar is None else bar.update, **kwargs)
    finally:
        if bar is not None:
            bar.close()


def _one_line(result) -> str:
    s = result.summary
    return (f"{s['scenario']}: blasts {s['initial_blasts']} -> {s['final_blasts']} "
            f"(log10 reduction {s['blast_log10_reduction']:.2f}, CR "
            f"{'yes' if s['complete_response'] else 'no'}), peak IL-6 "
            f"{s['peak_il6_pg_per_ml']:.0f} pg/mL, CRS grade {s['crs_grade_max']}, "
            f"risk {s['crs_risk']:.2f}; {result.wall_time_s:.1f} s")


def _cmd_run(args: argparse.Namespace) -> int:
    from ..outputs.files import write_run
    from ..simulation.run import snapshot_days_problem

    scenario = _load(args.scenario, args.seed, args.days)
    if args.snapshots is not None:
        problem = snapshot_days_problem(args.snapshots, scenario.days)
        if problem is not None:
            raise UserError(f"--snapshots {','.join(f'{d:g}' for d in args.snapshots)}: "
                            f"{problem}")
    out = args.out or Path("runs") / slug(scenario.name)
    _check_folder(out, "run")
    result = _run_one(scenario, args.quiet, snapshot_days=args.snapshots,
                      frame_every_h=6.0 if args.animate else None)
    paths = write_run(result, out, _formats(args))
    if not args.quiet:
        print(_one_line(result))
        print(f"wrote {out}/: " + ", ".join(p.name for p in paths.values()))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..outputs.files import write_comparison

    scenarios = [_load(path, days=args.days) for path in args.scenarios]
    names = [slug(s.name) for s in scenarios]  # each run's folder in the comparison
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise UserError(f"two scenarios are named '{dup}' (or alike, as folder names); "
                        "names must differ to compare them")
    _check_folder(args.out, "comparison")
    results = [_run_one(s, args.quiet) for s in scenarios]
    paths = write_comparison(results, args.out, _formats(args))
    if not args.quiet:
        for r in results:
            print(_one_line(r))
        print(f"wrote {paths['comparison_csv']} and {paths['comparison_figure']}")
    return 0


def _cmd_cohort(args: argparse.Namespace) -> int:
    from ..cohorts.runner import run_cohort
    from ..cohorts.spec import load_cohort

    if _file_kind(args.cohort) == "scenario":
        raise UserError(f"{args.cohort}: is a scenario file; run it with "
                        f"'bispecific run {args.cohort}'")
    cohort = load_cohort(args.cohort)
    if args.patients:
        cohort = cohort.with_patients(args.patients)
    out = args.out or Path("runs") / slug(cohort.name)
    _check_folder(out, "cohort")
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=cohort.patients * len(cohort.arms), unit="run", desc=cohort.name,
                   file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.n = done
            bar.refresh()

    from ..cohorts.runner import WorkerLost

    try:
        paths = run_cohort(cohort, out, workers=args.workers, scheduler=args.scheduler,
                           progress=progress)
    except WorkerLost as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, RuntimeError) as exc:
        if args.scheduler:
            raise UserError(f"--scheduler {args.scheduler}: {exc}") from None
        raise
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        import pandas as pd

        arms = pd.read_csv(paths["arms"])
        for _, a in arms.iterrows():
            print(f"{a['arm']}: {int(a['patients'])} patients, CR {a['cr_rate']:.0%} "
                  f"({a['cr_rate_low']:.0%}-{a['cr_rate_high']:.0%}), CRS any "
                  f"{a['crs_any_rate']:.0%}, grade >= 3 {a['crs_grade3_rate']:.0%}, median "
                  f"peak IL-6 {a['median_peak_il6_pg_per_ml']:.0f} pg/mL")
        failed = len(pd.read_csv(paths["failures"]))
        if failed:
            print(f"{failed} runs failed: see {paths['failures']}")
        print(f"wrote {out}/: " + ", ".join(p.name for p in paths.values()))
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from ..outputs.files import SCENARIO, TIMESERIES, is_finished_run, redraw

    folder = args.run_dir
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    if not is_finished_run(folder):
        missing = [n for n in (TIMESERIES, SCENARIO, "summary.json")
                   if not (folder / n).exists()]
        raise UserError(f"{folder}: not a finished run (missing {', '.join(missing)})")
    _check_folder(folder, "run")
    paths = redraw(folder, _formats(args))
    print(f"redrew {folder}/: " + ", ".join(p.name for p in paths.values()))
    return 0


def _check_folder(out: Path, kind: str) -> None:
    """Fail before running, not after, when the output folder cannot or must not be used."""
    from ..outputs.folders import FolderError, check_folder

    try:
        check_folder(out, kind)
    except FolderError as exc:
        raise UserError(f"--out {exc}") from None


COMMANDS = {"run": _cmd_run, "compare": _cmd_compare, "validate": _cmd_validate,
            "plot": _cmd_plot, "cohort": _cmd_cohort}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UserError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: finished results are kept; run the same command again to "
              "continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
