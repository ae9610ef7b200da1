"""Outputs for the next tool: Parquet copies with units, and one call to load a run."""

import json
from pathlib import Path

import pandas as pd
import pytest

import bispecific
from bispecific.outputs import tables
from bispecific.outputs.tables import column_unit, write_parquet

from .test_cli import bispecific as run_cli

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("load") / "run"
    r = run_cli("run", ROOT / "scenarios" / "bolus_weekly.toml", "--out", out, "--days", "0.25")
    assert r.returncode == 0, r.stderr
    return out, r.stdout


def test_load_run_gives_the_tables_as_written_with_their_units(run_folder):
    out, _ = run_folder
    run = bispecific.load_run(out)
    csv = pd.read_csv(out / "timeseries.csv")
    pd.testing.assert_frame_equal(run.timeseries, csv, check_dtype=False)
    assert len(run.timeseries) == 7  # hourly records over 6 h
    units = run.timeseries.attrs["units"]
    assert (units["time_h"], units["drug_plasma_pg_per_ml"], units["blasts"],
            units["crs_p_grade2"]) == ("h", "pg/mL", "count", "1 (probability)")
    assert run.summary == json.loads((out / "summary.json").read_text())
    assert run.scenario.name == "bolus_weekly" and run.scenario.days == 0.25
    # The 196 ug bolus at time 0 (the weekly repeats fall after this 6-hour run).
    assert run.dosing[["TIME", "AMT", "RATE"]].values.tolist() == [[0.0, 196.0, 0.0]]
    assert run.dosing.attrs["units"]["AMT"] == "ug"


def test_the_parquet_copy_holds_the_same_numbers_and_the_units(run_folder):
    pq = pytest.importorskip("pyarrow.parquet")
    out, stdout = run_folder
    table = pq.read_table(out / "timeseries.parquet")
    pd.testing.assert_frame_equal(table.to_pandas(), pd.read_csv(out / "timeseries.csv"),
                                  check_dtype=False)
    assert table.schema.field("il6_pg_per_ml").metadata == {b"unit": b"pg/mL"}
    assert json.loads(table.schema.metadata[b"bispecific.units"])["time_h"] == "h"
    assert "timeseries.parquet" in stdout and "no Parquet" not in stdout


def test_without_pyarrow_parquet_is_skipped_and_the_command_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "parquet_available", lambda: False)
    assert not write_parquet(pd.DataFrame({"time_h": [0.0]}), tmp_path / "x.parquet")
    assert list(tmp_path.iterdir()) == []
    from bispecific.cli.commands import _no_parquet
    assert "pyarrow is not installed" in _no_parquet()


def test_units_follow_the_names():
    assert [column_unit(n) for n in ("weight_kg", "bsa_m2", "clearance_l_per_h",
                                     "marrow_blast_fraction", "cr_rate_low", "seed",
                                     "best_marrow_blast_percent", "initial_t_cells")] == [
        "kg", "m^2", "L/h", "1 (fraction)", "1 (share)", "", "%", "count"]


def test_load_run_refuses_a_folder_without_a_finished_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a finished run folder"):
        bispecific.load_run(tmp_path)
