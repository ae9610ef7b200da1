"""Virtual cohorts: identical results whatever runs them, resumable, failures isolated."""

import dataclasses
import filecmp
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bispecific.cohorts.runner import run_cohort, run_task
from bispecific.cohorts.spec import load_cohort
from bispecific.scenario import Grid, Patient, ScenarioError, load_scenario

ROOT = Path(__file__).parent.parent
SCENARIOS = ROOT / "scenarios"
FILES = ("patients.csv", "results.csv", "arms.csv", "failures.csv")

SMALL = f"""
[cohort]
name = "small"
patients = 3
seed = 11
days = 0.5

[grid]
width = 24
height = 24

[[arm]]
name = "infused"
scenario = "{SCENARIOS / 'flat_28.toml'}"

[[arm]]
name = "bolus"
base = "{SCENARIOS / 'flat_28.toml'}"
dose = [{{ kind = "bolus", day = 0, dose_ug = 28 }}]

[covariates.marrow_blast_fraction]
distribution = "uniform"
low = 0.2
high = 0.8

[covariates.clearance_l_per_h]
distribution = "lognormal"
median = 2.22
sigma_log = 0.4
"""


@pytest.fixture(scope="module")
def cohort_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cohort") / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def reference_run(cohort_file, tmp_path_factory):
    """The small cohort run once, uninterrupted, on one local worker."""
    out = tmp_path_factory.mktemp("one_worker")
    run_cohort(load_cohort(cohort_file), out, workers=1)
    return out


def same_files(a: Path, b: Path) -> None:
    for name in FILES:
        assert filecmp.cmp(a / name, b / name, shallow=False), name


def test_outputs_and_virtual_twins(reference_run):
    results = pd.read_csv(reference_run / "results.csv")
    assert len(results) == 6 and list(results["arm"][:2]) == ["infused", "bolus"]
    # The same patient has the same seed and starting tumour in every arm.
    for _, rows in results.groupby("patient"):
        assert rows["seed"].nunique() == 1 and rows["initial_blasts"].nunique() == 1
    assert results["initial_blasts"].nunique() == 3
    arms = pd.read_csv(reference_run / "arms.csv")
    for column in ("arm", "patients", "cr_rate", "cr_rate_low", "cr_rate_high",
                   "median_log10_reduction", "crs_grade1_rate", "crs_grade1_rate_low",
                   "crs_grade3_rate", "crs_grade3_rate_high", "mrd_negative_rate",
                   "median_peak_il6_pg_per_ml"):
        assert column in arms
    assert (arms["cr_rate_low"] <= arms["cr_rate"]).all()
    assert (arms["cr_rate"] <= arms["cr_rate_high"]).all()
    assert (reference_run / "cohort.png").stat().st_size > 10_000
    assert len(pd.read_csv(reference_run / "patients.csv")) == 3


def test_two_workers_give_identical_results(cohort_file, reference_run, tmp_path):
    run_cohort(load_cohort(cohort_file), tmp_path, workers=2)
    same_files(reference_run, tmp_path)


