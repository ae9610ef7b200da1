"""Trial outputs from a cohort folder (bispecific/cohorts/survival.py): Kaplan-Meier and Cox
from lifelines, checked against closed forms of exponential event times."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("lifelines")

from bispecific.cli import main  # noqa: E402
from bispecific.cohorts.survival import arm_survival, write_survival  # noqa: E402
from bispecific.outcomes.events import OutcomeRules  # noqa: E402
from bispecific.outcomes.hazards import DeathHazards  # noqa: E402


def _exponential_arm(name: str, rate: float, n: int, rng: np.random.Generator,
                     follow_up: float = 60.0) -> pd.DataFrame:
    t = rng.exponential(1.0 / rate, size=n)
    rows = {"arm": name}
    for key in ("os", "efs"):
        rows[f"{key}_months"] = np.minimum(t, follow_up)
        rows[f"{key}_event"] = t <= follow_up
    return pd.DataFrame(rows)


def test_km_median_and_landmark_of_exponential_times_match_the_closed_form():
    rate, n = 0.1, 3000  # per month
    events = _exponential_arm("a", rate, n, np.random.default_rng(1))
    row = arm_survival(events, ["a"]).query("endpoint == 'os'").iloc[0]
    median = math.log(2) / rate
    # var(log median) ~ 1 / events for exponential times
    assert abs(math.log(row["median_months"] / median)) < 4 / math.sqrt(row["events"])
    assert row["median_low"] < median < row["median_high"]
    s12 = math.exp(-rate * 12)
    se = math.sqrt(s12 * (1 - s12) / n)
    assert abs(row["rate_12mo"] - s12) < 4 * se
    assert row["rate_12mo_low"] < row["rate_12mo"] < row["rate_12mo_high"]


def test_cox_hazard_ratio_of_two_exponential_arms_is_their_rate_ratio():
    rng = np.random.default_rng(2)
    events = pd.concat([_exponential_arm("new", 0.07, 1500, rng),
                        _exponential_arm("old", 0.10, 1500, rng)])
    table = arm_survival(events, ["new", "old"], reference="old")
    row = table.query("arm == 'new' and endpoint == 'os'").iloc[0]
    d_new, d_old = row["events"], table.query("arm == 'old' and endpoint == 'os'").iloc[0][
        "events"]
    se = math.sqrt(1 / d_new + 1 / d_old)  # SE of log HR
    assert abs(math.log(row["hazard_ratio"] / 0.7)) < 4 * se
    assert row["hr_low"] < 0.7 < row["hr_high"]
    assert row["hr_p"] < 1e-6
    assert table.query("arm == 'old'")["hazard_ratio"].isna().all()
    assert (table["hr_note"].fillna("") == "").all()


def _cohort_folder(tmp_path, n: int = 40):
    tmp_path.mkdir(parents=True, exist_ok=True)
    """A finished-looking cohort folder: two arms, responders with MRD levels vs none."""
    rows, patients = [], []
    for p in range(n):
        patients.append({"patient": p, "marrow_blast_fraction": 0.5,
                         "blast_division_per_day": 0.105})
        for arm, p_cr, level in (("deep", 1.0, 1e-5), ("none", 0.0, 0.3)):
            rows.append({"patient": p, "arm": arm, "seed": 1000 + p, "days": 70.0,
                         "p_complete_response": p_cr, "mrd_level_estimate": level,
                         "initial_blasts": 1000, "final_blasts_cd19_negative_expected": 0.0,
                         "assessment_days": "[28.0, 70.0]",
                         "marrow_blast_percent_at_assessments": "[1.0, 0.0]"})
    pd.DataFrame(rows).to_csv(tmp_path / "results.csv", index=False)
    pd.DataFrame(patients).to_csv(tmp_path / "patients.csv", index=False)
    return tmp_path


def test_a_cohort_folder_gets_events_survival_table_and_plot(tmp_path):
    folder = _cohort_folder(tmp_path)
    # Deaths only once treatment has failed or relapse has come (none on treatment or in
    # remission), so that every failure (day 70) comes before every relapse, by design.
    no_early_deaths = OutcomeRules(hazards=replace(DeathHazards(), on_treatment=0.0,
                                                   remission=0.0))
    paths = write_survival(folder, reference="none", rules=no_early_deaths)
    assert {p.name for p in paths.values()} == {"events.csv", "survival.csv", "survival.png"}
    events = pd.read_csv(paths["events"])
    deep = events[events["arm"] == "deep"]
    # responders at 1e-5 relapse ln(5000) / 0.065 days after day 70, unless censored first
    relapsed = deep["relapse_day"].dropna()
    assert np.allclose(relapsed, 70.0 + math.log(0.05 / 1e-5) / 0.065)
    assert not events[events["arm"] == "none"]["response"].any()
    table = pd.read_csv(paths["survival"])
    efs = table.query("arm == 'deep' and endpoint == 'efs'").iloc[0]
    assert efs["hazard_ratio"] < 1.0  # remission delays events against treatment failure
    # every failure comes before every relapse: the ratio is not estimable, and says so
    assert "separation" in efs["hr_note"]


def test_the_command_writes_them_and_refuses_a_folder_without_results(tmp_path, capsys):
    folder = _cohort_folder(tmp_path / "c")
    assert main(["survival", str(folder)]) == 0
    assert (folder / "survival.png").exists()
    (tmp_path / "empty").mkdir()
    assert main(["survival", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a finished cohort folder" in err[0]
    assert main(["survival", str(folder), "--reference", "nope"]) == 2


def test_randomising_two_to_one_gives_each_patient_one_arm_in_permuted_blocks(tmp_path):
    folder = _cohort_folder(tmp_path, n=30)
    (folder / "cohort.json").write_text('{"seed": 7}')
    paths = write_survival(folder, reference="none", allocation=(2, 1))
    events = pd.read_csv(paths["events"])
    assert events["patient"].is_unique and len(events) == 30
    assert events["arm"].value_counts().to_dict() == {"deep": 20, "none": 10}
    again = write_survival(folder, reference="none", allocation=(2, 1))
    assert pd.read_csv(again["events"]).equals(events)  # keyed by the cohort's seed
    assert (pd.read_csv(paths["survival"])["design"] == "randomised 2:1").all()
    assert main(["survival", str(folder), "--randomise", "2:1:1"]) == 2


def test_without_lifelines_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    import sys

    folder = _cohort_folder(tmp_path)
    monkeypatch.setitem(sys.modules, "lifelines", None)  # import fails as if not installed
    assert main(["survival", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install -e '.[trial]'" in err[0]
    assert not (folder / "survival.csv").exists()


def test_a_cohort_folder_with_survival_outputs_is_still_a_cohort_folder(tmp_path):
    from bispecific.outputs.folders import folder_kind

    folder = _cohort_folder(tmp_path / "c")
    for name in ("cohort.json", "cohort.toml", "arms.csv", "failures.csv", "timing.json"):
        (folder / name).write_text("{}")
    assert folder_kind(folder) == "cohort"
    write_survival(folder, reference="none")
    assert folder_kind(folder) == "cohort"  # a cohort run may resume there


def test_relapse_free_survival_runs_from_response_to_the_closed_form_relapse(tmp_path):
    """Responders only; with no death or transplant, RFS ends at the regrowth's relapse:
    response on day 28, relapse at the end of the run plus ln(5% / 1e-5) / (b - d)."""
    from bispecific.cohorts.survival import patient_table, relapse_free
    from bispecific.engine.core.parameters import ModelParameters
    from bispecific.outcomes.constants import DAYS_PER_MONTH
    from bispecific.outcomes.events import OutcomeRules
    from bispecific.outcomes.hazards import DeathHazards

    folder = _cohort_folder(tmp_path, n=5)
    rules = OutcomeRules(hazards=DeathHazards(0.0, 0.0, 0.0, 0.0), transplant_probability=0.0,
                         follow_up_days=3650.0)
    events = patient_table(pd.read_csv(folder / "results.csv"),
                           pd.read_csv(folder / "patients.csv"), rules)
    rfs = relapse_free(events)
    assert set(rfs["arm"]) == {"deep"} and len(rfs) == 5  # the "none" arm never responds
    growth = 0.105 - ModelParameters().blast_apoptosis_per_day
    expected = (70.0 + math.log(0.05 / 1e-5) / growth - 28.0) / DAYS_PER_MONTH
    assert rfs["rfs_months"].to_numpy() == pytest.approx(expected, rel=1e-9)
    assert rfs["rfs_event"].all()


SURVIVAL_COHORT = """
[cohort]
name = "with_survival"
patients = 3
seed = 11
days = 0.5

