"""Where a cohort's runs execute: local worker processes or a Dask cluster.

Both are context managers that connect (or start) on entry, before the cohort writes
anything, and yield (task, outcome) pairs as runs finish. A run that raises comes back as an
outcome with its error; a worker or cluster that fails ends the cohort with one line, its
finished results kept.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, Protocol

from ..engine.core.threads import available_cores
from ..scenario import Scenario

AGAIN = "finished results are kept: run the same command again to continue"


class SchedulerError(ValueError):
    """The Dask scheduler cannot be reached or its address is not one (bad input)."""


class WorkerLost(RuntimeError):
    """A worker process died mid-run (killed, out of memory); finished results are kept."""


class ClusterLost(RuntimeError):
    """The Dask cluster failed mid-run; finished results are kept."""


class HasScenario(Protocol):
    scenario: Any
    key: str


# What a worker computes from one resolved scenario: its summary. The model by default;
# a module-level function (so that it pickles) stands in for it where a test or a script
# needs a cheap objective evaluated on exactly the same path.
Simulator = Callable[[Scenario], dict[str, Any]]


def simulate_model(scenario: Scenario) -> dict[str, Any]:
    """The model's run summary (`simulation.summary`)."""
    from ..simulation.run import run_scenario

    return run_scenario(scenario).summary


def run_task(scenario: Scenario, simulate: Simulator | None = None) -> dict[str, Any]:
    """Run one patient x arm in a worker; errors come back as data, never as a crash."""
    try:
        summary = (simulate or simulate_model)(scenario)
        return {"ok": True, "summary": summary}
    except Exception as exc:  # a failing patient must not stop the cohort
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=5)}


def _ignore_interrupts() -> None:
    # Ctrl-C reaches every process in the terminal's group; an idle worker would die of it
    # with a traceback. Workers ignore it between runs and stop the run they are in.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_worker(threads: int, parent_pid: int) -> None:
    # A worker ends with the cohort process, however that ends (SIGKILL included).
    from .lifeline import tie_to_parent

    tie_to_parent(parent_pid)
    _ignore_interrupts()
    # Workers share the machine's cores: each worker's patches use at most its share, so
    # workers x threads never exceeds the cores (NUMBA_NUM_THREADS, where set, still decides).
    from ..engine.core.threads import limit_process_threads

    limit_process_threads(threads)


def _run_local(scenario: Scenario, simulate: Simulator | None) -> dict[str, Any]:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run_task(scenario, simulate)
    except KeyboardInterrupt:
        return {"ok": None, "interrupted": True}  # not a result: never saved
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalEngine:
    """`workers` local processes, spawned (Mesa's default; every worker imports afresh)."""

    def __init__(self, workers: int, simulate: Simulator | None = None) -> None:
        self.workers = workers
        self.simulate = simulate
        self.description = f"local, {workers} workers"
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalEngine:
        from ..engine.core.threads import worker_threads

        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker, initargs=(worker_threads(self.workers), os.getpid()))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._pool is not None
        if exc_type is not None:
            # Stopped early (Ctrl-C, a kill, a lost worker): the runs in progress cannot be
            # saved any more, so they are stopped rather than waited for. The executor has no
            # public way to do this before Python 3.14 (terminate_workers).
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run(self, tasks: Sequence[HasScenario]) -> Iterator[tuple[Any, dict[str, Any]]]:
        assert self._pool is not None
        futures = {self._pool.submit(_run_local, t.scenario, self.simulate): t for t in tasks}
        try:
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    raise WorkerLost("a worker process died (killed or out of memory); "
                                     + AGAIN) from None
                yield futures[future], outcome
        finally:
            for future in futures:
                future.cancel()


LOST_TIMEOUT_S = 60.0  # how long a cluster may have no worker, or no scheduler, mid-run
POLL_S = 0.5
ANSWER_S = 5.0  # how long the scheduler may take to say how many workers it has
QUIET_LOGGERS = ("distributed", "tornado")


@contextlib.contextmanager
def quiet_cluster_logs(verbose: bool = False) -> Iterator[None]:
    """Keep what `distributed` (and tornado under it) logs off the user's screen while the
    block runs: a lost cluster is said in one line, not in tracebacks. `verbose` shows it."""
    if verbose:
        yield
        return
    names = [n for n in logging.root.manager.loggerDict
             if n.split(".")[0] in QUIET_LOGGERS] + list(QUIET_LOGGERS)
    loggers = [logging.getLogger(n) for n in dict.fromkeys(names)]
    before = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, before, strict=True):
            logger.setLevel(level)


