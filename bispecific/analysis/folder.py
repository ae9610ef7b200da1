"""An analysis's output folder: what it holds, and which analysis may write into it.

Like a cohort folder (`cohorts.folder`, whose checks it shares), it describes itself: the
manifest `KIND.json` (the analysis's definition, the version, the seeds; written first, and
last again with the counts once finished), `config.toml` (the file as given), `arms/` (the
base scenarios resolved), `patients.csv`, and `tasks/` (every run, by key). A folder made by
another definition is refused in one line that says what differs; `--fresh` empties it.
The tables and figures are derived from `tasks/` at the end, so they are removed when a run
starts: an interrupted folder never shows an earlier analysis's tables beside new runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..cohorts.folder import (
    ARMS,
    TASKS,
    UNFINISHED,
    arm_file,
    check_recorded_folder,
    empty_folder,
    mark_finished,
)
from ..cohorts.spec import Cohort
from ..outputs.files import atomic_write_text
from ..outputs.folders import folder_kind

CONFIG = "config.toml"
PATIENTS = "patients.csv"


class AnalysisFolder:
    """The folder `out` of a `kind` analysis ("sensitivity", "optimise"), `what` in words."""

    def __init__(self, out: str | Path, kind: str, definition: dict[str, Any],
                 what: str) -> None:
        self.out = Path(out)
        self.kind = kind
        self.what = what  # the analysis in words, for messages
        self.manifest = f"{kind}.json"
        self.definition = definition
        self.tasks = self.out / TASKS

    def check(self, fresh: bool = False) -> None:
        """Refuse, before any work and writing nothing, a folder that holds anything but
        this kind's outputs, or (unless `fresh`) another analysis."""
        check_recorded_folder(self.out, self.kind, self.manifest, self.definition, fresh,
                              self.what)

    def prepare(self, fresh: bool, info: dict[str, Any], config_text: str, cohort: Cohort,
                patients: list[dict[str, float]]) -> None:
        """The manifest (first), the file as given, the base scenarios and the patients;
        derived tables of an earlier run removed, finished runs in tasks/ kept."""
        if fresh and folder_kind(self.out) not in ("missing", "empty"):
            empty_folder(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        manifest = {**info, "status": UNFINISHED, "bispecific_version": __version__,
                    "definition": self.definition}
        atomic_write_text(self.out / self.manifest, json.dumps(manifest, indent=1) + "\n")
        keep = {self.manifest, CONFIG, PATIENTS, TASKS, ARMS}
        for entry in self.out.iterdir():
            if entry.name not in keep and not entry.name.startswith("."):
                if entry.is_dir():
                    empty_folder(entry)
                    entry.rmdir()
                else:
                    entry.unlink()
        self.tasks.mkdir(exist_ok=True)
        (self.out / ARMS).mkdir(exist_ok=True)
        atomic_write_text(self.out / CONFIG, config_text)
        for arm in cohort.arms:
            atomic_write_text(self.out / arm_file(arm.name), arm.scenario.to_toml())
        atomic_write_text(self.out / PATIENTS, pd.DataFrame(patients).to_csv(index=False))

    def finish(self, counts: dict[str, int]) -> Path:
        """The manifest again, with the counts of runs: the last file written."""
        return mark_finished(self.out, counts, self.manifest)
