"""Sensitivity files: which parameters vary over which ranges, the readouts, the method, the
budget; validated before anything runs.

```toml
[sensitivity]
name = "assumptions"
method = "morris"          # screening many parameters; "sobol" for the few that matter
trajectories = 4           # morris: trajectories r, r x (k + 1) candidates
levels = 4                 # morris: grid levels (even)
samples = 64               # sobol: base samples N, a power of 2; N x (k + 2) candidates
seed = 1                   # the sample (the cohort has its own seed for the patients)
readouts = ["cr_rate", "crs_grade2_rate", "median_peak_il6_pg_per_ml", "median_log10_reduction"]
replicates = 3             # seed sets run on the first `noise_samples` candidates: noise
noise_samples = 2

[parameters.kill_probability]   # any model, cytokine, PK, CRS or patient value
low = 0.5
high = 0.9
scale = "linear"           # or "log": sampled evenly in log10

[cohort] ...               # the virtual patients and one [[arm]]: the regimen analysed
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cohorts.identity import definition as cohort_definition
from ..cohorts.spec import Cohort
from ..scenario.validation import Key, Name, check_keys, shorten, suggest
from .files import library_version, read_analysis_file
from .parameters import PLACES
from .readouts import READOUTS

METHODS = ("morris", "sobol")
HEAD_KEYS: dict[str, Key] = {
    "name": Key(Name, required=True),
    "description": Key(str, ""),
    "method": Key(str, required=True, choices=METHODS),
    "trajectories": Key(int, 4, 2, 1000),
    "levels": Key(int, 4, 2, 20),
    "samples": Key(int, 64, 4, 2**16),
    "seed": Key(int, required=True, lo=0, hi=2**32 - 1),  # SALib seeds numpy's legacy RNG
    "readouts": Key(list, list(READOUTS)),
    "replicates": Key(int, 3, 1, 100),
    "noise_samples": Key(int, 2, 1, 100),
    "confidence": Key(float, 0.95, 0.5, 0.999),
    "resamples": Key(int, 1000, 10, 100_000),
}
RANGE_KEYS: dict[str, Key] = {
    "low": Key(float, required=True),
    "high": Key(float, required=True),
    "scale": Key(str, "linear", choices=("linear", "log")),
    "doc": Key(str, ""),
}
TABLES = ("sensitivity", "parameters")


@dataclass(frozen=True)
class Range:
    name: str
    table: str  # the scenario table it is set in
    low: float
    high: float
    scale: str

    def bounds(self) -> list[float]:
        """The range in the space it is sampled in."""
        if self.scale == "log":
            return [math.log10(self.low), math.log10(self.high)]
        return [self.low, self.high]

    def value(self, x: float) -> float:
        """A sampled point back in the parameter's units, never outside its range (10 **
        log10(high) may round above high)."""
        v = 10.0 ** x if self.scale == "log" else x
        return min(max(float(v), self.low), self.high)


@dataclass(frozen=True)
class SensitivitySpec:
    name: str
    description: str
    method: str
    trajectories: int
    levels: int
    samples: int
    seed: int
    readouts: tuple[str, ...]
    replicates: int
    noise_samples: int
    confidence: float
    resamples: int
    ranges: tuple[Range, ...]
    cohort: Cohort
    source: Path
    text: str  # the file as given

    def candidates_planned(self) -> int:
        k = len(self.ranges)
        return (self.trajectories * (k + 1) if self.method == "morris"
                else self.samples * (k + 2))

    def runs_planned(self) -> int:
        """Patient runs the analysis needs: every candidate, and the noise replicates."""
        noise = min(self.noise_samples, self.candidates_planned()) * (self.replicates - 1)
        return (self.candidates_planned() + noise) * self.cohort.patients

    def definition(self) -> dict[str, Any]:
        """Everything the results depend on, as the output folder records it."""
        settings = {k: getattr(self, k) for k in HEAD_KEYS if k not in ("name", "description")}
        settings["readouts"] = list(self.readouts)
        return {"name": self.name, "settings": settings,
                "parameters": {r.name: {"table": r.table, "low": r.low, "high": r.high,
                                        "scale": r.scale} for r in self.ranges},
                "patients": self.cohort.patients, "cohort": cohort_definition(self.cohort),
                # The design is drawn by SALib: another version may draw another one.
                "SALib": library_version("SALib")}


def load_sensitivity(path: str | Path) -> SensitivitySpec:
    """Read and validate a sensitivity file; raises ScenarioError with one clear line."""
    f = read_analysis_file(path, "sensitivity", TABLES)
    fail = f.fail
    head = check_keys(f.data["sensitivity"], HEAD_KEYS, "[sensitivity]", fail)
    if head["method"] == "morris" and head["levels"] % 2:
        fail(f"[sensitivity] levels = {head['levels']}: expected an even number (Morris "
             "steps are half the levels, so that every level is reached)")
    if head["method"] == "sobol" and head["samples"] & (head["samples"] - 1):
        fail(f"[sensitivity] samples = {head['samples']}: expected a power of 2 (Sobol' "
             "sequences balance only there), e.g. 64 or 128")
    readouts = head["readouts"]
    if not readouts:
        fail("[sensitivity] readouts = []: name at least one of " + ", ".join(READOUTS))
    for r in readouts:
        if not isinstance(r, str) or r not in READOUTS:
            hint = suggest(r, READOUTS) if isinstance(r, str) else ""
            fail(f"[sensitivity] readouts: unknown readout {shorten(r)}{hint} (allowed: "
                 + ", ".join(READOUTS) + ")")
    if len(set(readouts)) < len(readouts):
        fail("[sensitivity] readouts: a readout is named twice")
    if len(f.cohort.arms) != 1:
        fail(f"{len(f.cohort.arms)} [[arm]] tables: a sensitivity file has exactly one, the "
             "regimen analysed")
    ranges = _ranges(f.data.get("parameters", {}), f.cohort, fail)
    return SensitivitySpec(
        head["name"], head["description"], head["method"], head["trajectories"],
        head["levels"], head["samples"], head["seed"], tuple(readouts), head["replicates"],
        head["noise_samples"], head["confidence"], head["resamples"], ranges, f.cohort,
        f.path, f.text)


def _ranges(raw: Any, cohort: Cohort, fail: Any) -> tuple[Range, ...]:
    if not isinstance(raw, dict):
        fail("[parameters] must be a table of tables, e.g. [parameters.kill_probability]")
    covariates = {c.name for c in cohort.covariates}
    out = []
    for name, table in raw.items():
        where = f"[parameters.{name}]"
        if name not in PLACES:
            fail(f"{where} unknown parameter '{name}'{suggest(name, PLACES)} (a key of "
                 "[parameters], [cytokines], [pharmacokinetics], [crs] or [patient])")
        if name in covariates:
            fail(f"{where} is also a covariate of the cohort ([covariates.{name}]): the "
                 "covariate would set it; vary it in one place only")
        v = check_keys(table, RANGE_KEYS, where, fail)
        place = PLACES[name]
        for key in ("low", "high"):
            if not place.lo <= v[key] <= place.hi:
                fail(f"{where} {key} = {v[key]:g}: outside the model's range for {name} "
                     f"({place.lo:g} to {place.hi:g})")
        if v["high"] <= v["low"]:
            fail(f"{where} high = {v['high']:g}: must be above low ({v['low']:g})")
        if v["scale"] == "log" and v["low"] <= 0:
            fail(f"{where} low = {v['low']:g}: a log scale needs a range above 0")
        out.append(Range(name, place.table, v["low"], v["high"], v["scale"]))
    if len(out) < 2:
        fail(f"{len(out)} [parameters.NAME] tables: name at least two parameters to compare")
    return tuple(out)
