"""Cohort identity: a folder never mixes results of different cohorts, and a patient is the
same patient whatever the number of patients."""

import filecmp
import json
from pathlib import Path

import pytest

from bispecific.cohorts.folder import CohortFolderError
from bispecific.cohorts.identity import definition, task_key
from bispecific.cohorts.runner import CohortRun, run_cohort
from bispecific.cohorts.spec import load_cohort
from bispecific.scenario import ScenarioError

from .test_cli import assert_one_line_error, bispecific

SCENARIOS = Path(__file__).parent.parent / "scenarios"
TABLES = ("patients.csv", "results.csv", "arms.csv", "failures.csv", "cohort.json")

TINY = f"""
[cohort]
name = "tiny"
patients = 4
seed = 7
days = 0.1

[grid]
width = 16
height = 16

[[arm]]
name = "infused"
scenario = "{SCENARIOS / 'flat_28.toml'}"

[[arm]]
name = "bolus"
base = "{SCENARIOS / 'flat_28.toml'}"
dose = [{{ kind = "bolus", day = 0, dose_ug = 28 }}]

[covariates.marrow_blast_fraction]
distribution = "beta"
a = 2.0
b = 2.0
low = 0.1
high = 0.8

[covariates.bsa_m2]
distribution = "normal"
mean = 1.8
sd = 0.3
clip_low = 1.2
clip_high = 2.4
"""


