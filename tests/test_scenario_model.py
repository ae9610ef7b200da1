"""ScenarioModel: a scenario as a Mesa model with clinical settings, the way `mesa.batch_run`
and `bispecific view` use it; and the settings themselves (bispecific.scenario.settings)."""

import math

import mesa
import numpy as np
import pandas as pd
import pytest

from bispecific import Blast
from bispecific.engine.facade.mesa_compat import BATCH_RUN_HAS_RNG, BATCH_RUN_READS_RECORDS
from bispecific.scenario import ScenarioError, load_scenario
from bispecific.scenario.settings import Regimen, apply_settings, regimen_of, settings_of
from bispecific.simulation import EarlyStopWarning, ScenarioModel
from bispecific.simulation.run import run_scenario

from .helpers import shipped_scenarios

SCENARIO = "scenarios/continuous_4wk.toml"


def test_batch_run_over_two_doses_and_three_seeds_returns_a_tidy_frame():
    parameters = {"scenario": SCENARIO, "days": 0.5, "width": 32, "height": 32,
                  "step_day": 0, "target_dose_ug_per_day": [9, 28]}
    # Mesa 3.4+ takes the seeds as rng= (and overwrites a "seed" parameter); older as one.
    seeds = {"rng": [1, 2, 3]} if BATCH_RUN_HAS_RNG else {}
    if not seeds:
        parameters["seed"] = [1, 2, 3]
    rows = mesa.batch_run(ScenarioModel, parameters=parameters, max_steps=10**7,
                          display_progress=False, **seeds)
    df = pd.DataFrame(rows)
    assert len(df) == 6  # one row per run: batch_run's default reads the end of each run
    assert set(zip(df["target_dose_ug_per_day"], df["seed"], strict=True)) == {
        (d, s) for d in (9, 28) for s in (1, 2, 3)}
    # The runs stopped at the scenario's end by themselves (running turned False).
    # (Mesa 3.1-3.3 reads the last step run, 3.4+ the last record, taken at the end.)
    assert (df["Step"] == 0.5 * 1440 - (0 if BATCH_RUN_READS_RECORDS else 1)).all()
    for column in ("blast_log10_reduction", "complete_response", "peak_il6_pg_per_ml",
                   "p_crs_grade2_or_more", "kills_total", "final_blasts",
                   "peak_drug_plasma_pg_per_ml"):
        assert column in df and df[column].notna().all(), column
    # Plasma drug after 12 h of a constant infusion: Css (1 - exp(-CL/V t)), Css = rate / CL.
    k = 2.22 / 5.98
    for dose in (9, 28):
        expected = dose / 24.0 / 2.22 * 1000.0 * (1.0 - math.exp(-k * 12.0))  # pg/mL
        peaks = df.loc[df["target_dose_ug_per_day"] == dose, "peak_drug_plasma_pg_per_ml"]
        assert peaks.to_numpy() == pytest.approx(expected, rel=1e-3)
    # More drug, more killing, seed by seed; and the seeds give different patients.
    by = df.set_index(["seed", "target_dose_ug_per_day"])
    assert sum(by.loc[(s, 28), "kills_total"] > by.loc[(s, 9), "kills_total"]
               for s in (1, 2, 3)) >= 2
    assert df.loc[df["target_dose_ug_per_day"] == 28, "initial_blasts"].nunique() == 1
    assert df.loc[df["target_dose_ug_per_day"] == 28, "kills_total"].nunique() > 1


def test_scenario_model_is_the_model_run_scenario_runs():
    settings = {"days": 0.25, "width": 24, "height": 24, "target_dose_ug_per_day": 28.0,
                "step_day": 0.1}
    model = ScenarioModel(SCENARIO, **settings)
    model.run_model()
    assert model.steps == 360 and not model.running
    expected = run_scenario(apply_settings(load_scenario(SCENARIO), **settings)).summary
    got = model.summary()
    for key in ("final_blasts", "kills_total", "peak_il6_pg_per_ml", "p_crs_grade2_or_more",
                "blast_log10_reduction", "peak_drug_plasma_pg_per_ml"):
        assert got[key] == expected[key], key


def test_scenario_model_drawn_from_an_rng_records_the_seed_it_used():
    a = ScenarioModel(SCENARIO, days=0.05, width=16, height=16,
                      rng=np.random.default_rng(11))
    b = ScenarioModel(a.scenario)
    a.run_model()
    b.run_model()
    assert a.scenario.seed == a.seed
    assert a.summary()["kills_total"] == b.summary()["kills_total"]
    assert [x.pos for x in a.agents_by_type[Blast]] == [x.pos for x in b.agents_by_type[Blast]]


# -- the settings ----------------------------------------------------------------------------
def test_the_regimen_of_each_shipped_scenario_and_whether_it_is_exact():
    found = {}
    for path in shipped_scenarios():
        s = load_scenario(path)
        found[s.name] = regimen_of(s)
    assert found["continuous_4wk"] == (Regimen(9.0, 7.0, 28.0, "continuous"), True)
    assert found["flat_28"][0].first_dose_ug_per_day == 28.0 and found["flat_28"][1]
    assert found["bolus_daily"] == (Regimen(28.0, 7.0, 28.0, "bolus"), True)
    assert found["no_drug"][0].phases(28) == [] and found["no_drug"][1]
    # 5 and 15 ug/m^2/day for a child of 0.9 m^2, under the 9 and 28 ug/day caps.
    assert found["pediatric_5_15"] == (Regimen(4.5, 7.0, 13.5, "continuous"), True)
    assert not found["bolus_weekly"][1]  # weekly boluses are not a daily regimen
    assert not found["two_cycles"][1]  # nor is a second cycle after a rest
    assert not found["salvage_chemotherapy"][1]  # nor chemotherapy courses


