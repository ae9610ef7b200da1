"""Guards before work (issue 25): a run that cannot fit in memory is refused with its
estimate, more workers than cores need --oversubscribe, and a second command on a cohort
folder is refused while the first holds it. Each is one line, exit 2, nothing written."""

import argparse
import dataclasses
import os

import pytest

from bispecific.cli import guards
from bispecific.cli.main import main
from bispecific.engine.core.threads import available_cores
from bispecific.outputs.folders import LOCK
from bispecific.outputs.lock import FolderLock
from bispecific.scenario import Grid, load_scenario
from bispecific.simulation import estimate as estimates

from .test_cli_failures import FLAT, GOOD

HUGE = GOOD.replace("width = 20\nheight = 20", "width = 16384\nheight = 16384").replace(
    "days = 1", "days = 28").replace("end_day = 1", "end_day = 28")


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 8 GB of memory available."""
    monkeypatch.setattr(estimates, "available_memory", lambda: 8 * 10**9)


def test_the_estimate_agrees_with_measured_peaks():
    # Peak memory measured for 6 h of 28 ug/day (resource.ru_maxrss): 290 MB at 64^2,
    # 460 MB at 1024^2. The estimate must be of that order, never far below.
    base = load_scenario(FLAT)
    for side, measured in ((64, 290e6), (1024, 460e6)):
        scenario = dataclasses.replace(base, grid=Grid(side, side), days=0.25)
        need = estimates.estimate(scenario)
        assert measured * 0.9 <= need.memory_bytes <= measured * 3


def test_validate_and_run_refuse_a_grid_that_cannot_fit(tmp_path, small_machine, capsys):
    path = tmp_path / "huge.toml"
    path.write_text(HUGE)
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "o")]):
        assert main(command) == 2
        line = _one_line(capsys)
        assert f"{path}: a 16384x16384 grid for 28 days needs about 54 GB of memory" in line
        assert "8.0 GB of memory available" in line and "--force" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.toml"]
    assert main(["validate", str(path), "--force"]) == 0  # the estimate is printed
    assert "a run takes about 54 GB of memory" in capsys.readouterr().out


def test_run_with_force_runs_what_the_estimate_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(estimates, "available_memory", lambda: 10**6)  # 1 MB: nothing fits
    path = tmp_path / "good.toml"
    path.write_text(GOOD.replace("days = 1", "days = 0.02").replace("end_day = 1",
                                                                     "end_day = 0.02"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert "add --force to try anyway" in _one_line(capsys) and not out.exists()
    assert main(["run", str(path), "--out", str(out), "--quiet", "--force"]) == 0
    assert (out / "summary.json").exists()


def test_more_workers_than_cores_need_oversubscribe(tmp_path, capsys):
    cohort = tmp_path / "c.toml"
    cohort.write_text(f'[cohort]\nname = "c"\npatients = 2\nseed = 1\n[[arm]]\nname = "a"\n'
                      f'scenario = "{FLAT.as_posix()}"\n')
    out = tmp_path / "out"
    assert main(["cohort", str(cohort), "--out", str(out), "--workers", "1000"]) == 2
    line = _one_line(capsys)
    assert f"--workers 1000: this process may use {available_cores()} cores" in line
    assert "--oversubscribe" in line and not out.exists()
    args = argparse.Namespace(workers=1000, oversubscribe=True)
    guards.check_workers(args)  # allowed when asked for


def test_a_second_command_on_a_locked_cohort_folder_is_refused(tmp_path, capsys):
    cohort = tmp_path / "c.toml"
    cohort.write_text(f'[cohort]\nname = "c"\npatients = 2\nseed = 1\ndays = 0.05\n[[arm]]\n'
                      f'name = "a"\nscenario = "{FLAT.as_posix()}"\n')
    out = tmp_path / "out"
    with FolderLock(out):  # the first command, still running
        assert main(["cohort", str(cohort), "--out", str(out), "--workers", "1"]) == 2
        line = _one_line(capsys)
        assert f"another bispecific command (process {os.getpid()}) is writing into" in line
        assert sorted(p.name for p in out.iterdir()) == [LOCK]  # the second wrote nothing
    assert not out.exists()  # the lock's folder was empty: it goes with the lock


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    out = tmp_path / "out"
    lock = FolderLock(out).__enter__()
    os.close(lock._fd)  # what the kernel does when the holder dies: the lock is released
    lock._fd = None
    with FolderLock(out):  # taken at once, though the file is still there
        pass