[survival]
reference = "bolus"
randomise = "1:1"

[grid]
width = 24
height = 24

[[arm]]
name = "infused"
scenario = "{flat}"

[[arm]]
name = "bolus"
base = "{flat}"
dose = [{{ kind = "bolus", day = 0, dose_ug = 28 }}]

[covariates.marrow_blast_fraction]
distribution = "uniform"
low = 0.2
high = 0.8
"""


def _survival_cohort(tmp_path, **replace_lines):
    from pathlib import Path

    text = SURVIVAL_COHORT.format(flat=Path(__file__).parent.parent / "scenarios" / "flat_28.toml")
    for old, new in replace_lines.items():
        text = text.replace(old, new)
    path = tmp_path / "cohort.toml"
    path.write_text(text)
    return path


def test_a_cohort_with_a_survival_table_writes_the_analysis_the_command_would(tmp_path):
    """`[survival]` in the cohort file: after the runs, the cohort folder holds the same
    events.csv and survival.csv, byte for byte, as `bispecific survival --reference bolus
    --randomise 1:1` writes from it afterwards."""
    from bispecific.cohorts.runner import run_cohort
    from bispecific.cohorts.spec import load_cohort

    cohort = load_cohort(_survival_cohort(tmp_path))
    out = tmp_path / "out"
    paths = run_cohort(cohort, out, workers=1)
    assert {"events", "survival", "survival_figure"} <= set(paths)
    first = {n: (out / n).read_bytes() for n in ("events.csv", "survival.csv")}
    assert (pd.read_csv(out / "survival.csv")["design"] == "randomised 1:1").all()
    assert main(["survival", str(out), "--reference", "bolus", "--randomise", "1:1"]) == 0
    assert first == {n: (out / n).read_bytes() for n in ("events.csv", "survival.csv")}
    again = load_cohort(out / "cohort.toml")  # the folder's cohort.toml keeps the table
    assert again.survival == cohort.survival


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('reference = "bolus"', 'reference = "placebo"',
     "[survival] reference = 'placebo': not an arm; allowed: \"infused\", \"bolus\""),
    ('randomise = "1:1"', 'randomise = "2:1:1"',
     "[survival] randomise = '2:1:1': expected one whole number >= 1 per arm (2)"),
    ('randomise = "1:1"', 'randomise = "1:0"', "[survival] randomise = '1:0'"),
])
def test_a_bad_survival_table_is_one_clear_line(tmp_path, old, new, expected):
    from bispecific.cohorts.spec import load_cohort
    from bispecific.scenario import ScenarioError

    with pytest.raises(ScenarioError) as err:
        load_cohort(_survival_cohort(tmp_path, **{old: new}))
    assert "\n" not in str(err.value) and expected in str(err.value)


def test_without_lifelines_a_cohort_asking_for_survival_is_refused_before_it_runs(
        tmp_path, monkeypatch, capsys):
    import sys

    path = _survival_cohort(tmp_path)
    monkeypatch.setitem(sys.modules, "lifelines", None)
    assert main(["cohort", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install -e '.[trial]'" in err[0]
    assert not (tmp_path / "out").exists()
