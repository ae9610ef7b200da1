"""The `bispecific` command: a thin layer over library calls a script could make itself.

Errors in the user's input (a bad scenario, flag or path) print one line and exit with
status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .scenario import Scenario, ScenarioError, load_scenario

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

    run = sub.add_parser("run", help="run a scenario and write its outputs")
    run.add_argument("scenario", type=Path, help="scenario .toml file")
    run.add_argument("--out", type=Path, help="output folder (default runs/<scenario name>)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--days", type=float, help="override the scenario's length in days")
    run.add_argument("--quiet", action="store_true", help="no progress bar or messages")

    validate = sub.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario", type=Path)
    return parser


def _load(path: Path, seed: int | None = None, days: float | None = None) -> Scenario:
    scenario = load_scenario(path)
    changes = {k: v for k, v in (("seed", seed), ("days", days)) if v is not None}
    if changes:
        try:
            scenario = scenario.with_changes(**changes)
        except ScenarioError as exc:
            flag = " ".join(f"--{k} {v}" for k, v in changes.items())
            raise UserError(f"{flag}: {str(exc).split(': ', 1)[1]}") from None
    return scenario


def _cmd_validate(args: argparse.Namespace) -> int:
    s = _load(args.scenario)
    print(f"{args.scenario}: ok ({s.name}, {s.days:g} days, {s.grid.width}x{s.grid.height} "
          f"voxels, {len(s.schedule.infusions)} infusion and {len(s.schedule.boluses)} "
          "bolus entries)")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .outputs import write_run
    from .run import run_scenario

    scenario = _load(args.scenario, args.seed, args.days)
    out = args.out or Path("runs") / scenario.name
    _check_writable(out)
    progress = None
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=round(scenario.days * 24), unit="h", desc=scenario.name,
                   file=sys.stderr)
        progress = bar.update
    try:
        result = run_scenario(scenario, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    paths = write_run(result, out)
    if not args.quiet:
        s = result.summary
        print(f"{scenario.name}: blasts {s['initial_blasts']} -> {s['final_blasts']} "
              f"(log10 reduction {s['blast_log10_reduction']:.2f}), "
              f"complete response: {'yes' if s['complete_response'] else 'no'}, "
              f"{s['wall_time_s']:.1f} s")
        print(f"wrote {paths['timeseries'].parent}/: "
              + ", ".join(p.name for p in paths.values()))
    return 0


def _check_writable(out: Path) -> None:
    """Fail before running, not after, when the output folder cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".bispecific-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UserError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; no outputs were completed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
