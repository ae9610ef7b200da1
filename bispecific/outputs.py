"""Writing a run's outputs whole or not at all.

Each file is written to a temporary name in the destination folder and renamed when
complete; `summary.json` is written last, so a folder with a summary is a finished run.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .run import RunResult

TIMESERIES = "timeseries.csv"
SUMMARY = "summary.json"
SCENARIO = "scenario.toml"


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run(result: RunResult, out_dir: str | Path) -> dict[str, Path]:
    """Write timeseries.csv, scenario.toml and (last) summary.json into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stale = out / SUMMARY
    stale.unlink(missing_ok=True)  # an old summary must not vouch for new, partial files
    paths = {"timeseries": out / TIMESERIES, "scenario": out / SCENARIO, "summary": stale}
    atomic_write_text(paths["timeseries"], result.timeseries.to_csv(index=False))
    atomic_write_text(paths["scenario"], result.scenario.to_toml())
    atomic_write_text(paths["summary"], json.dumps(result.summary, indent=2) + "\n")
    return paths


def read_summary(out_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / SUMMARY).read_text(encoding="utf-8"))
