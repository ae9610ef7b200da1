"""A trial's stopping rules (`[stopping]`, docs/model.md s.13): treatment ends at the first
assessment where a rule fires, the run ends there, and nothing before it changes."""

import math

import numpy as np
import pytest

from bispecific.readouts.response import Assessment, AssessmentRecorder
from bispecific.scenario import ScenarioError, scenario_from_dict
from bispecific.scenario.spec import Stopping
from bispecific.simulation.checkpoint import Checkpointing
from bispecific.simulation.run import RunInterrupted, run_scenario
from bispecific.simulation.stopping import NO_RESPONSE, RELAPSE, TreatmentStopping


def _data(stopping=None, days=28.0):
    data = {
        "scenario": {"name": "stop", "days": days, "seed": 11},
        "patient": {"marrow_blast_fraction": 0.8, "t_cell_fraction": 0.02},
        "grid": {"width": 24, "height": 24},
        "dose": [{"kind": "infusion", "start_day": 0, "end_day": 7, "rate_ug_per_day": 28,
                  "every_days": 14, "until_day": days}],
    }
    if stopping is not None:
        data["stopping"] = stopping
    return data


class _Model:
    running = True


def _observer(rules, percents):
    """The rules read over assessments at days 7, 21, 35, ... with these marrow blasts (%)."""
    recorder = AssessmentRecorder([], escape=None)
    recorder.taken = [Assessment(0.0, 80.0, 100.0)] + [
        Assessment(24.0 * (7 + 14 * n), p, 100.0) for n, p in enumerate(percents)]
    model = _Model()
    stopping = TreatmentStopping(rules, recorder, enrichment=1.0)
    stopping.update(model)
    return stopping, model


def test_no_response_by_the_day_stops_at_the_first_assessment_on_or_after_it():
    stopping, model = _observer(Stopping(without_response_by_day=20.0), [60.0, 40.0, 3.0])
    assert (stopping.stopped_day, stopping.reason, model.running) == (21.0, NO_RESPONSE, False)


def test_a_response_before_the_day_keeps_treatment_going():
    stopping, model = _observer(Stopping(without_response_by_day=20.0), [4.9, 40.0, 3.0])
    assert stopping.stopped_day is None and model.running


def test_relapse_after_a_response_stops_treatment_only_under_the_rule():
    stopping, model = _observer(Stopping(on_relapse=True), [60.0, 4.0, 2.0, 5.0, 1.0])
    assert (stopping.stopped_day, stopping.reason, model.running) == (49.0, RELAPSE, False)
    stopping, model = _observer(Stopping(without_response_by_day=20.0), [4.0, 2.0, 5.0])
    assert stopping.stopped_day is None and model.running


def test_a_stopped_run_is_the_unstopped_run_cut_at_the_stop():
    """Stopping changes nothing before it: the time series up to the stop is the same bit for
    bit as the run without rules, and it ends at the assessment (the end of the first week
    of infusion, day 7) that the rule fired at."""
    rules = {"without_response_by_day": 5.0, "on_relapse": True}
    stopped = run_scenario(scenario_from_dict(_data(rules)))
    whole = run_scenario(scenario_from_dict(_data()))
    s = stopped.summary
    assert whole.summary["marrow_blast_percent_at_assessments"][0] >= 5.0  # a non-responder
    assert (s["treatment_end_day"], s["stop_reason"]) == (7.0, NO_RESPONSE)
    assert (whole.summary["treatment_end_day"], whole.summary["stop_reason"]) == (28.0, "none")
    ts = stopped.timeseries
    assert ts["time_h"].iloc[-1] == pytest.approx(7 * 24.0)
    prefix = whole.timeseries.iloc[: len(ts)].reset_index(drop=True)
    assert np.array_equal(ts.to_numpy(), prefix.to_numpy(), equal_nan=True)
    assert s["assessment_days"] == [7.0]
    assert math.isclose(stopped.snapshots.taken[-1][0], 7 * 24.0)  # the grid at the stop


def test_a_rule_day_outside_the_run_is_one_clear_line():
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_data({"without_response_by_day": 28.0}), "s.toml")
    message = str(err.value)
    assert "\n" not in message
    assert "[stopping] without_response_by_day = 28" in message and "below 28" in message


def test_a_shorter_run_drops_a_rule_day_beyond_it():
    scenario = scenario_from_dict(_data({"without_response_by_day": 21.0, "on_relapse": True}))
    shorter = scenario.with_changes(days=14.0)
    assert shorter.stopping == Stopping(None, True)
    assert scenario.to_dict()["stopping"] == {"without_response_by_day": 21.0,
                                              "on_relapse": True}


@pytest.mark.parametrize("interrupted_at_h", [100.0, 168.0])
def test_a_stopped_run_resumes_from_a_checkpoint_bit_for_bit(tmp_path, interrupted_at_h):
    """Interrupted before the stop (hour 100) or at it (hour 168, day 7: the checkpoint holds
    a stopped run), then continued: the same run as one never interrupted."""
    scenario = scenario_from_dict(_data({"without_response_by_day": 5.0}))
    whole = run_scenario(scenario)
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(RunInterrupted):
        run_scenario(scenario, stop_after_h=interrupted_at_h,
                     checkpointing=Checkpointing(path, every_h=4.0))
    resumed = run_scenario(scenario, checkpointing=Checkpointing(path, every_h=4.0))
    assert resumed.resumed_from_h == interrupted_at_h
    assert resumed.summary == whole.summary
    assert resumed.timeseries.equals(whole.timeseries)
