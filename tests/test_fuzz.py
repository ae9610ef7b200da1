"""Fuzzing the front door: generated scenario and cohort documents (wrong types, values out
of range or not finite, unknown and missing keys and tables, odd strings, doses that overlap
or fall outside the run). Each is either refused with one line naming the file, or it
validates, survives a round trip through its resolved TOML, and runs.

CI tries a few thousand documents; BISPECIFIC_FUZZ_EXAMPLES=20000 tries that many scenario
documents locally (and half as many cohorts, and one command line in 500).
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bispecific.cohorts.identity import canonical_json, definition
from bispecific.cohorts.runner import plan
from bispecific.cohorts.spec import load_cohort
from bispecific.scenario import ScenarioError, load_scenario, scenario_from_dict
from bispecific.simulation.run import run_scenario

from .fuzz_documents import cohort_documents, scenario_documents, too_costly

EXAMPLES = int(os.environ.get("BISPECIFIC_FUZZ_EXAMPLES", "1500"))
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck))
LABEL = "fuzz.toml"


def _one_line(exc: ScenarioError, *files: str) -> None:
    """One line that begins with the file at fault (a cohort's arm may name another)."""
    message = str(exc)
    assert "\n" not in message and "\r" not in message, message
    assert any(message.startswith(f"{f}: ") for f in files), message


def _runs(scenario) -> None:
    """The scenario runs, to finite numbers, unless it is too large for a fuzz case."""
    why = too_costly(scenario)
    if why is not None:
        event(f"valid, not run: {why}")
        return
    event("valid, run")
    result = run_scenario(scenario, snapshot_days=[0.0, scenario.days])
    numbers = result.timeseries.select_dtypes("number").to_numpy()
    assert np.isfinite(numbers).all()
    assert all(math.isfinite(v) for v in result.summary.values() if isinstance(v, float))


@settings(FUZZ, max_examples=EXAMPLES)
@given(doc=scenario_documents())
def test_a_scenario_document_is_refused_in_one_line_or_runs(doc):
    text = tomli_w.dumps(doc)  # what a user could write
    try:
        scenario = scenario_from_dict(tomllib.loads(text), LABEL)
    except ScenarioError as exc:
        event("refused")
        _one_line(exc, LABEL)
        return
    # The resolved scenario written out reproduces the scenario (a run folder's scenario.toml).
    assert scenario_from_dict(tomllib.loads(scenario.to_toml()), "again") == scenario
    _runs(scenario)


@pytest.fixture(scope="module")
def arm_files(tmp_path_factory) -> dict[str, str]:
    """Files an arm may name: a good scenario, a broken one, a cohort, a folder, nothing."""
    folder = tmp_path_factory.mktemp("arms")
    good = {"scenario": {"name": "good", "days": 0.03, "seed": 1},
            "grid": {"width": 8, "height": 8},
            "dose": [{"kind": "infusion", "start_day": 0, "end_day": 0.03,
                      "rate_ug_per_day": 28}]}
    (folder / "good.toml").write_text(tomli_w.dumps(good))
    (folder / "broken.toml").write_text('[scenario]\nname = "b"\ndays = -1\nseed = 1\n')
    (folder / "cohort.toml").write_text('[cohort]\nname = "c"\npatients = 1\nseed = 1\n')
    (folder / "latin1.toml").write_bytes('[scenario]\nname = "caf\xe9"\n'.encode("latin-1"))
    (folder / "a_folder.toml").mkdir()
    names = ["good.toml", "broken.toml", "cohort.toml", "latin1.toml", "a_folder.toml",
             "missing.toml"]
    return {name: str(folder / name) for name in names} | {"good": str(folder / "good.toml")}


@settings(FUZZ, max_examples=max(50, EXAMPLES // 2))
@given(data=st.data())
def test_a_cohort_document_is_refused_in_one_line_or_runs(arm_files, data):
    doc = data.draw(cohort_documents(arm_files))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cohort.toml"
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        try:
            cohort = load_cohort(path)
            tasks, invalid = plan(cohort)
        except ScenarioError as exc:
            event("refused")
            _one_line(exc, str(path), *_named_files(doc, path.parent))
            return
    json.loads(canonical_json(definition(cohort)))  # a folder can record it
    if invalid:
        event("valid, some draws outside the model's ranges")
    _runs(tasks[0].scenario)


def _named_files(doc: dict, folder: Path) -> list[str]:
    """The files a cohort document's arms name, as the loader resolves them: an error
    inside one of them names that file, where the fix goes."""
    arms = doc.get("arm")
    return [str(folder / arm[key]) for arm in (arms if isinstance(arms, list) else [])
            if isinstance(arm, dict) for key in ("scenario", "base")
            if isinstance(arm.get(key), str)]


def bispecific(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bispecific", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


@settings(FUZZ, max_examples=max(4, EXAMPLES // 500))
@given(doc=scenario_documents())
def test_the_command_line_refuses_in_one_line_and_writes_nothing_or_runs(doc):
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / "doc.toml", Path(folder) / "out"
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        try:
            scenario = load_scenario(path)
        except ScenarioError:
            scenario = None
        if scenario is not None and too_costly(scenario):
            return
        validated = bispecific("validate", path)
        ran = bispecific("run", path, "--out", out, "--snapshots", "0", "--quiet")
        if scenario is None:
            for r in (validated, ran):
                assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
                assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("error: ")
            assert validated.stderr == ran.stderr  # the same files, refused alike
            assert not out.exists()
        else:
            assert validated.returncode == 0 and ran.returncode == 0, ran.stderr
            assert (out / "summary.json").exists()
