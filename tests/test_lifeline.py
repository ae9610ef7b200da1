"""Local worker processes end with the cohort process, however it ends (SIGKILL included):
nothing is left running under PID 1 (issue 25)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="lists processes through /proc")

# A cohort process: two local workers, each in a run that never ends. It prints the ids of
# every process it started once both runs have begun, then waits to be killed.
PARENT = """
import os, sys, threading, time
from pathlib import Path
sys.path.insert(0, {root!r})
from bispecific.cohorts.engines import LocalEngine
from bispecific.cohorts.runner import Task
from bispecific.scenario import Scenario
from tests.stand_ins import hang

started = Path(os.environ["BISPECIFIC_TEST_STARTED"])
tasks = [Task(i, "arm", Scenario(name="x", days=1.0, seed=i), f"key{{i}}") for i in range(2)]
engine = LocalEngine(2, hang).__enter__()
threading.Thread(target=lambda: list(engine.run(tasks)), daemon=True).start()
while len(list(started.iterdir())) < 2:
    time.sleep(0.05)

def children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found += [int(entry.name), *children(int(entry.name))]
    return found

print(" ".join(map(str, children(os.getpid()))), flush=True)
time.sleep(3600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


def test_workers_end_when_the_cohort_process_is_killed(tmp_path):
    env = {**os.environ, "BISPECIFIC_TEST_STARTED": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(root=str(ROOT))], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()
        workers = [int(p) for p in line.split()]
        started = {int(p.name) for p in tmp_path.iterdir()}
        assert started <= set(workers)  # the two runs are in processes the parent started
        assert len(started) == 2
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 30  # a bound on a hang, not a measure of speed
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in workers if _alive(p)]
    for p in left:  # never leave them behind, even when the test fails
        os.kill(p, signal.SIGKILL)
    assert not left, f"processes still running after their parent was killed: {left}"


# The portable watchdog alone (the parent-death signal switched off), as on macOS.
WATCHED = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", '''
import os, sys, time
sys.path.insert(0, {root!r})
from bispecific.cohorts import lifeline
lifeline._parent_death_signal = lambda signum: False
lifeline.tie_to_parent(os.getppid(), poll_s=0.1)
print("tied", flush=True)
time.sleep(3600)
'''], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "tied"
print(child.pid, flush=True)
time.sleep(3600)
"""


def test_the_watchdog_alone_ends_an_orphaned_worker():
    parent = subprocess.Popen([sys.executable, "-c", WATCHED.format(root=str(ROOT))],
                              stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the watchdog left its worker running after the parent was killed")
