"""A chemotherapy course in the same marrow (docs/model.md s.14): each cell survives with
its kind's probability 10^-log10_kill, removed as the removal machinery removes agents; the
expected CD19-negative subclone takes the same kill; bad keys are one line, exit 2."""

from __future__ import annotations

import math

import pytest

from bispecific.cli import main
from bispecific.scenario import ScenarioError, scenario_from_dict
from bispecific.simulation.run import build_model
from tests.helpers import assert_invariants


def _scenario(**course):
    course = {"regimen": "FLAG-IDA", "day": 0.0, **course}
    return scenario_from_dict({
        "scenario": {"name": "chemo", "days": 2.0, "seed": 4},
        "patient": {"marrow_blast_fraction": 0.5, "t_cell_fraction": 0.1,
                    "cd19_negative_fraction": 0.01},
        "grid": {"width": 48, "height": 48},
        "chemotherapy": [course]})


def _within(after: int, before: int, p: float) -> bool:
    """after ~ Binomial(before, p), within 4 SD (a step's births and deaths add < 1%)."""
    sd = math.sqrt(before * p * (1 - p))
    return abs(after - before * p) < 4 * sd + 0.01 * before


def test_a_course_kills_each_kind_by_its_log10():
    s = _scenario(blast_log10_kill=1.0, t_cell_log10_kill=0.5, normal_log10_kill=0.3)
    model = build_model(s)
    st = model.state
    blasts, tcells, normal = (st.blasts_alive(), st.tcells_alive(), st.normal_alive())
    expected_negative = model.readouts[1].expected  # the escape observer, after chemo
    model.step()  # the course is given at the end of the first step (day 0)
    assert _within(st.blasts_alive(), blasts, 0.1)
    assert _within(st.tcells_alive(), tcells, 10 ** -0.5)
    assert _within(st.normal_alive(), normal, 10 ** -0.3)
    # the expected CD19- subclone: one course's kill times one minute's net growth at most
    assert model.readouts[1].expected == pytest.approx(0.1 * expected_negative, rel=1e-3)
    assert_invariants(model)
    once = st.blasts_alive()
    model.step()  # given once: the next step only divides and loses a few
    assert abs(st.blasts_alive() - once) <= max(3, 0.05 * once)


def test_without_chemotherapy_the_scenario_keys_as_before():
    s = _scenario()
    data = s.to_dict()
    assert data["chemotherapy"][0]["regimen"] == "FLAG-IDA"
    assert scenario_from_dict(data).chemotherapy == s.chemotherapy  # round trip
    data.pop("chemotherapy")
    assert "chemotherapy" not in scenario_from_dict(data).to_dict()


@pytest.mark.parametrize(("course", "message"), [
    ({"regimen": "R-CHOP"}, "regimen = 'R-CHOP'"),
    ({"day": 5.0}, "day = 5: outside the run"),
    ({"blast_log10_kill": -1.0}, "blast_log10_kill = -1"),
    ({"kill": 2.0}, "kill"),
])
def test_bad_courses_are_refused_in_one_line(course, message):
    with pytest.raises(ScenarioError) as err:
        _scenario(**course)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_command_line_refuses_a_bad_course_with_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[scenario]\nname = "x"\ndays = 3\nseed = 1\n\n'
                    '[[chemotherapy]]\nregimen = "FLAG-IDA"\nday = 1\nblast_log10_kill = 40\n')
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.toml" in err[0] and "blast_log10_kill = 40" in err[0]
    assert "from 0 to 12" in err[0]


def test_a_run_with_courses_resumes_bit_identical_from_a_checkpoint(tmp_path):
    import dataclasses

    import numpy as np

    from bispecific.simulation.checkpoint import Checkpointing
    from bispecific.simulation.run import RunInterrupted, run_scenario

    base = scenario_from_dict({
        "scenario": {"name": "chemo", "days": 1.0, "seed": 9},
        "grid": {"width": 24, "height": 24},
        "chemotherapy": [{"regimen": "HiDAC", "day": 0.25}, {"regimen": "HiDAC", "day": 0.75}]})
    whole = run_scenario(base)
    path = tmp_path / "c.npz"
    with pytest.raises(RunInterrupted):  # stopped between the two courses
        run_scenario(base, stop_after_h=13.0, checkpointing=Checkpointing(path, every_h=5.0))
    resumed = run_scenario(base, checkpointing=Checkpointing(path, every_h=5.0))
    assert resumed.resumed_from_h == 10.0
    for f in dataclasses.fields(whole.model.state):
        assert np.array_equal(getattr(whole.model.state, f.name),
                              getattr(resumed.model.state, f.name)), f.name
    assert whole.summary == resumed.summary
