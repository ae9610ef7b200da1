"""Every write consistent under faults (issue 25): a full disk (a writer that raises ENOSPC)
during a cohort leaves no status file saying "running", and during `run` leaves the output
folder as it was, or absent."""

import errno
import json
import os
from pathlib import Path

import pytest

from bispecific.cli.main import main
from bispecific.cohorts import folder as cohort_folder
from bispecific.cohorts import runner
from bispecific.cohorts.spec import load_cohort

from .stand_ins import parameter_response
from .test_cli_failures import GOOD, tiny_cohort  # noqa: F401 (a fixture)


def _enospc(path) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


class FullDisk:
    """A writer that fills the disk after `room` more files under `under`: every write
    after that raises ENOSPC, as a full disk does."""

    def __init__(self, write, under: Path, room: int) -> None:
        self.write, self.under, self.room = write, under, room

    def __call__(self, path, text) -> None:
        if Path(path).is_relative_to(self.under):
            if self.room <= 0:
                raise _enospc(path)
            self.room -= 1
        self.write(path, text)


@pytest.fixture
def small_cohort(request):
    """test_cli_failures' tiny cohort: 2 patients, 12x12, 0.05 days."""
    return load_cohort(request.getfixturevalue("tiny_cohort"))


def _status(out: Path) -> dict:
    return json.loads((out / "cohort.json").read_text())


def test_a_disk_full_mid_cohort_leaves_no_status_saying_running(small_cohort, tmp_path,
                                                                 monkeypatch):
    out = tmp_path / "out"
    disk = FullDisk(runner.atomic_write_text, out / "tasks", room=1)
    monkeypatch.setattr(runner, "atomic_write_text", disk)
    monkeypatch.setattr(cohort_folder, "atomic_write_text",
                        FullDisk(cohort_folder.atomic_write_text, out, room=10**6))
    with pytest.raises(OSError) as failed:
        runner.run_cohort(small_cohort, out, workers=1, simulate=parameter_response)
    assert failed.value.errno == errno.ENOSPC
    # The manifest could not be rewritten either (the disk is full): it says what is true.
    status = _status(out)["status"]
    assert status != "running" and status in ("unfinished", "stopped")
    assert len(list((out / "tasks").glob("*.json"))) == 1  # what was saved is kept


def test_a_cohort_stopped_early_says_so_and_why(small_cohort, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        runner.run_cohort(small_cohort, out, workers=1, simulate=parameter_response,
                          stop_after=1)
    info = _status(out)
    assert info["status"] == "stopped" and "stopped after 1 runs" in info["stopped_because"]


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "good.toml"
    path.write_text(GOOD.replace("days = 1", "days = 0.05").replace("end_day = 1",
                                                                     "end_day = 0.05"))
    return path


def _full_disk_run(scenario: Path, out: Path, monkeypatch, capsys, *flags: str) -> str:
    """`bispecific run` with every write into `out` failing for want of space."""
    write_text = Path.write_text

    def full(self, *args, **kwargs):
        if self.is_relative_to(out):
            raise _enospc(self)
        return write_text(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(Path, "write_text", full)
        assert main(["run", str(scenario), "--out", str(out), "--quiet", *flags]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_full_disk_during_run_leaves_no_new_folder(tmp_path, monkeypatch, capsys):
    out = tmp_path / "new" / "out"
    err = _full_disk_run(_scenario(tmp_path), out, monkeypatch, capsys)
    assert "No space left on device" in err and "it holds what it held before" in err
    assert not out.exists() and not out.parent.exists()


def test_a_full_disk_during_run_keeps_the_previous_run(tmp_path, monkeypatch, capsys):
    scenario, out = _scenario(tmp_path), tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _full_disk_run(scenario, out, monkeypatch, capsys, "--seed", "5")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
