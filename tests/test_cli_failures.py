"""Every failure of the command line is one line with an exit status that says what happened,
and never leaves a half-written folder; interrupted runs say truly what was kept."""

import filecmp
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bispecific.cli import commands
from bispecific.cli.main import main
from bispecific.cohorts.engines import SchedulerError
from bispecific.cohorts.runner import run_cohort
from bispecific.cohorts.spec import load_cohort

from .test_cli import ROOT, assert_one_line_error, bispecific

SCENARIOS = ROOT / "scenarios"
FLAT = SCENARIOS / "flat_28.toml"
GOOD = """
[scenario]
name = "good"
days = 1
seed = 4

[grid]
width = 20
height = 20

[[dose]]
kind = "infusion"
start_day = 0
end_day = 1
rate_ug_per_day = 28
"""

# The inputs of issue #14 that once passed validation, each with what the line must say.
# validate and run must refuse each alike: they accept exactly the same files.
BAD_FILES = {
    "zero half-life": (GOOD + "[cytokines]\nil6_half_life_min = 0\n",
                       "[cytokines] il6_half_life_min = 0: expected a number from 0.01"),
    "NUL in the name": (GOOD.replace('name = "good"', 'name = "a\\u0000b"'),
                        "[scenario] name = 'a\\x00b': must have no control characters"),
    "dose past the end": (GOOD.replace("end_day = 1", "end_day = 3"),
                          "[[dose]] #1 end_day = 3: after the end of the run (days = 1)"),
    "interruption past the end": (GOOD + "[[interruption]]\nstart_day = 0.5\nend_day = 2\n",
                                  "[[interruption]] #1 end_day = 2: after the end of the run"),
    "empty name": (GOOD.replace('name = "good"', 'name = ""'),
                   "[scenario] name = '': must have at least one letter or digit"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_validate_and_run_refuse_the_same_files_alike(case, tmp_path):
    text, expected = BAD_FILES[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    by_validate = assert_one_line_error(bispecific("validate", path))
    by_run = assert_one_line_error(bispecific("run", path, cwd=tmp_path))
    assert by_validate == by_run and f"{path}: {expected}" in by_run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_snapshot_days_outside_the_run_are_refused(tmp_path):
    line = assert_one_line_error(bispecific("run", FLAT, "--days", "1", "--snapshots", "0,40",
                                            "--out", tmp_path / "out"))
    assert "--snapshots 0,40: day 40 is outside the run (days = 1); allowed 0 to 1" in line
    assert not (tmp_path / "out").exists()


def test_each_command_names_the_other_kind_of_file():
    line = assert_one_line_error(bispecific("run", SCENARIOS / "cohort_tower.toml"))
    assert "is a cohort file; run it with 'bispecific cohort" in line
    line = assert_one_line_error(bispecific("cohort", FLAT))
    assert "is a scenario file; run it with 'bispecific run" in line


@pytest.fixture
def tiny_cohort(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(f"""
[cohort]
name = "tiny"
patients = 2
seed = 3
days = 0.05
[grid]
width = 12
height = 12
[[arm]]
name = "flat"
scenario = "{FLAT}"
""")
    return path


def test_a_bad_scheduler_address_is_one_line_and_writes_nothing(tiny_cohort, tmp_path):
    out = tmp_path / "out"
    line = assert_one_line_error(bispecific("cohort", tiny_cohort, "--out", out,
                                            "--scheduler", "notanaddress"))
    assert line.startswith("error: --scheduler notanaddress: cannot connect (")
    assert not out.exists()


def test_an_unreachable_scheduler_is_refused_before_anything_is_written(tiny_cohort, tmp_path):
    pytest.importorskip("distributed")
    with pytest.raises(SchedulerError, match="cannot connect"):
        run_cohort(load_cohort(tiny_cohort), tmp_path / "out", scheduler="tcp://127.0.0.1:1",
                   connect_timeout_s=0.5)
    assert not (tmp_path / "out").exists()


def test_a_closed_stdout_is_one_line_and_the_run_is_complete(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -0`: every write to stdout fails
    try:
        r = subprocess.run([sys.executable, "-m", "bispecific", "run", FLAT, "--days", "0.05",
                            "--out", tmp_path / "out"], stdout=write_end,
                           stderr=subprocess.PIPE, text=True, timeout=600)
    finally:
        os.close(write_end)
    assert r.returncode == 141
    assert r.stderr.splitlines() == [
        "error: standard output was closed before everything was printed (broken pipe); "
        "the work itself finished"]
    assert (tmp_path / "out" / "summary.json").exists()


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs RLIMIT_FSIZE")
def test_a_full_disk_while_writing_is_one_line_and_keeps_the_previous_run(tmp_path):
    scenario = tmp_path / "good.toml"
    scenario.write_text(GOOD.replace("days = 1", "days = 0.2").replace("end_day = 1",
                                                                       "end_day = 0.2"))
    out = tmp_path / "out"
    r = bispecific("run", scenario, "--out", out, "--quiet")  # also warms every cache
    assert r.returncode == 0, r.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def small_files() -> None:  # a file may not grow past 20 kB: the figures cannot be saved
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    r = subprocess.run([sys.executable, "-m", "bispecific", "run", scenario, "--out", out,
                        "--seed", "5"], capture_output=True, text=True, timeout=600,
                       preexec_fn=small_files)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.splitlines() == [
        f"error: {out}: cannot write the outputs (File too large); it holds what it held "
        "before"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_an_internal_error_is_one_line_too(monkeypatch, capsys):
    def broken(args):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setitem(commands.COMMANDS, "validate", broken)
    monkeypatch.delenv("BISPECIFIC_TRACEBACK", raising=False)
    assert main(["validate", "x.toml"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: internal error: ZeroDivisionError: float division by zero (please report it; "
        "BISPECIFIC_TRACEBACK=1 shows the traceback)"]


def _interrupt_after(args: list, note: str, how: int) -> subprocess.CompletedProcess:
    """Start `bispecific run`, wait for a line with `note` on stderr (no sleeping: a note
    comes when what it reports is done), then signal it. The child starts with Ctrl-C's
    default action, as in a terminal: a suite started in the background (`cmd &` in a
    script) ignores SIGINT, children inherit that, and Python then leaves it ignored."""
    p = subprocess.Popen([sys.executable, "-m", "bispecific", "run", *map(str, args)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in p.stderr:
        seen.append(line)
        if note in line:
            p.send_signal(how)
            break
    out, err = p.communicate(timeout=600)
    return subprocess.CompletedProcess(p.args, p.returncode, out, "".join(seen) + err)


def _large(tmp_path: Path) -> Path:
    """A 1-day run on a patch large enough that it is still going when a signal lands."""
    scenario = tmp_path / "good.toml"
    scenario.write_text(GOOD.replace("width = 20\nheight = 20", "width = 150\nheight = 150"))
    return scenario


def test_ctrl_c_then_the_same_command_ends_byte_identical_to_an_uninterrupted_run(tmp_path):
    scenario = _large(tmp_path)
    out, reference = tmp_path / "out", tmp_path / "reference"
    command = [scenario, "--out", out, "--checkpoint-every", "1", "--animate"]

    r = _interrupt_after(command, "saved a checkpoint", signal.SIGINT)
    assert r.returncode == 130, r.stderr
    last = r.stderr.splitlines()[-1]
    assert last.startswith("interrupted: at hour ") and (
        f"; the checkpoint at hour 1 is kept in {out}/checkpoint.npz: run the same command "
        "again to continue from it") in last
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.npz"]

    r = _interrupt_after(command, "saved a checkpoint", signal.SIGTERM)  # a kill, this time
    assert r.returncode == 143, r.stderr
    assert "note: continuing from the checkpoint at hour 1" in r.stderr
    assert "interrupted: at hour" in r.stderr.splitlines()[-1]

    r = bispecific("run", *command)
    assert r.returncode == 0, r.stderr
    assert "note: continuing from the checkpoint at hour" in r.stderr
    r = bispecific("run", scenario, "--out", reference, "--animate", "--quiet")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in reference.iterdir())
    assert names == sorted(p.name for p in out.iterdir())
    for name in names:  # all but the wall time, byte for byte (figures and GIF included)
        assert name == "timing.json" or filecmp.cmp(out / name, reference / name,
                                                    shallow=False), name


def test_ctrl_c_without_checkpoints_says_nothing_was_kept(tmp_path):
    scenario = _large(tmp_path)
    out = tmp_path / "out"
    # A checkpoint of another run (seed 5) is in the folder: the run says it starts afresh.
    r = _interrupt_after([scenario, "--out", out, "--seed", "5", "--checkpoint-every", "1"],
                         "saved a checkpoint", signal.SIGINT)
    assert r.returncode == 130, r.stderr
    stale = (out / "checkpoint.npz").read_bytes()
    r = _interrupt_after([scenario, "--out", out], "starting from the beginning",
                         signal.SIGINT)
    assert r.returncode == 130 and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[-1].endswith(
        ": nothing was written (--checkpoint-every HOURS makes a run resumable)")
    assert (out / "checkpoint.npz").read_bytes() == stale
