"""Output folders: used only when they are safe to use, and replaced whole.

bispecific writes into a folder that is new, empty, or holds nothing but its own outputs of
the same kind (a run, a comparison, a cohort, a sensitivity analysis, a schedule search). Any
other folder is refused with one line (`FolderError`): a re-run must never delete a user's
files, nor leave its files among them.

A run or comparison is written into a hidden staging folder inside the destination and then
swapped in (`StagedFolder`): the old summary goes first, outputs of the previous run that
this one did not write are removed, the new files move in by rename, the summary last. So a
folder holds one whole run, and a failure before the swap (a full disk) leaves the previous
run as it was, or no folder where there was none.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

RUN_FILES = frozenset({
    "timeseries.csv", "summary.json", "scenario.toml", "snapshots.npz", "timing.json",
    "overview.png", "overview.svg", "snapshots.png", "snapshots.svg", "animation.gif",
    "checkpoint.npz", "dosing.csv", "timeseries.parquet",
})
COMPARISON_FILES = frozenset({"comparison.csv", "comparison.png", "comparison.svg"})
COHORT_FILES = frozenset({
    "cohort.json", "cohort.toml", "patients.csv", "results.csv", "arms.csv", "failures.csv",
    "cohort.png", "cohort.svg", "timing.json", "patient_table.csv", "population.png",
    "population.svg", "patients.parquet", "results.parquet", "arms.parquet",
})
COHORT_FOLDERS = frozenset({"arms", "tasks"})

# What `bispecific survival` adds to a finished cohort folder.
SURVIVAL_FILES = frozenset({"events.csv", "survival.csv", "survival.png"})
# Analyses (`bispecific.analysis`) keep their runs in tasks/ as a cohort does; their figures
# are named per readout, so they are recognised by prefix.
SENSITIVITY_FILES = frozenset({
    "sensitivity.json", "config.toml", "patients.csv", "samples.csv", "results.csv",
    "failures.csv", "indices.csv", "indices.md", "noise.csv", "timing.json",
})
OPTIMISE_FILES = frozenset({
    "optimise.json", "config.toml", "patients.csv", "trials.csv", "trials.md", "results.csv",
    "failures.csv", "pareto.png", "pareto.svg", "timing.json",
})
# Folders that gather many runs: their files, their subfolders, and figure-name prefixes.
_MANY_RUNS: dict[str, tuple[frozenset[str], frozenset[str], tuple[str, ...]]] = {
    "cohort": (COHORT_FILES | SURVIVAL_FILES, COHORT_FOLDERS, ()),
    "sensitivity": (SENSITIVITY_FILES, COHORT_FOLDERS, ("sensitivity_",)),
    "optimise": (OPTIMISE_FILES, COHORT_FOLDERS | {"best"}, ()),
}
KINDS = ("run", "cohort", "comparison", "sensitivity", "optimise")
# Written last, removed first: a folder with one of these holds a finished run.
FINISHING_FILES = ("summary.json", "comparison.csv")
STAGING_PREFIX = ".staging-"
LOCK = ".bispecific.lock"  # held by the command writing the folder (`lock.FolderLock`)


class FolderError(ValueError):
    """An output folder that bispecific will not write into; the message is one line."""


def is_temporary(name: str) -> bool:
    """A file or folder bispecific writes on the way to an output (removed or renamed),
    or the lock of the command writing the folder."""
    return name.startswith(".") and (".tmp" in name or name.startswith(STAGING_PREFIX)
                                      or name == LOCK)


def _is_run(path: Path) -> bool:
    return path.is_dir() and all(
        (e.is_file() and e.name in RUN_FILES) or is_temporary(e.name) for e in path.iterdir())


def _belongs(entry: Path, kind: str) -> bool:
    if is_temporary(entry.name):
        return True
    if kind == "run":
        return entry.is_file() and entry.name in RUN_FILES
    if kind == "comparison":
        return (entry.is_file() and entry.name in COMPARISON_FILES) or _is_run(entry)
    names, folders, prefixes = _MANY_RUNS[kind]
    if entry.is_dir():
        return entry.name in folders
    return entry.name in names or (entry.suffix in (".png", ".svg")
                                   and entry.name.startswith(prefixes))


def folder_kind(path: Path) -> str:
    """'missing', 'empty', one of `KINDS`, or 'other' (anything else)."""
    if not path.exists():
        return "missing"
    if not path.is_dir():
        return "other"
    entries = [e for e in path.iterdir() if not is_temporary(e.name)]
    if not entries:
        return "empty"
    for kind in KINDS:
        if all(_belongs(e, kind) for e in entries):
            return kind
    return "other"


def check_folder(path: Path, kind: str) -> None:
    """Refuse `path` unless it is new, empty or a `kind` folder, and unless it can be
    written, before any work is done; nothing is created."""
    try:
        found = folder_kind(path)
    except OSError as exc:  # a folder we may not list
        raise FolderError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if found == "other" and path.exists() and not path.is_dir():
        raise FolderError(f"{path}: cannot write there: it is a file, not a folder")
    if found == "other":
        foreign = sorted(e.name for e in path.iterdir() if not _belongs(e, kind))
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise FolderError(f"{path}: holds files that are not bispecific {kind} outputs "
                          f"({shown}); choose a new or empty folder")
    # A folder that fits `kind` is accepted even when it fits an earlier kind as well (a
    # folder holding only tasks/ may be a cohort's or an analysis's).
    fits = found in ("missing", "empty", kind) or all(_belongs(e, kind) for e in path.iterdir())
    if not fits:
        raise FolderError(f"{path}: is {_a(found)} folder, not {_a(kind)} folder; choose "
                          "another folder")
    check_writable(path)


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def check_writable(path: Path) -> None:
    """Prove that files can be written in `path`, or in the folder that would hold it, by
    writing one there for a moment; creates nothing (an interrupted run leaves no folder)."""
    existing = Path(path)
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise FolderError(f"{path}: cannot write there: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise FolderError(f"{path}: cannot write there ({exc.strerror or exc})") from None


class StagedFolder:
    """`with StagedFolder(out, kind) as stage:` write the outputs into `stage`; on a clean
    exit they replace the previous `kind` outputs in `out` (see the module docstring)."""

    def __init__(self, out: Path, kind: str) -> None:
        self.out = Path(out)
        self.kind = kind
        self.stage: Path | None = None
        self._made: list[Path] = []  # folders this write created, deepest first

    def __enter__(self) -> Path:
        missing = [self.out, *self.out.parents]
        self._made = [p for p in missing[:next(i for i, p in enumerate(missing) if p.exists())]]
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self.stage = Path(tempfile.mkdtemp(dir=self.out, prefix=STAGING_PREFIX))
        except BaseException:
            self._remove_made()
            raise
        return self.stage

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self.stage is not None
        try:
            if exc_type is None:
                self._swap_in(self.stage)
        finally:
            shutil.rmtree(self.stage, ignore_errors=True)
            if exc_type is not None:  # a failed write leaves no folder it made
                self._remove_made()

    def _remove_made(self) -> None:
        for folder in self._made:
            try:
                folder.rmdir()  # only when empty: never anything but what this write made
            except OSError:
                break

    def _swap_in(self, stage: Path) -> None:
        new = {e.name for e in stage.iterdir()}
        trash = stage / ".previous"  # removed with the stage
        trash.mkdir()
        for name in FINISHING_FILES:  # no old summary may vouch for a mix
            (self.out / name).unlink(missing_ok=True)
        for entry in self.out.iterdir():
            # Everything of the previous run goes, and the leftovers of a write that was
            # killed (temporary files, staging folders); files that are not outputs stay.
            # (By name: from Python 3.12 mkdtemp gives an absolute path under a relative
            # `out`, so the stage and its own entry here differ as paths.)
            if entry.name != stage.name and entry.name != LOCK and (
                    entry.name in new or _belongs(entry, self.kind)):
                os.replace(entry, trash / entry.name)
        order = sorted(new - set(FINISHING_FILES)) + [n for n in FINISHING_FILES if n in new]
        for name in order:
            os.replace(stage / name, self.out / name)
