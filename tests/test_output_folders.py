"""Output folders: named by a strict rule, never written outside, replaced whole or refused."""

import dataclasses
from pathlib import Path

import pytest

from bispecific.outputs import files
from bispecific.outputs.folders import FolderError, folder_kind
from bispecific.outputs.tables import parquet_available
from bispecific.scenario import load_scenario
from bispecific.scenario.names import slug
from bispecific.simulation.run import run_scenario

from .test_cli import ROOT, assert_one_line_error, bispecific

FLAT = ROOT / "scenarios" / "flat_28.toml"
QUICK = ("--days", "0.05", "--snapshots", "0", "--quiet")


def _every_file(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _scenario_named(tmp_path: Path, name: str) -> Path:
    text = FLAT.read_text().replace('name = "flat_28"', f"name = {name!r}")
    path = tmp_path / "named.toml"
    path.write_text(text.replace("'", '"'))
    return path


@pytest.mark.parametrize(("name", "folder"), [
    ("flat_28", "flat_28"),
    ("../../x", "x"),
    ("/etc/evil", "etc-evil"),
    ("a b/c..d", "a-b-c..d"),
    (".hidden", "hidden"),
])
def test_names_give_folder_names_by_a_strict_rule(name, folder):
    assert slug(name) == folder


def test_a_name_that_is_a_path_writes_only_inside_runs(tmp_path):
    scenario = _scenario_named(tmp_path, "../../escaped")
    work = tmp_path / "work" / "deep"
    work.mkdir(parents=True)
    before = _every_file(tmp_path)
    r = bispecific("run", scenario, *QUICK, cwd=work)
    assert r.returncode == 0, r.stderr
    new = _every_file(tmp_path) - before
    assert new and all(f.startswith("work/deep/runs/escaped/") for f in new), new


def test_an_empty_name_is_refused_and_writes_nothing(tmp_path):
    scenario = _scenario_named(tmp_path, "")
    line = assert_one_line_error(bispecific("run", scenario, cwd=tmp_path))
    assert "[scenario] name = '': must have at least one letter or digit" in line
    assert not (tmp_path / "runs").exists()


def test_a_rerun_replaces_the_whole_previous_run(tmp_path):
    out = tmp_path / "out"
    r = bispecific("run", FLAT, "--out", out, "--days", "0.3", "--svg", "--animate", "--quiet")
    assert r.returncode == 0, r.stderr
    assert {"animation.gif", "overview.svg"} <= set(_every_file(out))
    r = bispecific("run", FLAT, "--out", out, *QUICK)
    assert r.returncode == 0, r.stderr
    parquet = {"timeseries.parquet"} if parquet_available() else set()
    assert _every_file(out) == {"timeseries.csv", "summary.json", "scenario.toml",
                                "snapshots.npz", "overview.png", "snapshots.png",
                                "timing.json", "dosing.csv"} | parquet
    assert "days = 0.05" in (out / "scenario.toml").read_text()


def test_a_folder_holding_other_files_is_refused_and_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    line = assert_one_line_error(bispecific("run", FLAT, "--out", tmp_path, *QUICK))
    assert "holds files that are not bispecific run outputs (notes.txt)" in line
    assert _every_file(tmp_path) == {"notes.txt"}


def test_a_folder_of_another_kind_is_refused(tmp_path):
    (tmp_path / "comparison.csv").write_text("scenario\n")
    line = assert_one_line_error(bispecific("run", FLAT, "--out", tmp_path, *QUICK))
    assert "is a comparison folder, not a run folder" in line


def test_a_compare_rerun_leaves_no_stale_scenario_folder(tmp_path):
    no_drug = ROOT / "scenarios" / "no_drug.toml"
    r = bispecific("compare", FLAT, no_drug, "--out", tmp_path, "--days", "0.05", "--quiet")
    assert r.returncode == 0, r.stderr
    assert folder_kind(tmp_path) == "comparison"
    r = bispecific("compare", FLAT, "--out", tmp_path, "--days", "0.05", "--quiet")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "comparison.csv", "comparison.png", "flat_28"]


@pytest.fixture(scope="module")
def quick_result():
    scenario = load_scenario(FLAT).with_changes(days=0.05)
    return run_scenario(dataclasses.replace(scenario, grid=dataclasses.replace(
        scenario.grid, width=12, height=12)), snapshot_days=[0.0])


def test_a_failed_write_leaves_the_previous_run_as_it_was(quick_result, tmp_path,
                                                          monkeypatch):
    files.write_run(quick_result, tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in _every_file(tmp_path)}

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.figures, "overview", disk_full)
    with pytest.raises(OSError, match="No space left"):
        files.write_run(quick_result, tmp_path)
    assert {name: (tmp_path / name).read_bytes() for name in _every_file(tmp_path)} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_library_refuses_a_folder_of_other_files(quick_result, tmp_path):
    (tmp_path / "thesis.tex").write_text("mine")
    with pytest.raises(FolderError, match="thesis.tex"):
        files.write_run(quick_result, tmp_path)
    assert _every_file(tmp_path) == {"thesis.tex"}


def test_leftovers_of_a_killed_write_are_cleared_by_the_next_run(quick_result, tmp_path):
    files.write_run(quick_result, tmp_path)
    (tmp_path / ".staging-killed").mkdir()  # as a kill in the middle of writing leaves them
    (tmp_path / ".staging-killed" / "overview.png").write_bytes(b"half")
    (tmp_path / ".checkpoint.npz.x1y2.tmp").write_bytes(b"half")
    files.write_run(quick_result, tmp_path)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
