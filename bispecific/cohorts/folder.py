"""A cohort's output folder: what it holds, and which cohort may write into it.

The folder describes itself:
- `cohort.json`: the cohort's definition (`identity.definition`), the version, and once
  finished the counts of runs; written first, so a folder with any result names its cohort.
  Its status is "unfinished" until the run ends ("finished", with the counts), or "stopped"
  (with why) when a run ends early and the disk still takes a write: it never says a run is
  going on when none is (a killed run cannot say so; `lock` says who is running);
- `cohort.toml` and `arms/ARM.toml`: the cohort as run, every arm's resolved scenario
  (`bispecific cohort OUT/cohort.toml` runs it again);
- `patients.csv`, and `tasks/`: one file per finished patient x arm, named by its key.

A folder made from another definition is refused in one line that says what differs; with
`fresh` it is emptied first. The same definition with a different number of patients
extends or trims the cohort: the patients that both share are the same (`Cohort.patient`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import tomli_w

from .. import __version__
from ..outputs.files import atomic_write_text
from ..outputs.folders import LOCK, SURVIVAL_FILES, FolderError, check_folder, folder_kind
from ..outputs.lock import FolderLock
from ..scenario.names import slug
from .identity import definition, first_difference
from .spec import PATIENT_TABLE, Cohort

T = TypeVar("T")
MANIFEST = "cohort.json"
UNFINISHED = "unfinished"
TASKS = "tasks"
ARMS = "arms"
# Written by `bispecific survival` from results.csv: stale once the cohort runs again.
SURVIVAL_TABLES = tuple(sorted(SURVIVAL_FILES))
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
    """Remove everything in `out` (a folder `check_recorded_folder` accepted as its kind) but
    the lock of the command doing it."""
    for entry in out.iterdir():
        if entry.name == LOCK:
            continue
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
            "arms": [a.name for a in cohort.arms], "status": UNFINISHED,
            "bispecific_version": __version__, "definition": definition(cohort)}
    atomic_write_text(out / MANIFEST, json.dumps(info, indent=1) + "\n")
    for name in (*TABLES, *SURVIVAL_TABLES):
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


def mark_stopped(out: Path, why: str, manifest: str = MANIFEST) -> None:
    """The manifest again, saying the run stopped and why; a manifest that cannot be read or
    written (a full disk) is left as it is: "unfinished" is true as well."""
    path = out / manifest
    with contextlib.suppress(OSError, ValueError):
        info = json.loads(path.read_text(encoding="utf-8"))
        if info.get("status") == UNFINISHED:
            info.update(status="stopped", stopped_because=why)
            atomic_write_text(path, json.dumps(info, indent=1) + "\n")


@contextlib.contextmanager
def stopped_on_failure(out: Path, manifest: str = MANIFEST) -> Iterator[None]:
    """Run the block; if it ends early (an error, Ctrl-C, a kill the command turns into
    one), record in the manifest that the run stopped and why, then let the error go on."""
    try:
        yield
    except BaseException as exc:
        why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        mark_stopped(out, why.replace("\n", " "), manifest)
        raise


def locked_run(out: Path, manifest: str, engine: Any, prepare: Callable[[], None],
               work: Callable[[], None], write: Callable[[], T]) -> T:
    """What every folder of many runs does (a cohort, an analysis), in order: hold the
    folder's lock (`outputs.lock`) throughout; connect the engine, then `prepare` the
    folder and do the `work`; then `write` the tables. If the work or the writing ends
    early, the manifest says so (`stopped_on_failure`). Returns what `write` returns."""
    with FolderLock(out):  # one command at a time in a folder
        with engine:  # connected before anything is written
            prepare()
            with stopped_on_failure(out, manifest):
                work()
        with stopped_on_failure(out, manifest):
            return write()
