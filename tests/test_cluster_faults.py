"""A Dask cluster that fails mid-run ends the command within a stated time, in one line,
with nothing that `distributed` logs on the screen, and the finished runs kept: the next
run does only the rest (issue 25). Everything listens on loopback only."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bispecific.cohorts.engines import ClusterLost, DaskEngine
from bispecific.cohorts.runner import Task, TaskStore, run_tasks
from bispecific.scenario import Scenario

from .stand_ins import hang_on_seed_99

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).parent.parent
LOST_S = 2.0
SEEDS = (1, 2, 99, 3)  # 99 hangs on one worker thread; the others finish on the other


def _tasks() -> list[Task]:
    return [Task(i, "arm", Scenario(name="x", days=1.0, seed=s), f"key{s}")
            for i, s in enumerate(SEEDS)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BISPECIFIC_TEST_HANG": str(tmp / "hang")}
    return subprocess.Popen([sys.executable, "-m", *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _worker(address: str, tmp: Path) -> subprocess.Popen:
    """A worker in a process of its own (no nanny to bring it back), so that it can die."""
    return _start(tmp, "distributed.cli.dask_worker", address, "--no-nanny", "--nthreads",
                  "2", "--no-dashboard", "--host", "127.0.0.1")


def _wait_for_workers(address: str, n: int) -> None:
    with distributed.Client(address, timeout="60s") as client:
        client.wait_for_workers(n, timeout=120)


def _when_started(tmp: Path, act) -> threading.Thread:
    """Do `act` once the hanging run has started and every other run is saved."""
    def watch() -> None:
        while not ((tmp / "started").exists()
                   and len(list((tmp / "tasks").glob("*.json"))) == len(SEEDS) - 1):
            time.sleep(0.05)
        act()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)
        process.kill()
    process.wait()


def _lose(tmp, address, victim, how, capfd) -> TaskStore:
    """Run the four tasks until `victim` is sent `how`; returns the store."""
    (tmp / "hang").touch()
    store = TaskStore(tmp / "tasks")
    store.folder.mkdir(exist_ok=True)
    thread = _when_started(tmp, lambda: victim.send_signal(how))
    with pytest.raises(ClusterLost) as lost:
        with DaskEngine(address, simulate=hang_on_seed_99, lost_timeout_s=LOST_S) as engine:
            run_tasks(engine, store, _tasks())
    thread.join()
    message = str(lost.value)
    assert "\n" not in message and f"for {LOST_S:g} s" in message
    assert "run the same command again" in message
    err = capfd.readouterr().err
    assert "distributed" not in err and "Traceback" not in err, err
    done = {t.scenario.seed for t in _tasks() if store.result(t) is not None}
    assert done == {1, 2, 3}  # finished before the loss, and kept
    return store


def test_losing_every_worker_ends_the_run_and_the_next_run_resumes(tmp_path, capfd):
    with distributed.LocalCluster(n_workers=0, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        worker = _worker(address, tmp_path)
        try:
            _wait_for_workers(address, 1)
            store = _lose(tmp_path, address, worker, signal.SIGKILL, capfd)
        finally:
            _stop(worker)
        (tmp_path / "hang").unlink()
        worker = _worker(address, tmp_path)
        try:
            _wait_for_workers(address, 1)
            with DaskEngine(address, simulate=hang_on_seed_99, lost_timeout_s=LOST_S) as engine:
                assert run_tasks(engine, store, _tasks()) == 1  # only what was missing
        finally:
            _stop(worker)
    assert all(store.result(t) is not None for t in _tasks())


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP],
                         ids=["scheduler killed", "scheduler not answering"])
def test_losing_the_scheduler_ends_the_run_in_one_line(tmp_path, capfd, how):
    address = f"tcp://127.0.0.1:{_free_port()}"
    scheduler = _start(tmp_path, "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                       "--port", address.rsplit(":", 1)[1], "--no-dashboard")
    worker = _worker(address, tmp_path)
    try:
        _wait_for_workers(address, 1)
        _lose(tmp_path, address, scheduler, how, capfd)
    finally:
        (tmp_path / "hang").unlink(missing_ok=True)
        _stop(scheduler)
        _stop(worker)
