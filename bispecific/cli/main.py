"""The `bispecific` command: a thin layer over library calls a script could make itself.

Every failure is one line on stderr and an exit status that says what happened:

    0    finished
    1    the run failed: an error in the model, outputs that could not be written (a full
         disk, a folder made unwritable), a lost worker or cluster, or a cohort in which
         some runs failed (the others are kept); the line says what was kept
    2    bad input (a scenario, cohort, flag or path): nothing was written
    130  interrupted by Ctrl-C; 143 stopped by a kill (SIGTERM); the line says what was
         kept and how to continue
    141  standard output was closed before everything was printed (`... | head -1`); the
         work itself finished
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from . import commands
from .errors import Interrupted, RunFailed, Terminated, UserError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141
EXIT_TERMINATED = 143


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
    run.add_argument("--checkpoint-every", type=_positive_hours, metavar="HOURS",
                     help="save the whole run every HOURS of simulated time; after Ctrl-C or "
                          "a kill, the same command continues from the last save")
    run.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    _force_flag(run)

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
    _force_flag(validate)

    cohort = sub.add_parser("cohort", help="run a virtual cohort: many patients, several arms")
    cohort.add_argument("cohort", type=Path, help="cohort .toml file")
    cohort.add_argument("--out", type=Path, help="output folder (default runs/<cohort name>)")
    cohort.add_argument("--patients", type=_positive_int, help="override the patient count")
    engine = cohort.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=_positive_int,
                        help="local worker processes (default: every core it may use)")
    engine.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on a Dask distributed scheduler, e.g. tcp://host:8786")
    cohort.add_argument("--fresh", action="store_true",
                        help="replace a folder that holds another cohort instead of refusing")
    cohort.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    _oversubscribe_flag(cohort)
    _verbose_flag(cohort)

    sensitivity = sub.add_parser(
        "sensitivity", help="which uncertain parameters decide the readouts: Morris or Sobol "
                            "indices over a virtual cohort (needs the analysis extra)")
    sensitivity.add_argument("file", type=Path, help="sensitivity .toml file")
    sensitivity.add_argument("--out", type=Path,
                             help="output folder (default runs/<analysis name>)")
    _engine_flags(sensitivity, "analysis")
    _figure_flags(sensitivity)

    optimise = sub.add_parser(
        "optimise", help="search a family of schedules for the best response at acceptable "
                         "CRS over a virtual cohort (needs the analysis extra)")
    optimise.add_argument("file", type=Path, help="optimiser .toml file")
    optimise.add_argument("--out", type=Path, help="output folder (default runs/<search name>)")
    optimise.add_argument("--trials", type=_positive_int,
                          help="override the number of schedules tried (more extend a search)")
    _engine_flags(optimise, "search")
    _figure_flags(optimise)

    view = sub.add_parser("view", help="open a scenario in the browser: play it, change it, "
                                       "save it (needs the viz extra)")
    view.add_argument("scenario", type=Path, nargs="?",
                      help="scenario .toml file (default: the approved 9 -> 28 ug/day regimen)")
    view.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    view.add_argument("--host", default="127.0.0.1", help="address to listen on "
                      "(default 127.0.0.1, this machine only)")
    view.add_argument("--no-browser", action="store_true", help="do not open a browser")

    plot = sub.add_parser("plot", help="redraw the figures of a finished run")
    plot.add_argument("run_dir", type=Path, help="a folder written by 'bispecific run'")
    _figure_flags(plot)

    survival = sub.add_parser(
        "survival", help="event times, Kaplan-Meier OS/EFS by arm, Cox hazard ratios and a "
        "survival plot from a finished cohort folder (needs the trial extra)")
    survival.add_argument("cohort_dir", type=Path, help="a folder written by 'bispecific cohort'")
    survival.add_argument("--reference", metavar="ARM",
                          help="the arm hazard ratios are taken against (default: the last)")
    survival.add_argument("--randomise", metavar="RATIO",
                          help="randomise each patient to one arm by these weights, in the "
                          "cohort's arm order (e.g. 2:1); default: every patient in every arm")
    return parser


def _engine_flags(p: argparse.ArgumentParser, what: str) -> None:
    """Where the runs go and what happens to a folder of another run, as for `cohort`."""
    engine = p.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=_positive_int,
                        help="local worker processes (default: every core)")
    engine.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on a Dask distributed scheduler, e.g. tcp://host:8786")
    p.add_argument("--fresh", action="store_true",
                   help=f"replace a folder that holds another {what} instead of refusing")
    p.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    _oversubscribe_flag(p)
    _verbose_flag(p)


def _force_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true",
                   help="run even when the estimate says it cannot fit in memory")


def _oversubscribe_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--oversubscribe", action="store_true",
                   help="allow --workers above the cores this process may use")


def _verbose_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--verbose", action="store_true",
                   help="show what Dask logs (kept off the screen otherwise)")


def _figure_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--svg", action="store_true", help="write SVG figures as well as PNG")


def _day_list(text: str) -> list[float]:
    try:
        days = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a comma-separated list of days, e.g. 0,7,14,28") from None
    if not days or any(not d >= 0 for d in days):  # 'not >=' also refuses nan
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


def _positive_hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of hours") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"'{text}': must be a number of hours above 0")
    return value


def _print_error(message: object, status: int) -> int:
    text = str(message).replace("\r", "\\r").replace("\n", "\\n")  # one line, always
    print(f"error: {text}", file=sys.stderr)
    return status


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def _silence_stdout() -> None:
    """After a broken pipe: send what is left for stdout nowhere, so that Python's flush at
    exit does not fail a second time with a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    from ..cohorts.engines import ClusterLost, WorkerLost
    from ..outputs.folders import FolderError
    from ..scenario import ScenarioError

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
    try:
        args = _parser().parse_args(argv)
        status = commands.COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except (UserError, ScenarioError, FolderError) as exc:
        return _print_error(exc, EXIT_USAGE)
    except (RunFailed, WorkerLost, ClusterLost) as exc:
        return _print_error(exc, EXIT_FAILED)
    except Interrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return EXIT_TERMINATED if exc.terminated else EXIT_INTERRUPTED
    except KeyboardInterrupt as exc:
        print("interrupted", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return _print_error("standard output was closed before everything was printed "
                            "(broken pipe); the work itself finished", EXIT_PIPE)
    except MemoryError:
        return _print_error("out of memory: try a smaller grid or a shorter run", EXIT_FAILED)
    except OSError as exc:  # a file that could not be read or written, wherever it was
        where = f"{exc.filename}: " if exc.filename else ""
        return _print_error(f"{where}{exc.strerror or exc}", EXIT_FAILED)
    except Exception as exc:  # a bug: still one line, with the way to see more
        if os.environ.get("BISPECIFIC_TRACEBACK"):
            raise
        return _print_error(f"internal error: {type(exc).__name__}: {exc} (please report it; "
                            "BISPECIFIC_TRACEBACK=1 shows the traceback)", EXIT_FAILED)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
