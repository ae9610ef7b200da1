"""Virtual populations beyond independent draws: correlated covariates, and real patients.

Correlated covariates (a Gaussian copula on the covariates' own marginals):

```toml
[correlation]
covariates = ["weight_kg", "bsa_m2"]
matrix = [[1.0, 0.95],
          [0.95, 1.0]]
```

Each patient draws standard normal scores z = L e (L the Cholesky factor of the matrix, e
independent standard normals from the cohort seed and the patient's index), and each listed
covariate is its distribution's quantile at Phi(z): every covariate keeps its marginal
(median, spread, clips) and the pairs get the rank correlation the matrix implies. The
matrix must be symmetric, with ones on the diagonal, and positive definite. Covariates not
listed are drawn as without a [correlation] table, from the same streams: a cohort without
one draws exactly as before.

Real patients (one row per patient, a CSV with a column per covariate):

```toml
[patients]
table = "patients.csv"     # relative to the cohort file
```

Patient i takes row i's values (an optional `patient` column is ignored; `ID` too);
[covariates] may add covariates the table does not hold. `[cohort] patients` may then be
left out (every row is a patient) or be at most the number of rows (the first rows).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special, stats

from ..scenario.validation import Failer, read_text, shorten

IGNORED_COLUMNS = ("patient", "ID")


@dataclass(frozen=True)
class Correlation:
    """The copula: the correlated covariates (in order) and their correlation matrix."""

    names: tuple[str, ...]
    matrix: tuple[tuple[float, ...], ...]

    def scores(self, words: list[int]) -> np.ndarray:
        """Correlated standard normal scores of one patient (one per name)."""
        e = np.random.default_rng(words).standard_normal(len(self.names))
        return np.linalg.cholesky(np.array(self.matrix)) @ e

    def to_dict(self) -> dict[str, Any]:
        return {"covariates": list(self.names), "matrix": [list(r) for r in self.matrix]}


def quantile(distribution: str, args: dict[str, float], z: float) -> float:
    """The value of a covariate's distribution at the standard normal score `z` (before its
    clips): the quantile at Phi(z)."""
    if distribution == "lognormal":
        return args["median"] * math.exp(args["sigma_log"] * z)
    if distribution == "normal":
        return args["mean"] + args["sd"] * z
    u = float(special.ndtr(z))
    if distribution == "beta":
        return args["low"] + (args["high"] - args["low"]) * float(
            stats.beta.ppf(u, args["a"], args["b"]))
    if distribution == "uniform":
        return args["low"] + (args["high"] - args["low"]) * u
    if distribution == "loguniform":
        return args["low"] * (args["high"] / args["low"]) ** u
    return args["value"]


def parse_correlation(raw: Any, drawn: dict[str, str], fail: Failer) -> Correlation:
    """The [correlation] table, checked: names of drawn (not fixed) covariates, each once,
    and a symmetric positive-definite matrix with a unit diagonal.

    Parameters
    ----------
    raw
        The parsed table.
    drawn
        Each [covariates] name and its distribution.
    fail
        Reports one line and raises.
    """
    if not isinstance(raw, dict):
        fail("[correlation] must be a table with 'covariates' and 'matrix'")
    for key in raw:
        if key not in ("covariates", "matrix", "doc"):
            fail.unknown(key, {"covariates", "matrix", "doc"}, "key", "[correlation] ")
    names = raw.get("covariates")
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str)
                                                                for n in names):
        fail(f"[correlation] covariates = {shorten(names)}: expected a list of two or more "
             "covariate names")
    for name in names:
        if name not in drawn:
            fail(f"[correlation] covariates: {shorten(name)} is not a [covariates] entry "
                 f"(drawn: {', '.join(sorted(drawn)) or 'none'})")
        if drawn[name] == "fixed":
            fail(f"[correlation] covariates: '{name}' is fixed; only drawn covariates can "
                 "correlate")
        if names.count(name) > 1:
            fail(f"[correlation] covariates: '{name}' appears twice")
    n = len(names)
    matrix = raw.get("matrix")
    if (not isinstance(matrix, list) or len(matrix) != n
            or not all(isinstance(r, list) and len(r) == n for r in matrix)):
        fail(f"[correlation] matrix: expected {n} rows of {n} numbers (one per covariate)")
    for i, row in enumerate(matrix):
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, int | float) or not -1 <= x <= 1:
                fail(f"[correlation] matrix[{i}][{j}] = {shorten(x)}: expected a number from "
                     "-1 to 1")
            if i == j and x != 1:
                fail(f"[correlation] matrix[{i}][{i}] = {x:g}: the diagonal must be 1")
            if x != matrix[j][i]:
                fail(f"[correlation] matrix[{i}][{j}] = {x:g} but matrix[{j}][{i}] = "
                     f"{matrix[j][i]:g}: the matrix must be symmetric")
    smallest = float(np.linalg.eigvalsh(np.array(matrix, dtype=float)).min())
    if smallest <= 1e-10:
        fail(f"[correlation] matrix: not positive definite (smallest eigenvalue {smallest:.3g});"
             " these correlations cannot hold together: weaken them")
    return Correlation(tuple(names), tuple(tuple(float(x) for x in r) for r in matrix))


def read_patient_table(path: Path, allowed: set[str]) -> tuple[dict[str, float], ...]:
    """The rows of a table of patients' covariates, checked: known covariate names, numbers.

    Parameters
    ----------
    path
        The CSV file, a header of covariate names and a row per patient.
    allowed
        The covariate names a cohort accepts.

    Returns
    -------
    tuple of dict
        One dict of covariate values per row, in file order.
    """
    text = read_text(path, "a patients' covariates .csv file",
                     "no such file (the [patients] table)", encoding="utf-8-sig")
    fail = Failer(str(path))
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        fail("empty: expected a header line of covariate names and a row per patient")
    header = [c.strip() for c in rows[0]]
    for name in header:
        if name not in allowed and name not in IGNORED_COLUMNS:
            fail.unknown(name, allowed, "column", "line 1: ")
        if header.count(name) > 1:
            fail(f"line 1: column {name} appears twice")
    out = []
    for line, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            fail(f"line {line}: {len(cells)} values for {len(header)} columns")
        row = {}
        for name, text in zip(header, cells, strict=True):
            if name in IGNORED_COLUMNS:
                continue
            try:
                x = float(text)
            except ValueError:
                x = math.nan
            if not math.isfinite(x):
                fail(f"line {line}: column {name} = {shorten(text.strip())}: expected a number")
            row[name] = x
        out.append(row)
    if not out:
        fail("no patients: expected a row per patient under the header")
    return tuple(out)