@pytest.mark.parametrize("administration", ["continuous", "bolus"])
def test_a_regimen_gives_the_daily_doses_it_says(administration):
    s = apply_settings(load_scenario(SCENARIO), first_dose_ug_per_day=5,
                       target_dose_ug_per_day=40, step_day=3,
                       administration=administration, days=10)
    daily = [s.schedule.daily_dose_ug(d, s.patient.bsa_m2, s.days) for d in range(10)]
    assert daily == pytest.approx([5.0] * 3 + [40.0] * 7)
    kinds = {"continuous": (2, 0), "bolus": (0, 2)}[administration]
    assert (len(s.schedule.infusions), len(s.schedule.boluses)) == kinds


def test_settings_land_in_the_scenario_and_its_toml_runs_as_it_is(tmp_path):
    base = load_scenario(SCENARIO)
    s = apply_settings(base, marrow_blast_fraction=0.8, t_cell_fraction=0.1,
                       cd19_negative_fraction=0.05, dexamethasone=True, width=40, height=30,
                       seed=5, target_dose_ug_per_day=15)
    assert (s.patient.marrow_blast_fraction, s.patient.t_cell_fraction) == (0.8, 0.1)
    assert s.patient.cd19_negative_fraction == 0.05 and s.dexamethasone
    assert (s.grid.width, s.grid.height, s.seed) == (40, 30, 5)
    assert s.schedule.daily_dose_ug(10, 1.88, 28) == pytest.approx(15.0)
    assert s.schedule.daily_dose_ug(2, 1.88, 28) == pytest.approx(9.0)  # first dose kept
    path = tmp_path / "saved.toml"
    path.write_text(s.to_toml())
    assert load_scenario(path).to_dict() == s.to_dict()
    assert settings_of(load_scenario(path))["target_dose_ug_per_day"] == 15.0
    # No setting: the scenario as it was.
    assert apply_settings(base).to_dict() == base.to_dict()
    # A shorter run drops the doses after its end.
    assert len(apply_settings(base, days=5).schedule.infusions) == 1


def test_bad_settings_say_which_and_why():
    base = load_scenario(SCENARIO)
    with pytest.raises(ScenarioError, match="marrow_blast_fraction = 1.5"):
        apply_settings(base, marrow_blast_fraction=1.5)
    with pytest.raises(ScenarioError, match="t_cell_fraction"):
        apply_settings(base, marrow_blast_fraction=0.7, t_cell_fraction=0.4)
    with pytest.raises(ScenarioError, match="administration = 'oral'"):
        apply_settings(base, administration="oral")
    with pytest.raises(TypeError, match="unknown setting 'dose'"):
        apply_settings(base, dose=28)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ScenarioModel(SCENARIO, dose=28)


def test_scenario_model_defaults_to_the_approved_regimen():
    m = ScenarioModel(width=16, height=16)
    assert m.scenario.days == 28.0
    assert regimen_of(m.scenario) == (Regimen(9.0, 7.0, 28.0, "continuous"), True)
    assert m.scenario.patient == load_scenario(SCENARIO).patient
    assert len(m.agents_by_type[Blast]) == round(16 * 16 * 0.6 * 0.5)


def test_a_batch_run_cut_short_by_max_steps_says_so_and_warns_once():
    # 0.5 days are 720 one-minute steps; max_steps=99 stops each run after 100 of them on
    # Mesa 3.1-3.3 and after 99 on Mesa 3.5 (batch_run counts its steps differently there).
    with pytest.warns(EarlyStopWarning) as caught:
        rows = mesa.batch_run(
            ScenarioModel, parameters={"scenario": SCENARIO, "days": 0.5, "width": 16,
                                       "height": 16, "seed": [1, 2]},
            max_steps=99, display_progress=False)
    df = pd.DataFrame(rows)
    assert len(df) == 2 and df["stopped_early"].all()
    days = df["days"].to_numpy()  # what was simulated
    assert days[0] == days[1]
    assert days[0] == pytest.approx(100 / 1440) or days[0] == pytest.approx(99 / 1440)
    assert (df["days_planned"] == 0.5).all()
    early = [w for w in caught if issubclass(w.category, EarlyStopWarning)]
    assert len(early) == 2  # once per run, though batch_run reads every summary value
    assert "max_steps=720" in str(early[0].message)


def test_a_finished_scenario_model_is_not_stopped_early(recwarn):
    model = ScenarioModel(SCENARIO, days=0.05, width=16, height=16)
    model.run_model()
    summary = model.summary()
    assert not summary["stopped_early"] and summary["days"] == 0.05
    assert not [w for w in recwarn if issubclass(w.category, EarlyStopWarning)]
