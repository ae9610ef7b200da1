"""The command line driven as a user drives it: a subprocess, exit status, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


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
    bad.write_text('[scenario]\nname = "x"\ndays = 5\nseed = 1\n[patient]\nt_cells = 3\n')
    line = assert_one_line_error(bispecific("validate", bad))
    assert str(bad) in line and "t_cells" in line and "did you mean" in line


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
