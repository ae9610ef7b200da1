"""Scenario files: validation errors name the file, key, value and what is allowed."""


import pytest

from bispecific.scenario import ScenarioError, load_scenario, save_scenario

from .helpers import ROOT, shipped_scenarios

SCENARIOS = shipped_scenarios()

BASE = """
[scenario]
name = "t"
days = 10
seed = 1

[[dose]]
kind = "infusion"
start_day = 0
end_day = 7
rate_ug_per_day = 9
"""


def _load(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return load_scenario(path)


def _error(tmp_path, text):
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "s.toml") + ": ")
    return message


def test_shipped_scenarios_load_and_survive_a_round_trip(tmp_path):
    assert len(SCENARIOS) >= 8
    for path in SCENARIOS:
        first = load_scenario(path)
        save_scenario(first, tmp_path / "again.toml")
        assert load_scenario(tmp_path / "again.toml") == first, path.name


def test_the_nine_courses_follow_the_label_s_cycle_table():
    """The label's Table 1 (docs/references.md [Label]): induction 9 -> 28 ug/day and a
    28 ug/day cycle, 42-day cycles; consolidation cycles 3-5 the same; continued therapy
    cycles 6-9 28 ug/day for 4 weeks in 12-week cycles. So drug runs in nine 28-day periods,
    and the course gives 9 x 7 + 28 x 21 + 8 x 28 x 28 = 6,923 ug."""
    from bispecific.pharmacology.dosing import total_rate_steps

    scenario = load_scenario(ROOT / "scenarios" / "approved_9_courses.toml")
    segments, boluses = scenario.schedule.expand(scenario.days, bsa_m2=1.9)
    on, periods = None, []
    for t, rate in total_rate_steps(segments):
        if rate > 0 and on is None:
            on = t
        elif rate == 0 and on is not None:
            periods.append((on / 24, t / 24))
            on = None
    starts = [0, 42, 84, 126, 168] + [210 + 84 * k for k in range(4)]
    assert periods == [(float(d), float(d + 28)) for d in starts]
    assert not boluses
    given = sum(s.rate_ug_per_h * (s.end_h - s.start_h) for s in segments)
    assert given == pytest.approx(6923.0)
    assert scenario.days == 546  # the last cycle's 56 days off included


def test_minimal_scenario_gets_documented_defaults(tmp_path):
    s = _load(tmp_path, BASE)
    assert (s.grid.width, s.grid.height, s.grid.voxel_um) == (100, 100, 10.0)
    assert s.simulation.dt_minutes == 1.0
    assert s.patient.bsa_m2 == 1.88


def test_unknown_key_suggests_the_right_one(tmp_path):
    msg = _error(tmp_path, BASE + "\n[patient]\nmarow_blast_fraction = 0.5\n")
    assert "[patient] unknown key 'marow_blast_fraction'" in msg
    assert "did you mean 'marrow_blast_fraction'" in msg


def test_unknown_table(tmp_path):
    msg = _error(tmp_path, BASE + "\n[gird]\nwidth = 10\n")
    assert "unknown table 'gird'" in msg and "did you mean 'grid'" in msg


def test_wrong_type(tmp_path):
    msg = _error(tmp_path, BASE + '\n[grid]\nwidth = "wide"\n')
    assert "[grid] width = 'wide': expected an integer from 4 to 16384" in msg


def test_out_of_range(tmp_path):
    msg = _error(tmp_path, BASE + "\n[patient]\nmarrow_blast_fraction = 1.5\n")
    assert "marrow_blast_fraction = 1.5: expected a number from 0 to 1" in msg


def test_missing_required_key(tmp_path):
    msg = _error(tmp_path, BASE.replace("seed = 1\n", ""))
    assert "[scenario] missing required key 'seed'" in msg


def test_overlapping_infusions(tmp_path):
    text = BASE + ('\n[[dose]]\nkind = "infusion"\nstart_day = 5\nend_day = 9\n'
                   'rate_ug_per_day = 28\n')
    msg = _error(tmp_path, text)
    assert "[[dose]] #2 overlaps [[dose]] #1" in msg


def test_dose_outside_the_run(tmp_path):
    msg = _error(tmp_path, BASE + '\n[[dose]]\nkind = "bolus"\nday = 12\ndose_ug = 28\n')
    assert "[[dose]] #2 day = 12: outside the run (days = 10)" in msg


def test_rate_given_twice(tmp_path):
    msg = _error(tmp_path, BASE.replace("rate_ug_per_day = 9",
                                        "rate_ug_per_day = 9\nrate_ug_per_m2_per_day = 5"))
    assert "needs exactly one of 'rate_ug_per_day' or 'rate_ug_per_m2_per_day'" in msg


def test_unknown_dose_kind(tmp_path):
    msg = _error(tmp_path, BASE.replace('kind = "infusion"', 'kind = "drip"'))
    assert "[[dose]] #1 kind = 'drip': expected \"infusion\" or \"bolus\"" in msg


def test_unknown_model_parameter(tmp_path):
    msg = _error(tmp_path, BASE + "\n[parameters]\nkill_time = 5\n")
    assert "[parameters] unknown parameter 'kill_time'; did you mean 'kill_time_min'" in msg


def test_model_parameter_out_of_range(tmp_path):
    msg = _error(tmp_path, BASE + "\n[parameters]\nkill_probability = 2\n")
    assert "kill_probability' = 2: allowed 0 to 1" in msg


def test_toml_syntax_error(tmp_path):
    msg = _error(tmp_path, BASE + "\n[patient\n")
    assert "TOML syntax error" in msg and "line" in msg


def test_blast_and_t_cell_fractions_cannot_exceed_the_marrow(tmp_path):
    msg = _error(tmp_path, BASE + "\n[patient]\nmarrow_blast_fraction = 0.8\n"
                 "t_cell_fraction = 0.3\n")
    assert "t_cell_fraction = 0.3: " in msg and "marrow_blast_fraction = 0.8" in msg
    assert "at most 1" in msg


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "nope.toml")


def test_parameter_overrides_reach_the_model(tmp_path):
    s = _load(tmp_path, BASE + "\n[parameters]\nkill_time_min = 12.5\n")
    assert s.parameters.kill_time_min == 12.5