def test_dask_cluster_gives_identical_results(cohort_file, reference_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        run_cohort(load_cohort(cohort_file), tmp_path, scheduler=cluster.scheduler_address)
    same_files(reference_run, tmp_path)


def test_interrupted_run_resumes_to_the_same_files(cohort_file, reference_run, tmp_path):
    cohort = load_cohort(cohort_file)
    with pytest.raises(KeyboardInterrupt):
        run_cohort(cohort, tmp_path, workers=1, stop_after=2)
    saved = list((tmp_path / "tasks").glob("*.json"))
    assert len(saved) == 2 and not (tmp_path / "results.csv").exists()
    seen = []
    run_cohort(cohort, tmp_path, workers=2, progress=lambda done, total: seen.append(done))
    assert seen[0] == 2 and seen[-1] == 6  # only the four missing runs ran
    same_files(reference_run, tmp_path)


def test_a_failing_patient_is_isolated(tmp_path):
    text = SMALL.replace('low = 0.2\nhigh = 0.8', 'low = 0.5\nhigh = 1.0') + """
[covariates.t_cell_fraction]
distribution = "uniform"
low = 0.05
high = 0.5
"""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    cohort = load_cohort(path).with_patients(6)
    run_cohort(cohort, tmp_path / "out", workers=1)
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(failures) > 0 and len(results) > 0
    assert len(failures) + len(results) == 12
    assert failures["error"].str.contains("at most 1").all()


def test_a_run_that_raises_comes_back_as_an_error():
    scenario = load_scenario(SCENARIOS / "flat_28.toml")
    # Built around validation: blasts and T cells together more than all marrow cells.
    broken = dataclasses.replace(scenario, grid=Grid(width=4, height=4), patient=Patient(
        marrow_blast_fraction=1.0, t_cell_fraction=0.5))
    outcome = run_task(broken)
    assert not outcome["ok"] and "ValueError" in outcome["error"]


def test_cohort_validation_names_key_and_value(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(SMALL.replace("[covariates.clearance_l_per_h]", "[covariates.clearence]"))
    with pytest.raises(ScenarioError, match="unknown covariate 'clearence'; did you mean"):
        load_cohort(path)
    path.write_text(SMALL.replace('distribution = "uniform"', 'distribution = "gamma"'))
    with pytest.raises(ScenarioError, match="distribution = 'gamma': expected one of"):
        load_cohort(path)
    # A log-uniform range must lie above zero (its log is drawn).
    path.write_text(SMALL.replace('distribution = "uniform"', 'distribution = "loguniform"')
                    .replace("low = 0.2", "low = 0.0"))
    with pytest.raises(ScenarioError, match=r"\[covariates.marrow_blast_fraction\] low = 0"):
        load_cohort(path)


def test_cli_cohort_and_its_errors(cohort_file, reference_run, tmp_path):
    out = tmp_path / "cli"
    r = subprocess.run([sys.executable, "-m", "bispecific", "cohort", str(cohort_file),
                        "--out", str(out), "--workers", "2", "--oversubscribe"],
                       capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert "infused: 3 patients" in r.stdout
    same_files(reference_run, out)
    r = subprocess.run([sys.executable, "-m", "bispecific", "cohort", str(cohort_file),
                        "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "not allowed with argument" in r.stderr
    assert "Traceback" not in r.stderr


def test_shipped_cohorts_validate():
    for name in ("cohort_tower.toml", "cohort_mrd.toml"):
        cohort = load_cohort(SCENARIOS / name)
        assert cohort.patients == 100
        patients = cohort.sample_patients()
        assert len(patients) == 100
        assert len({round(p["marrow_blast_fraction"], 6) for p in patients}) >= 90
    tower = load_cohort(SCENARIOS / "cohort_tower.toml")
    assert [a.name for a in tower.arms] == ["approved_9_28", "flat_28", "bolus_daily"]
    assert min(p["marrow_blast_fraction"] for p in tower.sample_patients()) >= 0.05


def test_validate_recognises_a_cohort_file():
    r = subprocess.run([sys.executable, "-m", "bispecific", "validate",
                        str(SCENARIOS / "cohort_tower.toml")], capture_output=True, text=True)
    assert r.returncode == 0 and "cohort cohort_tower, 100 patients" in r.stdout


class _DiesWhenUnpickled:
    """A task payload that kills the worker process that receives it."""

    def __reduce__(self):
        import os

        return (os._exit, (3,))


def test_a_killed_worker_is_reported_and_results_are_kept(cohort_file, tmp_path):
    from bispecific.cohorts.engines import LocalEngine
    from bispecific.cohorts.runner import CohortRun, Task, WorkerLost

    run = CohortRun(load_cohort(cohort_file), tmp_path)
    run.prepare()
    good = run.tasks[0]
    with LocalEngine(workers=1) as engine:
        for task, outcome in engine.run([good]):
            run.save(task, outcome)
    with pytest.raises(WorkerLost, match="run the same command again"), \
            LocalEngine(workers=1) as engine:
        list(engine.run([Task(99, "infused", _DiesWhenUnpickled(), "0" * 64)]))
    assert run.result_path(good).exists()
    assert len(run.missing()) == len(run.tasks) - 1
