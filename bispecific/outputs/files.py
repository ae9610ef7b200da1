"""Writing a run's outputs whole or not at all, and redrawing its figures later.

Each file is written to a temporary name in the destination folder and renamed when
complete; `summary.json` is written last, so a folder with a summary is a finished run.
A run folder describes itself: the resolved scenario, seed and version are in it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..readouts.snapshots import load_snapshots, save_snapshots
from ..scenario import Scenario, load_scenario
from ..simulation.run import RunResult
from . import figures

TIMESERIES = "timeseries.csv"
SUMMARY = "summary.json"
SCENARIO = "scenario.toml"
SNAPSHOTS = "snapshots.npz"
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


def _atomic_snapshots(taken: list, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    save_snapshots(taken, tmp)
    tmp.replace(path)


def write_run(
    result: RunResult, out_dir: str | Path, formats: Sequence[str] = ("png",)
) -> dict[str, Path]:
    """Write the run's data, figures and (last) summary.json into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = out / SUMMARY
    summary.unlink(missing_ok=True)  # an old summary must not vouch for new, partial files
    paths = {"timeseries": out / TIMESERIES, "scenario": out / SCENARIO,
             "snapshots": out / SNAPSHOTS}
    atomic_write_text(paths["timeseries"], result.timeseries.to_csv(index=False))
    atomic_write_text(paths["scenario"], result.scenario.to_toml())
    _atomic_snapshots(result.snapshots.taken, paths["snapshots"])
    paths.update(draw(result.scenario, result.timeseries, result.snapshots.taken, out,
                      formats))
    if result.frames is not None and result.frames.taken:
        paths["animation"] = figures.animate(result.frames.taken, result.scenario,
                                             out / ANIMATION)
    atomic_write_text(summary, json.dumps(result.summary, indent=2) + "\n")
    paths["summary"] = summary
    return paths


def draw(scenario: Scenario, ts: pd.DataFrame, taken: list, out: Path,
         formats: Sequence[str] = ("png",)) -> dict[str, Path]:
    """The run's figures: overview and grid snapshots."""
    paths = {"overview": figures.overview(ts, scenario, out / OVERVIEW, formats)[0]}
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
    return draw(scenario, ts, taken, out, formats)



def write_comparison(results: Sequence[RunResult], out_dir: str | Path,
                     formats: Sequence[str] = ("png",)) -> dict[str, Path]:
    """comparison.csv (one row per scenario) and comparison.png, each run in its folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for r in results:
        write_run(r, out / r.scenario.name, formats)
    table = pd.DataFrame([r.summary for r in results])
    csv = out / "comparison.csv"
    atomic_write_text(csv, table.to_csv(index=False))
    png = figures.comparison([(r.scenario, r.timeseries) for r in results],
                             out / "comparison", formats)[0]
    return {"comparison_csv": csv, "comparison_figure": png}
