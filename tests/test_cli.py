"""The command line driven as a user drives it: a subprocess, exit status, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .helpers import shipped_scenarios

ROOT = Path(__file__).parent.parent
SCENARIOS = shipped_scenarios()


def bispecific(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "bispecific", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=600,
    )


def assert_one_line_error(result):
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_run_writes_timeseries_summary_and_scenario(tmp_path):
    out = tmp_path / "run"
    r = bispecific("run", ROOT / "scenarios" / "continuous_4wk.toml", "--out", out,
                   "--days", "0.5")
    assert r.returncode == 0, r.stderr
    assert str(out) in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 20261124 and summary["days"] == 0.5
    assert summary["bispecific_version"]
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == 13 and "drug_plasma_pg_per_ml" in ts
    assert ts["drug_plasma_pg_per_ml"].iloc[-1] > 0
    assert "seed = 20261124" in (out / "scenario.toml").read_text()


@pytest.mark.slow  # two minutes: every shipped scenario, end to end
def test_every_shipped_scenario_runs(tmp_path):
    for path in SCENARIOS:
        r = bispecific("run", path, "--out", tmp_path / path.stem, "--days", "0.1", "--quiet")
        assert r.returncode == 0, (path.name, r.stderr)
        ts = pd.read_csv(tmp_path / path.stem / "timeseries.csv")
        assert "drug_plasma_pg_per_ml" in ts


def test_seed_flag_is_recorded(tmp_path):
    r = bispecific("run", SCENARIOS[0], "--out", tmp_path, "--days", "0.05", "--seed", "7",
                   "--quiet")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["seed"] == 7
    assert "seed = 7" in (tmp_path / "scenario.toml").read_text()


def test_default_output_folder_is_runs_slash_name(tmp_path):
    r = bispecific("run", ROOT / "scenarios" / "no_drug.toml", "--days", "0.05", "--quiet",
                   cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "runs" / "no_drug" / "summary.json").exists()


def test_validate_accepts_a_good_file():
    r = bispecific("validate", ROOT / "scenarios" / "flat_28.toml")
    assert r.returncode == 0 and "ok" in r.stdout


def test_validate_refuses_a_malformed_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\ndays = 5\nseed = 1\n[patient]\n'
                   't_cell_fractoin = 0.1\n')
    line = assert_one_line_error(bispecific("validate", bad))
    assert str(bad) in line and "t_cell_fractoin" in line
    assert "did you mean 't_cell_fraction'" in line


def test_malformed_scenario_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\ndays = -5\nseed = 1\n')
    out = tmp_path / "out"
    line = assert_one_line_error(bispecific("run", bad, "--out", out))
    assert "days = -5" in line
    assert not out.exists()


def test_missing_file():
    line = assert_one_line_error(bispecific("run", "no/such/file.toml"))
    assert "no/such/file.toml: no such file" in line


def test_bad_flag_value():
    line = assert_one_line_error(bispecific("run", SCENARIOS[0], "--days", "soon"))
    assert "--days" in line


def test_days_flag_out_of_range():
    line = assert_one_line_error(bispecific("run", SCENARIOS[0], "--days", "-1"))
    assert "--days -1" in line


def test_unwritable_out():
    # /proc refuses new folders even to root, so this holds wherever CI runs.
    line = assert_one_line_error(bispecific("run", SCENARIOS[0], "--out", "/proc/bispecific"))
    assert "--out /proc/bispecific: cannot write there" in line


def test_out_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    line = assert_one_line_error(bispecific("run", SCENARIOS[0], "--out", target))
    assert "cannot write" in line


def test_run_draws_figures_and_svg_on_request(tmp_path):
    r = bispecific("run", ROOT / "scenarios" / "flat_28.toml", "--out", tmp_path, "--days", "0.5",
                   "--svg", "--snapshots", "0,0.25", "--quiet")
    assert r.returncode == 0, r.stderr
    for name in ("overview.png", "overview.svg", "snapshots.png", "snapshots.svg",
                 "snapshots.npz"):
        assert (tmp_path / name).stat().st_size > 1000, name
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind


def test_animate_writes_a_gif(tmp_path):
    r = bispecific("run", ROOT / "scenarios" / "flat_28.toml", "--out", tmp_path,
                   "--days", "1", "--animate", "--quiet")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "animation.gif").read_bytes()[:6] in (b"GIF89a", b"GIF87a")


def test_compare_writes_a_table_and_a_figure(tmp_path):
    r = bispecific("compare", ROOT / "scenarios" / "continuous_4wk.toml",
                   ROOT / "scenarios" / "bolus_daily.toml", "--out", tmp_path, "--days", "1")
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert list(table["scenario"]) == ["continuous_4wk", "bolus_daily"]
    for column in ("final_blasts", "peak_il6_pg_per_ml", "p_crs_grade2_or_more",
                   "p_complete_response"):
        assert column in table
    # Boluses peak far above the infusion's plasma level (docs/references.md V6).
    assert table["peak_drug_plasma_pg_per_ml"].iloc[1] > 5 * table[
        "peak_drug_plasma_pg_per_ml"].iloc[0]
    assert (tmp_path / "comparison.png").stat().st_size > 10_000
    assert (tmp_path / "bolus_daily" / "summary.json").exists()


def test_compare_refuses_two_scenarios_with_one_name(tmp_path):
    path = ROOT / "scenarios" / "flat_28.toml"
    line = assert_one_line_error(bispecific("compare", path, path, "--out", tmp_path))
    assert "two scenarios are named 'flat_28'" in line


def test_plot_redraws_a_finished_run(tmp_path):
    r = bispecific("run", ROOT / "scenarios" / "no_drug.toml", "--out", tmp_path,
                   "--days", "0.2", "--quiet")
    assert r.returncode == 0, r.stderr
    (tmp_path / "overview.png").unlink()
    r = bispecific("plot", tmp_path, "--svg")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "overview.png").exists() and (tmp_path / "overview.svg").exists()


def test_plot_refuses_a_folder_that_is_not_a_finished_run(tmp_path):
    line = assert_one_line_error(bispecific("plot", tmp_path))
    assert "not a finished run" in line and "summary.json" in line
    line = assert_one_line_error(bispecific("plot", tmp_path / "absent"))
    assert "no such folder" in line


def test_bad_snapshot_days():
    line = assert_one_line_error(bispecific("run", SCENARIOS[0], "--snapshots", "0,x"))
    assert "--snapshots" in line and "comma-separated" in line


def test_library_script_runs(tmp_path):
    out = tmp_path / "cvb.png"
    r = subprocess.run([sys.executable, str(ROOT / "scenarios" / "continuous_vs_bolus.py"),
                        "--days", "0.5", "--out", str(out)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert "bolus_daily" in r.stdout and out.stat().st_size > 10_000
