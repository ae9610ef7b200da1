"""Reading an analysis file: its own tables, and a virtual cohort in the cohort file's tables.

An analysis file is a cohort file ([cohort], [[arm]], [covariates], [grid]: the patients and
the base scenario) with the analysis's tables added. The cohort tables are validated by the
cohort code itself (`cohorts.spec.cohort_from_dict`); the rest by the analysis. Every error
is one line naming the file, the key, the value and what is allowed (`ScenarioError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ..cohorts.spec import COHORT_TABLES, Cohort, cohort_from_dict
from ..scenario.validation import Failer, FileProblem, read_toml


@dataclass(frozen=True)
class AnalysisFile:
    path: Path
    text: str  # the file as given: copied into the output folder
    data: dict[str, Any]
    cohort: Cohort
    fail: Failer


def read_analysis_file(path: str | Path, kind: str, tables: tuple[str, ...]) -> AnalysisFile:
    """Parse `path`, a `kind` file ("sensitivity", "optimise") whose own tables are `tables`
    (the first is its head table); the cohort tables are validated here too."""
    path = Path(path)
    data = read_toml(path, kind)
    fail = Failer(str(path))
    head = tables[0]
    if head not in data:
        what = next((k for k in ("cohort", "sensitivity", "optimise") if k in data), None)
        if what is not None and what != "cohort":
            article = "an" if what[0] in "aeiou" else "a"
            raise FileProblem(path, f"is {article} {what} file (it has a [{what}] table), not "
                                    f"a {kind} file; run it with 'bispecific {what} {path}'")
        fail(f"missing the [{head}] table (a {kind} file is a cohort file with a [{head}] "
             "table added)")
    allowed = set(COHORT_TABLES) | set(tables)
    for table in data:
        if table not in allowed:
            fail.unknown(table, allowed, "table")
    cohort = cohort_from_dict({k: v for k, v in data.items() if k in COHORT_TABLES}, path)
    return AnalysisFile(path, path.read_text(encoding="utf-8"), data, cohort, fail)


def library_version(name: str) -> str | None:
    """The installed version of a library an analysis uses (None when it is missing: the
    command then says which extra to install)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
