"""A finished cohort folder as pandas DataFrames with their units: `load_cohort_run(path)`.

    import bispecific
    cohort = bispecific.load_cohort_run("runs/cohort_tower")
    cohort.results          # one row per patient x arm, with the run summary
    cohort.patients         # the covariates
    cohort.arms.attrs["units"]

Reads the Parquet copies where the cohort wrote them (pyarrow installed), else the CSVs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..outputs.load import read_table
from .folder import MANIFEST


@dataclass(frozen=True)
class CohortData:
    """A cohort folder's tables (each with `attrs["units"]`) and its definition."""

    path: Path
    patients: pd.DataFrame
    results: pd.DataFrame
    arms: pd.DataFrame
    failures: pd.DataFrame
    info: dict[str, Any]  # cohort.json: the definition, the version and the counts of runs


def load_cohort_run(path: str | Path) -> CohortData:
    """Load a finished cohort folder (`bispecific cohort`'s output).

    Parameters
    ----------
    path
        The cohort folder (it holds cohort.json and results.csv).

    Returns
    -------
    CohortData
        Patients, results, arms and failures with their units, and cohort.json.

    Raises
    ------
    FileNotFoundError
        If the folder holds no finished cohort.
    """
    folder = Path(path)
    if not (folder / MANIFEST).is_file() or not (folder / "results.csv").is_file():
        raise FileNotFoundError(f"{folder}: not a finished cohort folder (no {MANIFEST} and "
                                "results.csv)")
    tables = {name: read_table(folder / f"{name}.csv", folder / f"{name}.parquet")
              for name in ("patients", "results", "arms")}
    return CohortData(folder, tables["patients"], tables["results"], tables["arms"],
                      read_table(folder / "failures.csv"),
                      json.loads((folder / MANIFEST).read_text(encoding="utf-8")))