def _write(folder: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _same_tables(a: Path, b: Path) -> None:
    for name in TABLES:
        assert filecmp.cmp(a / name, b / name, shallow=False), name


def _contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


def test_a_patient_is_the_same_whatever_the_number_of_patients(tmp_path):
    cohort = load_cohort(_write(tmp_path))
    hundred = cohort.with_patients(100).sample_patients()
    assert cohort.with_patients(10).sample_patients() == hundred[:10]
    # ...and adding a covariate changes no other: each has a stream of its own.
    wider = load_cohort(_write(tmp_path, TINY + """
[covariates.weight_kg]
distribution = "uniform"
low = 50
high = 90
""", "wider.toml"))
    for narrow, wide in zip(cohort.sample_patients(), wider.sample_patients(), strict=True):
        assert {k: wide[k] for k in narrow} == narrow


@pytest.fixture(scope="module")
def fresh_six(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fresh6")
    cohort = load_cohort(_write(folder)).with_patients(6)
    run_cohort(cohort, folder / "out", workers=1)
    return folder / "out"


def test_four_then_six_patients_equals_six_from_scratch(fresh_six, tmp_path):
    cohort = load_cohort(_write(tmp_path))
    out = tmp_path / "out"
    run_cohort(cohort.with_patients(4), out, workers=1)
    seen = []
    run_cohort(cohort.with_patients(6), out, workers=2,
               progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (8, 12)  # the 4 patients x 2 arms already there are reused, not rerun
    _same_tables(fresh_six, out)


def test_six_then_four_patients_equals_four_from_scratch(fresh_six, tmp_path):
    cohort = load_cohort(_write(tmp_path))
    fresh_four = tmp_path / "four"
    run_cohort(cohort.with_patients(4), fresh_four, workers=1)
    trimmed = tmp_path / "trimmed"
    for entry in fresh_six.iterdir():  # a copy of the six-patient folder...
        target = trimmed / entry.name
        target.parent.mkdir(exist_ok=True)
        if entry.is_dir():
            target.mkdir()
            for f in entry.iterdir():
                (target / f.name).write_bytes(f.read_bytes())
        else:
            target.write_bytes(entry.read_bytes())
    run_cohort(cohort.with_patients(4), trimmed, workers=1)  # ...run again with four
    _same_tables(fresh_four, trimmed)


def test_an_edited_arm_is_refused_in_one_line_and_fresh_replaces_it(tmp_path):
    path = _write(tmp_path)
    out = tmp_path / "out"
    r = bispecific("cohort", path, "--out", out, "--patients", "2", "--workers", "1",
                   "--quiet")
    assert r.returncode == 0, r.stderr
    before = _contents(out)
    path.write_text(TINY.replace("dose_ug = 28", "dose_ug = 0"))
    line = assert_one_line_error(bispecific("cohort", path, "--out", out, "--patients", "2",
                                            "--workers", "1"))
    assert ("holds a different cohort (arms.bolus.dose[0].dose_ug: 28.0 in the folder, "
            "0.0 now); choose another folder with --out, or add --fresh") in line
    assert _contents(out) == before  # nothing touched
    r = bispecific("cohort", path, "--out", out, "--patients", "2", "--workers", "1",
                   "--quiet", "--fresh")
    assert r.returncode == 0, r.stderr
    reference = tmp_path / "reference"
    run_cohort(load_cohort(path).with_patients(2), reference, workers=1)
    _same_tables(reference, out)
    assert {p.name for p in (out / "tasks").iterdir()} == {
        p.name for p in (reference / "tasks").iterdir()}  # no stale task left


def test_another_seed_is_another_cohort(tmp_path):
    cohort = load_cohort(_write(tmp_path)).with_patients(1)
    run_cohort(cohort, tmp_path / "out", workers=1)
    other = load_cohort(_write(tmp_path, TINY.replace("seed = 7", "seed = 8"), "other.toml"))
    with pytest.raises(CohortFolderError, match=r"seed: 7 in the folder, 8 now"):
        run_cohort(other.with_patients(1), tmp_path / "out", workers=1)


def test_the_folder_describes_itself_and_its_cohort_file_runs_it_again(tmp_path):
    cohort = load_cohort(_write(tmp_path)).with_patients(2)
    out = tmp_path / "out"
    run_cohort(cohort, out, workers=1)
    info = json.loads((out / "cohort.json").read_text())
    assert info["status"] == "finished" and info["bispecific_version"]
    assert (info["runs"], info["completed"], info["failed"]) == (4, 4, 0)
    again = load_cohort(out / "cohort.toml")
    assert definition(again) == definition(cohort)
    assert again.sample_patients() == cohort.sample_patients()
    assert "dose_ug = 28" in (out / "arms" / "bolus.toml").read_text()
    seen = []
    run_cohort(again, out, workers=1, progress=lambda done, total: seen.append(done))
    assert seen == [4]  # the same cohort: everything reused


def test_a_result_saved_under_another_key_is_never_used(tmp_path):
    cohort = load_cohort(_write(tmp_path)).with_patients(1)
    run = CohortRun(cohort, tmp_path / "out")
    run.prepare()
    task = run.tasks[0]
    run.save(task, {"ok": True, "summary": {"final_blasts": 2889}})
    assert task not in run.missing()
    record = json.loads(run.result_path(task).read_text())
    record["key"] = "0" * 64  # as if computed from other covariates
    run.result_path(task).write_text(json.dumps(record))
    assert task in run.missing()


def test_a_cohort_with_no_runnable_patient_is_bad_input(tmp_path):
    text = TINY.replace("clip_low = 1.2\nclip_high = 2.4", "clip_low = 10\nclip_high = 20")
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError, match="no patient can be run: all 8 covariate draws"):
        run_cohort(load_cohort(path), tmp_path / "lib", workers=1)
    for quiet in ((), ("--quiet",)):
        line = assert_one_line_error(bispecific("cohort", path, "--out", tmp_path / "cli",
                                                *quiet))
        assert "no patient can be run" in line and "bsa_m2 = 10" in line
    assert not (tmp_path / "lib").exists() and not (tmp_path / "cli").exists()


def test_clips_the_wrong_way_round_are_refused(tmp_path):
    text = TINY.replace("clip_low = 1.2\nclip_high = 2.4", "clip_low = 2.4\nclip_high = 1.2")
    with pytest.raises(ScenarioError, match="clip_high = 1.2: must be at least clip_low"):
        load_cohort(_write(tmp_path, text))


def test_the_thread_setting_is_not_part_of_a_result_s_key(tmp_path):
    """`parallel` only picks threads and a run is bit-identical on any number of them: a
    cohort or checkpoint carries on whatever it is set to. Anything else still counts."""
    import dataclasses

    from bispecific.scenario import load_scenario
    from bispecific.simulation.checkpoint import run_identity

    base = load_scenario(SCENARIOS / "flat_28.toml")

    def with_parallel(value):
        return dataclasses.replace(base, simulation=dataclasses.replace(
            base.simulation, parallel=value))

    variants = [with_parallel(v) for v in (None, False, True)]
    assert len({task_key(s) for s in variants}) == 1
    assert len({json.dumps(run_identity(s, [1.0], None)) for s in variants}) == 1
    assert task_key(base.with_changes(seed=base.seed + 1)) != task_key(base)
    cohort = load_cohort(_write(tmp_path))
    edited = dataclasses.replace(cohort, arms=tuple(dataclasses.replace(
        a, scenario=dataclasses.replace(a.scenario, simulation=dataclasses.replace(
            a.scenario.simulation, parallel=True))) for a in cohort.arms))
    assert definition(edited) == definition(cohort)
