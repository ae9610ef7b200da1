"""Writing a run's outputs whole or not at all, and redrawing its figures later.

A run is written into a staging folder and swapped in whole (`folders.StagedFolder`):
nothing of a previous run is left beside it, and `summary.json` comes last, so a folder with
a summary is a finished run. A run folder describes itself: the resolved scenario, seed and
version are in it. Every file is a function of the scenario and seed alone, except
`timing.json` (wall time), which is kept apart so that the rest can be compared byte for
byte.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .. import __version__
from ..pharmacology.event_records import records_from_schedule
from ..readouts.snapshots import load_snapshots, save_snapshots
from ..scenario import Scenario, load_scenario
from ..scenario.event_table import write_event_table
from ..scenario.names import slug
from ..simulation.run import RunResult
from . import figures
from .folders import StagedFolder, check_folder
from .tables import write_parquet

TIMESERIES = "timeseries.csv"
TIMESERIES_PARQUET = "timeseries.parquet"  # with the units; only where pyarrow is installed
SUMMARY = "summary.json"
SCENARIO = "scenario.toml"
SNAPSHOTS = "snapshots.npz"
TIMING = "timing.json"
DOSING = "dosing.csv"  # the doses given, as a NONMEM-style event table (scenario.event_table)
OVERVIEW = "overview"
GRID = "snapshots"
ANIMATION = "animation"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run(
    result: RunResult, out_dir: str | Path, formats: Sequence[str] = ("png",)
) -> dict[str, Path]:
    """Write the run's data, figures and (last) summary.json into `out_dir`, replacing any
    previous run there whole. Raises `folders.FolderError` for a folder that holds other
    files."""
    out = Path(out_dir)
    check_folder(out, "run")
    with StagedFolder(out, "run") as stage:
        names = _write_run_files(result, stage, formats)
    return {key: out / name for key, name in names.items()}


def _write_run_files(result: RunResult, folder: Path, formats: Sequence[str]) -> dict[str, str]:
    """The run's files in `folder`, summary.json last; returns their names by role."""
    paths = {"timeseries": folder / TIMESERIES, "scenario": folder / SCENARIO,
             "snapshots": folder / SNAPSHOTS, "dosing": folder / DOSING}
    paths["timeseries"].write_text(result.timeseries.to_csv(index=False), encoding="utf-8")
    if write_parquet(result.timeseries, folder / TIMESERIES_PARQUET):
        paths["timeseries_parquet"] = folder / TIMESERIES_PARQUET
    paths["scenario"].write_text(result.scenario.to_toml(), encoding="utf-8")
    paths["dosing"].write_text(dosing_table(result.scenario), encoding="utf-8")
    save_snapshots(result.snapshots.taken, paths["snapshots"])
    paths.update(draw(result.scenario, result.timeseries, result.snapshots.taken, folder,
                      formats, stopped_at(result.summary)))
    if result.frames is not None and result.frames.taken:
        paths["animation"] = figures.animate(result.frames.taken, result.scenario,
                                             folder / ANIMATION)
    timing = {"wall_time_s": round(result.wall_time_s, 3),
              "resumed_from_h": result.resumed_from_h, "bispecific_version": __version__}
    paths["timing"] = folder / TIMING
    paths["timing"].write_text(json.dumps(timing, indent=2) + "\n", encoding="utf-8")
    paths["summary"] = folder / SUMMARY
    paths["summary"].write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
    return {key: path.name for key, path in paths.items()}


def dosing_table(scenario: Scenario) -> str:
    """The doses the run's patient is given, as a NONMEM-style event table (CSV text; TIME
    and II in h, AMT in ug, RATE in ug/h): per-m^2 doses at the patient's BSA, interruptions
    applied, regular repeats as II/ADDL."""
    records = records_from_schedule(scenario.schedule, scenario.days, scenario.patient.bsa_m2)
    return write_event_table(records)


def stopped_at(summary: dict) -> tuple[float, str] | None:
    """Where and why a stopping rule ended treatment, from a run's summary; None if none did
    (or the summary predates the rules)."""
    reason = summary.get("stop_reason", "none")
    return None if reason == "none" else (float(summary["treatment_end_day"]), reason)


def draw(scenario: Scenario, ts: pd.DataFrame, taken: list, out: Path,
         formats: Sequence[str] = ("png",),
         stopped: tuple[float, str] | None = None) -> dict[str, Path]:
    """The run's figures: overview and grid snapshots."""
    paths = {"overview": figures.overview(ts, scenario, out / OVERVIEW, formats,
                                          stopped)[0]}
    if taken:
        paths["grid"] = figures.snapshots(taken, scenario, out / GRID, formats)[0]
    return paths


def is_finished_run(out_dir: str | Path) -> bool:
    return (Path(out_dir) / SUMMARY).is_file()


def redraw(out_dir: str | Path, formats: Sequence[str] = ("png",)) -> dict[str, Path]:
    """Redraw the figures of a finished run folder from its files."""
    out = Path(out_dir)
    scenario = load_scenario(out / SCENARIO)
    ts = pd.read_csv(out / TIMESERIES)
    taken = load_snapshots(out / SNAPSHOTS) if (out / SNAPSHOTS).exists() else []
    summary = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
    return draw(scenario, ts, taken, out, formats, stopped_at(summary))



def write_comparison(results: Sequence[RunResult], out_dir: str | Path,
                     formats: Sequence[str] = ("png",)) -> dict[str, Path]:
    """comparison.csv (one row per scenario) and comparison.png, each run in its folder
    (named by the slug of its scenario name), replacing any previous comparison whole."""
    out = Path(out_dir)
    folders = [slug(r.scenario.name) for r in results]
    if len(set(folders)) < len(folders):
        raise ValueError("two scenarios would share the folder "
                         f"'{next(f for f in folders if folders.count(f) > 1)}'")
    check_folder(out, "comparison")
    with StagedFolder(out, "comparison") as stage:
        for r, name in zip(results, folders, strict=True):
            (stage / name).mkdir()
            _write_run_files(r, stage / name, formats)
        table = pd.DataFrame([r.summary for r in results])
        (stage / "comparison.csv").write_text(table.to_csv(index=False), encoding="utf-8")
        figure = figures.comparison([(r.scenario, r.timeseries) for r in results],
                                    stage / "comparison", formats)[0]
    return {"comparison_csv": out / "comparison.csv", "comparison_figure": out / figure.name}
