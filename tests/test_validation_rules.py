"""Validation matches what the model can run: what it accepts runs, what it cannot run is
refused in one line naming the key, the value and what is allowed."""

import copy
import math
from dataclasses import fields

import numpy as np
import pytest

from bispecific.engine.core.parameters import ModelParameters
from bispecific.scenario import ScenarioError, load_scenario, scenario_from_dict
from bispecific.scenario.spec import SCHEMA
from bispecific.simulation.run import run_scenario

from .helpers import shipped_scenarios

TINY = {
    "scenario": {"name": "tiny", "days": 0.02, "seed": 3},
    "grid": {"width": 8, "height": 8},
    "patient": {"marrow_blast_fraction": 0.5, "t_cell_fraction": 0.3},
    "premedication": {"dexamethasone": True},
    "dose": [{"kind": "infusion", "start_day": 0, "end_day": 0.02, "rate_ug_per_day": 28},
             {"kind": "bolus", "day": 0.01, "dose_ug": 10}],
    "interruption": [{"start_day": 0.005, "end_day": 0.006}],
}
# Keys whose largest value is a long or huge run: their bounds are checked by validation
# alone (running 10 years, or a 16384^2 patch, is not a test).
COSTLY = {("scenario", "days"), ("grid", "width"), ("grid", "height")}


def _bounds():
    for table, schema in SCHEMA.items():
        for key, spec in schema.items():
            if spec.kind in (int, float):
                for bound in (spec.lo, spec.hi):
                    if math.isfinite(bound):
                        yield table, key, bound
    for f in fields(ModelParameters):
        for bound in f.metadata["range"]:
            yield "parameters", f.name, bound


def _with(table: str, key: str, value) -> dict:
    data = copy.deepcopy(TINY)
    data.setdefault(table, {})[key] = value
    return data


@pytest.mark.parametrize(("table", "key", "bound"), list(_bounds()),
                         ids=lambda x: str(x))
def test_every_bound_that_validates_also_runs(table, key, bound):
    """The edges of every range are where a zero divides or a power overflows."""
    try:
        scenario = scenario_from_dict(_with(table, key, bound), "t.toml")
    except ScenarioError as exc:  # the bound can clash with the rest (e.g. record < dt)
        assert "\n" not in str(exc) and str(exc).startswith("t.toml: ")
        return
    if (table, key) in COSTLY:
        return
    result = run_scenario(scenario)
    numbers = result.timeseries.select_dtypes("number").to_numpy()
    assert np.isfinite(numbers).all()
    assert all(math.isfinite(v) for v in result.summary.values() if isinstance(v, float))


def _refused(data: dict) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, "t.toml")
    message = str(info.value)
    assert "\n" not in message and message.startswith("t.toml: ")
    return message


@pytest.mark.parametrize("key", ["il6_half_life_min", "ifng_half_life_min",
                                 "tnf_half_life_min", "dexamethasone_half_life_h",
                                 "plasma_l_per_kg"])
def test_a_zero_the_readout_divides_by_is_refused(key):
    message = _refused(_with("cytokines", key, 0))
    assert f"[cytokines] {key} = 0: expected a number from" in message


def test_pk_values_that_would_overflow_are_refused():
    message = _refused(_with("pharmacokinetics", "bsa_exponent_on_clearance", 1000.0))
    assert "bsa_exponent_on_clearance = 1000.0: expected a number from 0 to 3" in message
    assert "volume_l = 0" in _refused(_with("pharmacokinetics", "volume_l", 0))


@pytest.mark.parametrize(("name", "why"), [
    ("", "at least one letter or digit"),
    ("../..", "at least one letter or digit"),
    ("a\x00b", "no control characters (found \\x00)"),
    ("two\nlines", "no control characters (found \\n)"),
    ("x" * 101, "at most 100 characters"),
    (7, "expected a name"),
])
def test_bad_names_are_refused(name, why):
    data = copy.deepcopy(TINY)
    data["scenario"]["name"] = name
    assert why in _refused(data)


