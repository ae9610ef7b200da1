"""Dosing as NONMEM-style event tables: read from a scenario, written by every run, and
round-tripped for every shipped schedule (same dose events, same exposure)."""

import math
from pathlib import Path

import pandas as pd
import pytest

from bispecific.pharmacology.event_records import (
    DoseRecord,
    dose_events,
    records_from_schedule,
    schedule_from_records,
)
from bispecific.pharmacology.pk import PKParameters, PlasmaCurve
from bispecific.scenario import ScenarioError, load_scenario
from bispecific.scenario.event_table import read_event_table, write_event_table

from .helpers import shipped_scenarios
from .test_cli import assert_one_line_error, bispecific

ROOT = Path(__file__).parent.parent
HEADER = "ID,TIME,AMT,RATE,EVID,CMT,II,ADDL,SS\n"


def _same_events(a, b) -> None:
    (seg_a, bol_a), (seg_b, bol_b) = a, b
    assert len(seg_a) == len(seg_b) and len(bol_a) == len(bol_b)
    for x, y in zip(seg_a, seg_b, strict=True):
        assert (x.start_h, x.end_h, x.rate_ug_per_h) == pytest.approx(
            (y.start_h, y.end_h, y.rate_ug_per_h), rel=1e-12, abs=1e-9)
    for x, y in zip(bol_a, bol_b, strict=True):
        assert (x.time_h, x.dose_ug) == pytest.approx((y.time_h, y.dose_ug), rel=1e-12)


def _total_ug(events) -> float:
    segments, boluses = events
    return (sum(s.rate_ug_per_h * (s.end_h - s.start_h) for s in segments)
            + sum(e.dose_ug for e in boluses))


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_every_shipped_schedule_round_trips_through_a_table(path, tmp_path):
    s = load_scenario(path)
    bsa = s.patient.bsa_m2
    table = tmp_path / "doses.csv"
    table.write_text(write_event_table(records_from_schedule(s.schedule, s.days, bsa)))
    back = schedule_from_records(read_event_table(table, s.days), s.days)
    before, after = dose_events(s.schedule, s.days, bsa), dose_events(back, s.days, bsa)
    _same_events(before, after)
    # Equal exposure: the total dose, and the plasma curve at every hour of the run.
    assert _total_ug(after) == pytest.approx(_total_ug(before), rel=1e-12)
    c_before = PlasmaCurve(s.schedule, s.days, bsa, s.pk)
    c_after = PlasmaCurve(back, s.days, bsa, s.pk)
    hours = range(int(s.days * 24) + 1)
    assert [c_after(h) for h in hours] == pytest.approx([c_before(h) for h in hours],
                                                        rel=1e-9, abs=1e-9)


def test_regular_repeats_are_written_as_ii_and_addl():
    s = load_scenario(ROOT / "scenarios" / "bolus_weekly.toml")  # 196 ug on days 0, 7, 14, 21
    assert records_from_schedule(s.schedule, s.days, s.patient.bsa_m2) == [
        DoseRecord(0.0, 196.0, 0.0, 168.0, 3)]
    two = load_scenario(ROOT / "scenarios" / "two_cycles.toml")
    records = records_from_schedule(two.schedule, two.days, two.patient.bsa_m2)
    assert all(r.addl == 0 or r.ii_h > r.duration_h for r in records)


def test_a_table_with_rate_duration_and_repeats_gives_the_doses_it_says(tmp_path):
    table = tmp_path / "doses.csv"
    table.write_text("ID,TIME,AMT,RATE,DUR,II,ADDL,EVID,DV\n"
                     "7,0,12,0,.,24,2,1,.\n"        # 12 ug boluses at 0, 24 and 48 h
                     "7,6,.,.,.,.,.,0,35.5\n"      # an observation row: skipped
                     "7,72,48,2,.,0,0,1,.\n"       # 48 ug at 2 ug/h: 72-96 h
                     "7,100,30,-2,10,0,0,1,.\n")   # 30 ug over DUR 10 h: 3 ug/h, 100-110 h
    segments, boluses = dose_events(schedule_from_records(read_event_table(table, 5), 5), 5, 1)
    assert [(e.time_h, e.dose_ug) for e in boluses] == [(0, 12), (24, 12), (48, 12)]
    assert [x for s in segments for x in (s.start_h, s.end_h, s.rate_ug_per_h)] == (
        pytest.approx([72, 96, 2, 100, 110, 3]))