class DaskEngine:
    """A Dask distributed cluster, reached through its scheduler's address.

    A cluster that stops answering ends the run within `lost_timeout_s`: no worker left, or
    the scheduler unreachable, for that long raises `ClusterLost` (finished results are
    kept); a task that fails because its worker died does so at once. What `distributed`
    logs meanwhile stays off the screen unless `verbose`."""

    def __init__(self, address: str, connect_timeout_s: float = 30.0,
                 simulate: Simulator | None = None,
                 lost_timeout_s: float = LOST_TIMEOUT_S, verbose: bool = False) -> None:
        self.address = address
        self.simulate = simulate
        self.timeout = connect_timeout_s
        self.lost_timeout_s = lost_timeout_s
        self.verbose = verbose
        self.description = f"dask {address}"
        self._client: Any = None
        self._quiet: contextlib.ExitStack | None = None

    def __enter__(self) -> DaskEngine:
        try:
            from distributed import Client
        except ImportError:
            raise SchedulerError("needs the cluster extra: pip install 'bispecific[cluster]'"
                                 ) from None
        if not self.address.strip():
            raise SchedulerError("not an address; expected one like tcp://host:8786")
        self._quiet = contextlib.ExitStack()
        self._quiet.enter_context(quiet_cluster_logs(self.verbose))
        try:
            self._client = Client(self.address, timeout=f"{self.timeout}s")
        except Exception as exc:  # distributed raises ValueError, OSError, TimeoutError...
            self._quiet.close()
            raise SchedulerError(f"cannot connect ({exc})") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            with contextlib.suppress(Exception):  # closing a client of a cluster that is gone
                self._client.close(timeout=min(self.timeout, 10.0))
        finally:
            if self._quiet is not None:
                self._quiet.close()

    def _trouble(self) -> str | None:
        """What is wrong with the cluster now, or None."""
        lost = "the connection to the Dask scheduler is lost"
        if self._client.status != "running":
            return lost
        try:
            # A frozen scheduler never answers: the question has its own time limit.
            info = self._client.sync(self._client.scheduler.identity, n_workers=1,
                                     callback_timeout=ANSWER_S)
            workers = info.get("workers")
        except Exception:  # the scheduler does not answer (an OSError, a timeout...)
            return lost
        return None if workers else "the Dask cluster has no worker"

    def run(self, tasks: Sequence[HasScenario]) -> Iterator[tuple[Any, dict[str, Any]]]:
        from distributed import wait

        futures = {self._client.submit(run_task, t.scenario, self.simulate,
                                       key=f"bispecific-{t.key}", pure=False): t
                   for t in tasks}
        pending = set(futures)
        since: float | None = None
        try:
            while pending:
                try:
                    done, pending = wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                except Exception:  # the client cannot reach the scheduler: see _trouble
                    done = set()
                for future in done:
                    try:
                        outcome = future.result()
                    except Exception as exc:  # a lost scheduler or worker, a cancelled future
                        raise ClusterLost(f"the Dask cluster failed ({type(exc).__name__}: "
                                          f"{exc}); " + AGAIN) from None
                    yield futures[future], outcome
                trouble = self._trouble() if pending else None
                if trouble is None:
                    since = None
                    continue
                since = since if since is not None else time.monotonic()
                if time.monotonic() - since >= self.lost_timeout_s:
                    raise ClusterLost(f"{trouble} (for {self.lost_timeout_s:g} s); " + AGAIN)
        finally:
            with contextlib.suppress(Exception):  # nothing to cancel on a lost cluster
                self._client.cancel(list(futures))


def open_engine(workers: int | None = None, scheduler: str | None = None,
                connect_timeout_s: float = 30.0, simulate: Simulator | None = None,
                lost_timeout_s: float = LOST_TIMEOUT_S,
                verbose: bool = False) -> LocalEngine | DaskEngine:
    """The engine a command asks for: a Dask scheduler's address, else local workers (default:
    every core this process may run on). Not yet connected: use it as a context manager.
    `lost_timeout_s` and `verbose` are the Dask engine's (`DaskEngine`)."""
    if scheduler is not None:
        return DaskEngine(scheduler, connect_timeout_s, simulate, lost_timeout_s, verbose)
    return LocalEngine(workers or available_cores(), simulate)
