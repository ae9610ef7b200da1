"""How many threads a patch's step uses.

The kernels give bit-identical results for any number of threads (docs/model.md s.7), so the
count is purely a matter of speed and may change from one step to the next. It is chosen:

- **forced** by `NUMBA_NUM_THREADS` in the environment (that many threads, always), or by
  `parallel = false` (one thread);
- otherwise **automatically**: never more threads than the cores this process may run on
  (`os.sched_getaffinity`), than Numba's pool, or than the process's budget (a cohort worker
  gets `cores // workers`, see `limit_process_threads`); starting from the cores that the
  load average leaves free; on a patch too small to gain (`parallel` absent), one thread;
- and then **by measurement**: a step's wall time is recorded, and now and then a few steps
  are run with the other count (one thread, or all allowed). Whichever was faster is kept.
  The probes cost at most `PROBE_BUDGET` of the run's time, so a busy machine, where threads
  wait for cores that other processes hold, costs a few per cent instead of most of the run.

Why threads lost on a busy machine: Numba's OpenMP layer (GNU libgomp) lets idle threads
spin at the end of every parallel region, waiting for the next one. With other processes on
the cores, a spinning thread uses up its time slice and is descheduled, and the next region
then waits for it to be scheduled again: each region paid a time slice (milliseconds).
Importing this module sets `OMP_WAIT_POLICY=PASSIVE` unless the environment sets a policy:
idle threads sleep at once, so a woken thread is scheduled promptly (a region then costs
~10-20 us however busy the cores are, against a few us when spinning on a quiet machine).
"""

from __future__ import annotations

import os
import statistics

if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # read when Numba first starts its threads

# Below this many voxels (about 30,000 agents at 28 ug/day) a step takes tens of
# microseconds, and waking threads costs more than they save: `parallel` absent means one.
MIN_PARALLEL_VOXELS = 128 * 128
# Share of a run's time that probing the other thread count may cost.
PROBE_BUDGET = 0.02
# Steps per probe; the first wakes the threads and is not counted.
PROBE_STEPS = 5
# Steps before the first probe, and the least steps between probes.
FIRST_PROBE_AFTER = 8
MIN_STEPS_BETWEEN_PROBES = 64
# The other count must be this much faster to be adopted (noise margin).
SWITCH_MARGIN = 0.93

_process_budget: int | None = None


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def busy_cores() -> float:
    """Cores other processes keep busy: the 1-minute load average (0 where unknown)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        return 0.0


def forced_threads() -> int | None:
    """The thread count set by `NUMBA_NUM_THREADS` in the environment, if any."""
    value = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if not value:
        return None
    try:
        return max(1, int(value))
    except ValueError:
        return None


def numba_pool_size() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def limit_process_threads(threads: int) -> None:
    """Cap the threads any patch of this process uses (a cohort worker's share of the
    cores). `NUMBA_NUM_THREADS`, where set, still wins."""
    global _process_budget
    _process_budget = max(1, int(threads))


def process_budget() -> int | None:
    return _process_budget


def worker_threads(workers: int) -> int:
    """Threads per worker when `workers` processes share this machine: workers x threads
    never exceeds the cores."""
    return max(1, available_cores() // max(1, workers))


def thread_cap() -> int:
    """Most threads a patch may use in this process."""
    cap = min(available_cores(), numba_pool_size())
    if _process_budget is not None:
        cap = min(cap, _process_budget)
    return max(1, cap)


class ThreadPolicy:
    """Threads for each step of one patch: fixed, or adapted by measurement.

    `threads()` gives the count for the next step; `record(threads, seconds)` reports how
    long it took. `parallel`: True (use threads where they pay), False (one thread), None
    (automatic: as True, but one thread on a small patch).
    """

    def __init__(self, parallel: bool | None, voxels: int) -> None:
        self.adaptive = False
        self.fixed = 1
        forced = forced_threads()
        if parallel is False:
            self.reason = "parallel = false"
        elif forced is not None:
            self.fixed = min(forced, numba_pool_size())
            self.reason = "NUMBA_NUM_THREADS"
        else:
            cap = thread_cap()
            if cap <= 1:
                self.reason = "one core available"
            elif parallel is None and voxels < MIN_PARALLEL_VOXELS:
                self.reason = f"patch below {MIN_PARALLEL_VOXELS} voxels"
            else:
                self.adaptive = True
                self.reason = "adaptive"
                self.many = cap
                free = available_cores() - busy_cores()
                self.current = cap if free >= 1.5 else 1
                self.cost: dict[int, float | None] = {1: None, cap: None}
                self.since_probe = 0.0
                self.steps_since_probe = 0
                self.steps = 0
                self.probe: list[float] | None = None
                self.switches = 0

    def threads(self) -> int:
        if not self.adaptive:
            return self.fixed
        if self.probe is not None:
            return self._other()
        return self.current

    def _other(self) -> int:
        return 1 if self.current == self.many else self.many

    def record(self, threads: int, seconds: float) -> None:
        if not self.adaptive:
            return
        self.steps += 1
        if self.probe is not None:
            self.probe.append(seconds)
            if len(self.probe) >= PROBE_STEPS:
                self._end_probe()
            return
        old = self.cost[self.current]
        self.cost[self.current] = seconds if old is None else 0.9 * old + 0.1 * seconds
        self.since_probe += seconds
        self.steps_since_probe += 1
        if self._probe_due():
            self.probe = []

    def _probe_due(self) -> bool:
        if self.cost[self._other()] is None:
            return self.steps >= FIRST_PROBE_AFTER
        if self.steps_since_probe < MIN_STEPS_BETWEEN_PROBES:
            return False
        probe_cost = PROBE_STEPS * max(self.cost[self._other()], self.cost[self.current])
        return self.since_probe * PROBE_BUDGET >= probe_cost

    def _end_probe(self) -> None:
        other = self._other()
        measured = statistics.median(self.probe[1:])
        self.cost[other] = measured
        self.probe = None
        self.since_probe = 0.0
        self.steps_since_probe = 0
        if measured < SWITCH_MARGIN * self.cost[self.current]:
            self.current = other
            self.switches += 1

    def describe(self) -> str:
        if not self.adaptive:
            return f"{self.fixed} thread(s) ({self.reason})"
        return f"1 or {self.many} threads by measurement, now {self.current}"

    @classmethod
    def forced(cls, threads: int) -> ThreadPolicy:
        """Exactly `threads` threads for every step (tests and benchmarks)."""
        policy = cls(False, 0)
        policy.fixed = max(1, min(int(threads), numba_pool_size()))
        policy.reason = "forced"
        return policy
