"""A finished run folder as pandas DataFrames with their units: `load_run(path)`.

    import bispecific
    run = bispecific.load_run("runs/continuous_4wk")
    run.timeseries["drug_plasma_pg_per_ml"]      # one row per record
    run.timeseries.attrs["units"]["time_h"]      # 'h'
    run.dosing                                   # the doses given (NONMEM-style)

Reads `timeseries.parquet` where the run wrote one (pyarrow installed), else the CSV; the
units are the same either way (`tables.column_unit`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..scenario import Scenario, load_scenario
from .files import DOSING, SCENARIO, SUMMARY, TIMESERIES, TIMESERIES_PARQUET
from .tables import UNITS_KEY, parquet_available, units_of


@dataclass(frozen=True)
class RunData:
    """A run folder's tables (each with `attrs["units"]`), its summary and its scenario."""

    path: Path
    timeseries: pd.DataFrame
    summary: dict[str, Any]
    dosing: pd.DataFrame
    scenario: Scenario
    units: dict[str, str] = field(default_factory=dict)  # of the timeseries columns


def read_table(csv_path: Path, parquet_path: Path | None = None) -> pd.DataFrame:
    """A table with `attrs["units"]`: from Parquet where it exists and pyarrow is installed,
    else from the CSV."""
    if parquet_path is not None and parquet_path.is_file() and parquet_available():
        import pyarrow.parquet as pq

        table = pq.read_table(parquet_path)
        frame = table.to_pandas()
        stored = (table.schema.metadata or {}).get(UNITS_KEY.encode())
        frame.attrs["units"] = json.loads(stored) if stored else units_of(frame)
        return frame
    frame = pd.read_csv(csv_path)
    frame.attrs["units"] = units_of(frame)
    return frame


def load_run(path: str | Path) -> RunData:
    """Load a finished run folder (`bispecific run`'s output).

    Parameters
    ----------
    path
        The run folder (it holds summary.json).

    Returns
    -------
    RunData
        The time series and dosing tables with their units, the summary and the scenario.

    Raises
    ------
    FileNotFoundError
        If the folder holds no finished run.
    """
    folder = Path(path)
    if not (folder / SUMMARY).is_file():
        raise FileNotFoundError(f"{folder}: not a finished run folder (no {SUMMARY})")
    timeseries = read_table(folder / TIMESERIES, folder / TIMESERIES_PARQUET)
    dosing = read_table(folder / DOSING) if (folder / DOSING).is_file() else pd.DataFrame()
    summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    return RunData(folder, timeseries, summary, dosing, load_scenario(folder / SCENARIO),
                   dict(timeseries.attrs["units"]))
