"""Guards before work: a run that cannot fit in memory, more workers than cores. Each
refusal is one line (a `UserError`, exit 2) before anything runs or is written."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..scenario import Scenario
from .errors import UserError


def check_memory(path: Path, scenario: Scenario, force: bool) -> None:
    """Refuse, before any work, a run whose estimate cannot fit in this machine's memory."""
    from ..simulation.estimate import memory_problem

    problem = None if force else memory_problem(scenario)
    if problem is not None:
        raise UserError(f"{path}: {problem}")


def check_workers(args: argparse.Namespace) -> None:
    """Refuse more local workers than cores unless asked for (`--oversubscribe`)."""
    from ..engine.core.threads import available_cores

    cores = available_cores()
    if args.workers and args.workers > cores and not args.oversubscribe:
        raise UserError(f"--workers {args.workers}: this process may use {cores} cores; more "
                        "workers than cores slow each other down and each holds a model in "
                        "memory; add --oversubscribe to run them anyway")
