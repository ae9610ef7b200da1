"""What a cohort result depends on, as keys that cannot be confused.

A task (one patient in one arm) is stored under the hash of everything that determines its
result: the resolved scenario (the arm's schedule, grid and run length, the patient's
covariates and seed, every model, PK and cytokine parameter; not the thread setting
`parallel`, which never changes a result) and the package version. A
result can only be reused by a task that would compute the same thing.

A cohort folder records the cohort's definition: everything except the number of patients.
A folder is extended only by a cohort with the same definition (more or fewer patients of
the same population); `first_difference` says what differs otherwise.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .. import __version__
from ..scenario import Scenario
from .spec import Cohort


def canonical_json(data: Any) -> str:
    """One text per value: keys sorted, no spaces, floats as Python writes them (exact)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def task_key(scenario: Scenario, simulator: str | None = None) -> str:
    """The sha256 of the resolved scenario of one patient in one arm (less the thread
    setting, `Scenario.result_dict`), and the version; and the name of what computes it when
    that is not the model (a stand-in objective)."""
    data: dict[str, Any] = {"scenario": scenario.result_dict(),
                            "bispecific_version": __version__}
    if simulator is not None:
        data["simulator"] = simulator
    text = canonical_json(data)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def definition(cohort: Cohort) -> dict[str, Any]:
    """The cohort as a folder records it: all but the number of patients."""
    data = {
        "name": cohort.name,
        "description": cohort.description,
        "seed": cohort.seed,
        "covariates": {c.name: c.to_dict() for c in cohort.covariates},
        "arms": {a.name: a.scenario.result_dict() for a in cohort.arms},
        "bispecific_version": __version__,
    }
    # Only where given, so that the folders of cohorts without them stay as they were.
    if cohort.correlation is not None:
        data["correlation"] = cohort.correlation.to_dict()
    if cohort.table:
        data["patient_table"] = [dict(row) for row in cohort.table]
    return data


def first_difference(old: Any, new: Any, path: str = "") -> str | None:
    """Where two definitions first differ, as 'PATH: OLD in the folder, NEW now', or None."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                return f"{where}: in the folder, absent now"
            if key not in old:
                return f"{where}: absent in the folder, {_short(new[key])} now"
            found = first_difference(old[key], new[key], where)
            if found is not None:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list):
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found is not None:
                return found
        if len(old) != len(new):
            return f"{path}: {len(old)} entries in the folder, {len(new)} now"
        return None
    if old != new:
        return f"{path}: {_short(old)} in the folder, {_short(new)} now"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