def test_a_scenario_dosed_by_a_table_runs_and_writes_its_doses_back(tmp_path):
    shipped = ROOT / "scenarios" / "continuous_4wk_events.toml"
    s = load_scenario(shipped)
    _same_events(dose_events(s.schedule, 28, 1.88),
                 dose_events(load_scenario(ROOT / "scenarios" / "continuous_4wk.toml").schedule,
                             28, 1.88))
    out = tmp_path / "run"
    r = bispecific("run", shipped, "--out", out, "--days", "0.5", "--quiet")
    assert r.returncode == 0, r.stderr
    # Plasma at 12 h of 9 ug/day from time 0: Css (1 - exp(-CL/V t)), Css = rate / CL.
    pk = PKParameters()
    cl = pk.clearance_for(1.88)  # the default patient's BSA
    expected = 9 / 24 / cl * 1000 * (1 - math.exp(-cl / pk.volume_l * 12))
    ts = pd.read_csv(out / "timeseries.csv")
    assert ts["drug_plasma_pg_per_ml"].iloc[-1] == pytest.approx(expected, rel=1e-3)
    written = pd.read_csv(out / "dosing.csv")
    assert list(written.columns) == ["ID", "TIME", "AMT", "RATE", "EVID", "CMT", "II", "ADDL",
                                     "SS"]
    assert written[["TIME", "AMT", "RATE"]].values.tolist() == [[0.0, 4.5, 0.375]]  # 12 h run


@pytest.mark.parametrize("csv_text, expected", [
    ("TIME,AMT,RAET\n0,10,1\n", "line 1: unknown column 'RAET'; did you mean 'RATE'?"),
    ("TIME,RATE\n0,1\n", "line 1: missing the column AMT (ug)"),
    ("TIME,AMT,RATE\n0,10,fast\n", "line 2: column RATE = 'fast': expected 0 or empty"),
    ("TIME,AMT\n-1,10\n", "line 2: column TIME = '-1': expected hours from 0 to below 48"),
    ("TIME,AMT\n48,10\n", "TIME = '48': expected hours from 0 to below 48 (the end of"),
    ("TIME,AMT,SS\n0,10,1\n", "column SS = '1': expected 0 (steady-state doses"),
    ("TIME,AMT,CMT\n0,10,2\n", "column CMT = '2': expected 1 (the central compartment"),
    ("TIME,AMT,EVID\n0,10,4\n", "column EVID = '4': expected 1 (a dose) or 0"),
    ("TIME,AMT,ADDL\n0,10,2\n", "line 2: column ADDL = 2 needs II above 0"),
    ("TIME,AMT,ADDL,II\n0,10,1.5,12\n", "column ADDL = '1.5': expected an integer >= 0"),
    ("TIME,AMT,RATE,II,ADDL\n0,24,1,12,1\n", "column II = 12: shorter than the infusion"),
    ("TIME,AMT,RATE\n0,24,1\n12,6,1\n", "line 3 overlaps line 2: infusions at hours 0-24"),
    ("TIME,AMT,RATE\n40,24,1\n", "the infusion runs to hour 64, after the end of the run"),
    ("TIME,AMT,RATE,DUR\n0,24,1,10\n", "column DUR = 10 with RATE = 1: give the rate or"),
    ("TIME,AMT,RATE\n0,24,-2\n", "column RATE = -2 needs DUR above 0"),
    ("ID,TIME,AMT\n1,0,10\n2,0,10\n", "line 3: column ID = '2': a second patient"),
    ("TIME,AMT\n0,10,3\n", "line 2: 3 values for 2 columns"),
])
def test_a_bad_table_is_one_line_naming_line_column_value_and_what_is_allowed(
        tmp_path, csv_text, expected):
    (tmp_path / "doses.csv").write_text(csv_text)
    scenario = tmp_path / "s.toml"
    scenario.write_text('[scenario]\nname = "t"\ndays = 2\nseed = 1\n'
                        '[dosing]\ntable = "doses.csv"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(scenario)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'doses.csv'}: ") and "\n" not in message
    assert expected in message


def test_the_command_line_reports_a_bad_table_in_one_line_with_exit_2(tmp_path):
    (tmp_path / "doses.csv").write_text(HEADER + "1,0,10,0,1,1,0,0,1\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[scenario]\nname = "t"\ndays = 2\nseed = 1\n'
                        '[dosing]\ntable = "doses.csv"\n')
    line = assert_one_line_error(bispecific("run", scenario, "--out", tmp_path / "o"))
    assert "doses.csv: line 2: column SS = '1'" in line
    (tmp_path / "doses.csv").unlink()
    line = assert_one_line_error(bispecific("run", scenario, "--out", tmp_path / "o"))
    assert "doses.csv: no such file (the [dosing] table)" in line
    scenario.write_text('[scenario]\nname = "t"\ndays = 2\nseed = 1\n[dosing]\ntable = "d.csv"\n'
                        '[[dose]]\nkind = "bolus"\nday = 0\ndose_ug = 5\n')
    line = assert_one_line_error(bispecific("run", scenario, "--out", tmp_path / "o"))
    assert "[dosing] table = 'd.csv' and [[dose]] both give doses" in line
