"""What a run will take, before it starts: memory and time from its grid and days.

Measured on the reference machine (2 cores, benchmarks/results/full.md) with a 28 ug/day
infusion: a process holds about 300 MB before its patch (Python, NumPy, Numba's compiled
kernels), and a patch about 200 bytes per voxel at its peak (cells, bound molecules at about
1.2 per voxel, their spare capacity, the records and snapshots; 1024^2 peaked at 460 MB).
A step costs about 10 ns per agent (about 2 agents per voxel), and a run about 10 s more
(loading the kernels, building the patch). Estimates, to the nearest order that decides
whether a run fits: not measurements of this machine.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .. import units
from ..scenario import Scenario

BASE_BYTES = 300e6
BYTES_PER_VOXEL = 200.0
AGENTS_PER_VOXEL = 2.0
SECONDS_PER_UPDATE = 10e-9
BASE_SECONDS = 10.0


@dataclass(frozen=True)
class Estimate:
    """A run's expected peak memory (bytes) and wall time (seconds)."""

    memory_bytes: float
    seconds: float

    def text(self) -> str:
        """e.g. 'about 54 GB of memory and 3 days'."""
        return f"about {format_bytes(self.memory_bytes)} of memory and {format_time(self.seconds)}"


def estimate(scenario: Scenario) -> Estimate:
    """The memory and time a run of `scenario` is expected to take (module docstring)."""
    voxels = scenario.grid.width * scenario.grid.height
    steps = scenario.days * units.MINUTES_PER_DAY / scenario.simulation.dt_minutes
    return Estimate(BASE_BYTES + BYTES_PER_VOXEL * voxels,
                    BASE_SECONDS + SECONDS_PER_UPDATE * AGENTS_PER_VOXEL * voxels * steps)


def available_memory() -> int | None:
    """Bytes of memory this machine can give a new process now (Linux's MemAvailable,
    else the physical memory), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_problem(scenario: Scenario, available: int | None = None) -> str | None:
    """Why `scenario` cannot fit in this machine's memory, with the estimate; None if it
    can (or the memory is unknown)."""
    available = available_memory() if available is None else available
    need = estimate(scenario)
    if available is None or need.memory_bytes <= available:
        return None
    g = scenario.grid
    return (f"a {g.width}x{g.height} grid for {scenario.days:g} days needs {need.text()}, "
            f"and this machine has {format_bytes(available)} of memory available; use a "
            "smaller grid or fewer days, or add --force to try anyway")


def format_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{_round(n / size)} {unit}"
    return f"{_round(n / 1e3)} kB"


def format_time(seconds: float) -> str:
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return f"{_round(seconds / size)} {unit}"
    return f"{_round(seconds)} s"


def _round(x: float) -> str:
    """Two significant figures, no more: these are estimates."""
    if x <= 0 or not math.isfinite(x):
        return f"{x:g}"
    x = float(f"{x:.2g}")
    digits = max(0, 1 - int(math.floor(math.log10(x))))
    return f"{x:,.{digits}f}"
