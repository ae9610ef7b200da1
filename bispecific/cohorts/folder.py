"""A cohort's output folder: what it holds, and which cohort may write into it.

The folder describes itself:
- `cohort.json`: the cohort's definition (`identity.definition`), the version, and once
  finished the counts of runs; written first, so a folder with any result names its cohort;
- `cohort.toml` and `arms/ARM.toml`: the cohort as run, every arm's resolved scenario
  (`bispecific cohort OUT/cohort.toml` runs it again);
- `patients.csv`, and `tasks/`: one file per finished patient x arm, named by its key.

A folder made from another definition is refused in one line that says what differs; with
`fresh` it is emptied first. The same definition with a different number of patients
extends or trims the cohort: the patients that both share are the same (`Cohort.patient`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from .. import __version__
from ..outputs.files import atomic_write_text
from ..outputs.folders import FolderError, check_folder, folder_kind
from ..scenario.names import slug
from .identity import definition, first_difference
from .spec import PATIENT_TABLE, Cohort

MANIFEST = "cohort.json"
TASKS = "tasks"
ARMS = "arms"
# Derived from tasks/ at the end of a run, so removed when a run starts: an interrupted
# folder never shows the tables of an earlier, smaller cohort beside new patients.
TABLES = ("results.csv", "failures.csv", "arms.csv", "cohort.png", "cohort.svg",
          "timing.json", "results.parquet", "arms.parquet", "patients.parquet",
          "population.png", "population.svg")


class CohortFolderError(FolderError):
    """A folder that holds another cohort; the message says what differs."""


def check_cohort_folder(out: Path, cohort: Cohort, fresh: bool = False) -> None:
    """Refuse a folder that holds another cohort (unless `fresh`: `write_manifest` will
    empty it), before any work; writes nothing. Folders that hold anything but cohort
    outputs are refused even with `fresh`."""
    check_recorded_folder(out, "cohort", MANIFEST, definition(cohort), fresh)


def check_recorded_folder(out: Path, kind: str, manifest: str, current: dict[str, Any],
                          fresh: bool = False, what: str | None = None) -> None:
    """Refuse a `kind` folder whose `manifest` records a definition other than `current`
    (unless `fresh`), and any folder holding other files; writes nothing. Shared by every
    folder that gathers many runs under one definition (a cohort, an analysis); `what` names
    the definition in messages (default: the kind)."""
    what = what or kind
    check_folder(out, kind)
    if fresh or folder_kind(out) in ("missing", "empty"):
        return
    how = "choose another folder with --out, or add --fresh to replace it"
    try:
        recorded = json.loads((out / manifest).read_text(encoding="utf-8"))["definition"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CohortFolderError(f"{out}: holds a {what} without a readable {manifest} (an "
                                f"earlier version, or damaged); {how}") from None
    difference = first_difference(recorded, current)
    if difference is not None:
        raise CohortFolderError(f"{out}: holds a different {what} ({difference}); {how}")


def empty_folder(out: Path) -> None:
    """Remove everything in `out` (a folder `check_recorded_folder` accepted as its kind)."""
    for entry in out.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def arm_file(arm_name: str) -> str:
    return f"{ARMS}/{slug(arm_name)}.toml"


def write_manifest(out: Path, cohort: Cohort, patients: list[dict[str, float]],
                   fresh: bool = False) -> None:
    """cohort.json (first), then the cohort as run, its arms and its patients; with
    `fresh`, the previous cohort in the folder is removed first."""
    if fresh and folder_kind(out) == "cohort":
        empty_folder(out)
    (out / TASKS).mkdir(parents=True, exist_ok=True)
    (out / ARMS).mkdir(exist_ok=True)
    info = {"cohort": cohort.name, "seed": cohort.seed, "patients": cohort.patients,
            "arms": [a.name for a in cohort.arms], "status": "running",
            "bispecific_version": __version__, "definition": definition(cohort)}
    atomic_write_text(out / MANIFEST, json.dumps(info, indent=1) + "\n")
    for name in TABLES:
        (out / name).unlink(missing_ok=True)
    for arm in cohort.arms:
        atomic_write_text(out / arm_file(arm.name), arm.scenario.to_toml())
    files = {a.name: arm_file(a.name) for a in cohort.arms}
    atomic_write_text(out / "cohort.toml", tomli_w.dumps(cohort.to_dict(files)))
    if cohort.table:  # the real patients' covariates, where cohort.toml names them
        atomic_write_text(out / PATIENT_TABLE, pd.DataFrame(list(cohort.table)).to_csv(
            index=False))
    atomic_write_text(out / "patients.csv", pd.DataFrame(patients).to_csv(index=False))


def mark_finished(out: Path, counts: dict[str, int], manifest: str = MANIFEST) -> Path:
    """The manifest again, with the counts of runs: the last file a finished run writes."""
    path = out / manifest
    info = json.loads(path.read_text(encoding="utf-8"))
    info.update(status="finished", **counts)
    atomic_write_text(path, json.dumps(info, indent=1) + "\n")
    return path