def test_a_nul_in_a_description_is_refused_and_newlines_are_not():
    data = copy.deepcopy(TINY)
    data["scenario"]["description"] = "line one\nline two"
    assert scenario_from_dict(data).description == "line one\nline two"
    data["scenario"]["description"] = "bad\x00"
    assert "[scenario] description = 'bad\\x00': must have no control" in _refused(data)


@pytest.mark.parametrize(("entry", "expected"), [
    ({"kind": "infusion", "start_day": 0, "end_day": 0.05, "rate_ug_per_day": 9},
     "[[dose]] #3 end_day = 0.05: after the end of the run (days = 0.02); allowed up to 0.02"),
    ({"kind": "bolus", "day": 0.02, "dose_ug": 9},
     "[[dose]] #3 day = 0.02: outside the run (days = 0.02)"),
    ({"kind": "bolus", "day": 0, "dose_ug": 9, "every_days": 0.01, "until_day": 1},
     "[[dose]] #3 until_day = 1: after the end of the run (days = 0.02)"),
    ({"kind": "bolus", "day": 0.015, "dose_ug": 9, "every_days": 0.01, "until_day": 0.01},
     "until_day = 0.01: must be after the first dose (day 0.015)"),
    ({"kind": ["infusion"]}, "[[dose]] #3 kind = ['infusion']: expected \"infusion\""),
])
def test_doses_outside_the_run_are_errors(entry, expected):
    data = copy.deepcopy(TINY)
    data["dose"].append(entry)
    assert expected in _refused(data)


def test_an_interruption_outside_the_run_is_an_error():
    data = copy.deepcopy(TINY)
    data["interruption"] = [{"start_day": 0.01, "end_day": 5}]
    assert ("[[interruption]] #1 end_day = 5: after the end of the run (days = 0.02)"
            in _refused(data))
    data["interruption"] = [{"start_day": 3, "end_day": 5}]
    assert "[[interruption]] #1 start_day = 3: outside the run" in _refused(data)


def test_shares_of_the_marrow_that_sum_past_one_are_refused():
    # Blasts and T cells are shares of the same marrow cells (docs/model.md s.2): 0.7 + 0.4
    # describes no marrow, while 0.6 + 0.4 fills it exactly and must run.
    data = copy.deepcopy(TINY)
    data["grid"] = {"width": 4, "height": 4}
    data["parameters"] = {"marrow_cellularity": 1.0}
    data["patient"] = {"marrow_blast_fraction": 0.7, "t_cell_fraction": 0.4}
    assert "the two exceed 1" in _refused(data)
    data["patient"] = {"marrow_blast_fraction": 0.6, "t_cell_fraction": 0.4}
    state = run_scenario(scenario_from_dict(data)).model.state
    assert (state.n_blasts, state.n_tcells) == (10, 6)  # 16 cells x 0.6 and x 0.4


def test_a_shorter_run_cuts_the_schedule_to_its_first_part():
    """--days keeps what happens before the new end, dose for dose."""
    path = next(p for p in shipped_scenarios() if p.stem == "two_cycles")
    full = load_scenario(path)
    short = full.with_changes(days=10)
    assert short.schedule.interruptions == ()  # day 50 lies beyond the new end
    bsa = full.patient.bsa_m2
    for day in range(10):
        assert short.schedule.daily_dose_ug(day, bsa, 10) == pytest.approx(
            full.schedule.daily_dose_ug(day, bsa, 84))
    assert short.schedule.daily_dose_ug(7, bsa, 10) == pytest.approx(28.0)


def test_the_other_kind_of_file_is_named(tmp_path):
    from bispecific.cohorts.spec import load_cohort

    cohort = next(p for p in shipped_scenarios()[0].parent.glob("cohort_*.toml"))
    with pytest.raises(ScenarioError, match="is a cohort file .* not a scenario"):
        load_scenario(cohort)
    with pytest.raises(ScenarioError, match="is a scenario file .* not a cohort"):
        load_cohort(shipped_scenarios()[0])
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('[cohort]\nname = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError, match="cannot read: not UTF-8 text"):
        load_cohort(latin1)
