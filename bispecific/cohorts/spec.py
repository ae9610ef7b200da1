"""Cohort files: virtual patients, covariate distributions and treatment arms, validated.

```toml
[cohort]
name = "tower"
patients = 100
seed = 42
days = 28                  # optional: overrides every arm's run length

[grid]                     # optional: overrides every arm's patch (smaller is faster)
width = 64
height = 64

[[arm]]
name = "approved"
scenario = "continuous_4wk.toml"   # relative to this file

[[arm]]
name = "flat_28"
base = "continuous_4wk.toml"       # inline dosing on a base scenario
dose = [{ kind = "infusion", start_day = 0, end_day = 28, rate_ug_per_day = 28 }]

[covariates.marrow_blast_fraction]
distribution = "beta"      # lognormal (median, sigma_log), normal (mean, sd),
a = 2.0                    # beta (a, b, low, high), uniform (low, high),
                           # loguniform (low, high; both > 0), fixed (value)
b = 3.0                    # plus optional clip_low / clip_high
low = 0.05
high = 0.95

[covariates.cd19_negative_fraction]  # an event: present in some patients only
distribution = "loguniform"
low = 1e-6
high = 1e-3
present_probability = 0.15  # else the patient has `absent_value` (default 0)
```

A covariate is named after the field it sets: a `[patient]` key, a `[pharmacokinetics]` key or
a model parameter (`ModelParameters`). Patients are sampled once and shared by every arm
(virtual twins). Covariates can be drawn jointly (`[correlation]`, a Gaussian copula) or
taken from a table of real patients (`[patients] table`): `population.py`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.core.parameters import ModelParameters
from ..pharmacology.pk import PKParameters
from ..scenario import Patient, Scenario, load_scenario, scenario_from_dict
from ..scenario.doses import cut_schedule
from ..scenario.names import slug
from ..scenario.validation import (
    Failer,
    FileProblem,
    Key,
    Name,
    ScenarioError,
    check_keys,
    read_toml,
    shorten,
    suggest,
)
from .population import Correlation, parse_correlation, quantile, read_patient_table

# Every value a covariate sets has a range far inside +-1e12; bounding the parameters there
# keeps the draws finite (numpy refuses a uniform range that overflows).
BIG = 1e12
DISTRIBUTIONS: dict[str, dict[str, Key]] = {
    "lognormal": {"median": Key(float, required=True, lo=0.0, hi=BIG, lo_open=True),
                  "sigma_log": Key(float, required=True, lo=0.0, hi=10.0)},
    "normal": {"mean": Key(float, required=True, lo=-BIG, hi=BIG),
               "sd": Key(float, required=True, lo=0.0, hi=BIG)},
    "beta": {"a": Key(float, required=True, lo=1e-3, hi=1e6),
             "b": Key(float, required=True, lo=1e-3, hi=1e6),
             "low": Key(float, 0.0, -BIG, BIG), "high": Key(float, 1.0, -BIG, BIG)},
    "uniform": {"low": Key(float, required=True, lo=-BIG, hi=BIG),
                "high": Key(float, required=True, lo=-BIG, hi=BIG)},
    # Uniform in log: every decade between low and high equally likely (a size known only
    # to lie within some decades, e.g. a sub-detectable clone).
    "loguniform": {"low": Key(float, required=True, lo=0.0, hi=BIG, lo_open=True),
                   "high": Key(float, required=True, lo=0.0, hi=BIG, lo_open=True)},
    "fixed": {"value": Key(float, required=True, lo=-BIG, hi=BIG)},
}
COMMON = {"distribution": Key(str, required=True), "clip_low": Key(float, None, -BIG, BIG),
          "clip_high": Key(float, None, -BIG, BIG), "doc": Key(str, ""),
          "present_probability": Key(float, None, 0.0, 1.0),
          "absent_value": Key(float, 0.0, -BIG, BIG)}
# Independent streams of the cohort seed: covariates, run seeds, and the run seeds of
# replicates (the same patients run again with other seeds, to measure simulation noise).
COVARIATE_STREAM = 0
CORRELATION_WORD = 0x636F7075  # the copula's stream within the covariate stream ("copu")
RUN_SEED_STREAM = 1
REPLICATE_SEED_STREAM = 2

PATIENT_FIELDS = {f.name for f in fields(Patient)}
PK_FIELDS = {f.name for f in fields(PKParameters)}
PARAMETER_FIELDS = {f.name for f in fields(ModelParameters)}
COVARIATE_NAMES = PATIENT_FIELDS | PK_FIELDS | PARAMETER_FIELDS

COHORT_KEYS = {
    "name": Key(Name, required=True),
    "description": Key(str, ""),
    "patients": Key(int, None, lo=1, hi=1_000_000),  # required unless a [patients] table
    "seed": Key(int, required=True, lo=0, hi=2**63 - 1),
    "days": Key(float, None, 0.01, 3650.0),
}
ARM_KEYS = {"name": Key(Name, required=True), "scenario": Key(str, None), "base": Key(str, None),
            "dose": Key(list, None), "description": Key(str, "")}
GRID_KEYS = {"width": Key(int, None, 4, 16384), "height": Key(int, None, 4, 16384)}
SURVIVAL_KEYS = {
    "reference": Key(str, None, doc="the arm the hazard ratios are against (default: the "
                                    "last)"),
    "randomise": Key(str, None, doc="weights per arm in arm order, e.g. \"2:1\": each "
                                    "patient is kept in one arm, as a trial randomises"),
}


@dataclass(frozen=True)
class SurvivalPlan:
    """`[survival]`: after its runs, the cohort also writes its survival analysis
    (`cohorts.survival.write_survival`: events.csv, survival.csv, survival.png)."""

    reference: str | None = None
    allocation: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Covariate:
    name: str
    distribution: str
    args: dict[str, float]
    clip_low: float | None = None
    clip_high: float | None = None
    # An event rather than a trait: drawn in a share of patients only, the rest have
    # `absent_value` (e.g. a CD19-negative clone, docs/model.md s.11).
    present_probability: float | None = None
    absent_value: float = 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        a = self.args
        d = self.distribution
        if d == "lognormal":
            x = a["median"] * np.exp(a["sigma_log"] * rng.standard_normal(n))
        elif d == "normal":
            x = a["mean"] + a["sd"] * rng.standard_normal(n)
        elif d == "beta":
            x = a["low"] + (a["high"] - a["low"]) * rng.beta(a["a"], a["b"], n)
        elif d == "uniform":
            x = rng.uniform(a["low"], a["high"], n)
        elif d == "loguniform":
            x = np.exp(rng.uniform(math.log(a["low"]), math.log(a["high"]), n))
        else:
            x = np.full(n, a["value"])
        if self.clip_low is not None or self.clip_high is not None:
            x = np.clip(x, self.clip_low, self.clip_high)
        if self.present_probability is not None:
            # Drawn after the value, so the value's stream is that of the plain covariate.
            x = np.where(rng.random(n) < self.present_probability, x, self.absent_value)
        return x

    def to_dict(self) -> dict[str, Any]:
        """The covariate as a [covariates.NAME] table."""
        clips = {k: v for k, v in (("clip_low", self.clip_low), ("clip_high", self.clip_high))
                 if v is not None}
        if self.present_probability is not None:
            clips.update(present_probability=self.present_probability,
                         absent_value=self.absent_value)
        return {"distribution": self.distribution, **self.args, **clips}


@dataclass(frozen=True)
class Arm:
    name: str
    scenario: Scenario  # the arm's base scenario; patients override its covariates


@dataclass(frozen=True)
class Cohort:
    name: str
    patients: int
    seed: int
    arms: tuple[Arm, ...]
    covariates: tuple[Covariate, ...] = field(default_factory=tuple)
    description: str = ""
    source: str = field(default="<cohort>", compare=False)  # the file, for messages
    correlation: Correlation | None = None  # covariates drawn jointly (population.py)
    table: tuple[dict[str, float], ...] = ()  # real patients' covariates, a dict per patient
    survival: SurvivalPlan | None = None  # the survival analysis to write after the runs

    def with_patients(self, n: int) -> Cohort:
        if self.table and n > len(self.table):
            raise ScenarioError(f"{self.source}: {n} patients asked for, but the [patients] "
                                f"table has {len(self.table)} rows; allowed 1 to "
                                f"{len(self.table)}")
        return replace(self, patients=n)

    def patient(self, index: int) -> dict[str, float]:
        """One virtual patient's covariates. Each covariate of each patient has its own
        random stream, from the cohort seed, the patient's index and the covariate's name:
        patient i is the same whatever the number of patients, and adding a covariate
        changes no other."""
        row: dict[str, float] = {"patient": index}
        if self.table:
            row.update(self.table[index])
        joint: dict[str, float] = {}
        if self.correlation is not None:
            z = self.correlation.scores([self.seed, COVARIATE_STREAM, index,
                                         CORRELATION_WORD])
            joint = dict(zip(self.correlation.names, (float(x) for x in z), strict=True))
        for c in self.covariates:
            if c.name in joint:
                x = quantile(c.distribution, c.args, joint[c.name])
                row[c.name] = float(np.clip(x, c.clip_low, c.clip_high)) if (
                    c.clip_low is not None or c.clip_high is not None) else x
                continue
            words = [self.seed, COVARIATE_STREAM, index, _name_word(c.name)]
            row[c.name] = float(c.sample(np.random.default_rng(words), 1)[0])
        return row

    def sample_patients(self) -> list[dict[str, float]]:
        """The virtual patients 0 to patients - 1 (the first n of a larger cohort are the
        cohort of n)."""
        return [self.patient(i) for i in range(self.patients)]

    def run_seed(self, patient: int, replicate: int = 0) -> int:
        """The model seed of a patient, the same in every arm: from the cohort seed and the
        patient's index, never from a worker or the order of execution. Replicate 0 is the
        cohort's own run; replicate r > 0 runs the same patient with another seed."""
        words = ([self.seed, RUN_SEED_STREAM, patient] if replicate == 0
                 else [self.seed, REPLICATE_SEED_STREAM, patient, replicate])
        seq = np.random.SeedSequence(words)
        return int(seq.generate_state(1, dtype=np.uint64)[0] % (2**63))

    def to_dict(self, arm_files: dict[str, str]) -> dict[str, Any]:
        """The cohort as TOML-ready data, each arm's scenario in the file `arm_files` names
        (its resolved scenario: the cohort's days and grid are already applied)."""
        data = {
            "cohort": {"name": self.name, "description": self.description,
                       "patients": self.patients, "seed": self.seed},
            "arm": [{"name": a.name, "scenario": arm_files[a.name]} for a in self.arms],
            "covariates": {c.name: c.to_dict() for c in self.covariates},
        }
        if self.correlation is not None:
            data["correlation"] = self.correlation.to_dict()
        if self.table:
            data["patients"] = {"table": PATIENT_TABLE}
        if self.survival is not None:
            plan = self.survival
            data["survival"] = {k: v for k, v in (
                ("reference", plan.reference),
                ("randomise", ":".join(map(str, plan.allocation)) if plan.allocation
                 else None)) if v is not None}
        return data


def _name_word(name: str) -> int:
    """A 64-bit word from a name, the same in every process (unlike hash())."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def patient_scenario(arm: Arm, patient: dict[str, float], seed: int) -> Scenario:
    """The arm's scenario for one patient: covariates and seed applied, validated again."""
    data = arm.scenario.to_dict()
    data["scenario"]["seed"] = seed
    data["scenario"]["name"] = f"{arm.name}-p{int(patient['patient'])}"
    for name, value in patient.items():
        if name in PATIENT_FIELDS:
            data["patient"][name] = value
        elif name in PK_FIELDS:
            data["pharmacokinetics"][name] = value
        elif name in PARAMETER_FIELDS:
            data["parameters"][name] = value
    return scenario_from_dict(data, f"patient {int(patient['patient'])}, arm {arm.name}")


COHORT_TABLES = ("cohort", "arm", "covariates", "grid", "correlation", "patients",
                 "survival")
PATIENT_TABLE = "patient_table.csv"  # the [patients] table, as a cohort folder keeps it


def load_cohort(path: str | Path) -> Cohort:
    """Read and validate a cohort file; raises ScenarioError with one clear line."""
    path = Path(path)
    data = read_toml(path, "cohort")
    fail = Failer(str(path))
    for table in data:
        if table not in COHORT_TABLES:
            fail.unknown(table, set(COHORT_TABLES), "table")
    return cohort_from_dict(data, path)


def cohort_from_dict(data: dict[str, Any], path: Path) -> Cohort:
    """Validate the cohort tables of parsed TOML (other tables are the caller's, as in an
    analysis file); `path` is the file, for messages and relative scenario paths."""
    fail = Failer(str(path))
    if "cohort" not in data:
        fail("missing the [cohort] table (name, patients, seed)")
    head = check_keys(data["cohort"], COHORT_KEYS, "[cohort]", fail)
    grid = check_keys(data.get("grid", {}), GRID_KEYS, "[grid]", fail)
    arms = _arms(data.get("arm", []), path.parent, head["days"], grid, fail)
    covariates = _covariates(data.get("covariates", {}), fail)
    table = _patient_table(data.get("patients"), path.parent, covariates, fail)
    patients = head["patients"]
    if patients is None:
        if not table:
            fail(f"[cohort] missing required key 'patients' ({COHORT_KEYS['patients'].allowed()})")
        patients = len(table)
    elif table and patients > len(table):
        fail(f"[cohort] patients = {patients}: the [patients] table has {len(table)} rows; "
             f"allowed 1 to {len(table)}")
    correlation = None
    if "correlation" in data:
        drawn = {c.name: c.distribution for c in covariates}
        correlation = parse_correlation(data["correlation"], drawn, fail)
    survival = (_survival(data["survival"], arms, fail) if "survival" in data else None)
    return Cohort(head["name"], patients, head["seed"], arms, covariates,
                  head["description"], source=str(path), correlation=correlation,
                  table=table, survival=survival)


def _survival(raw: Any, arms: tuple[Arm, ...], fail: Failer) -> SurvivalPlan:
    if not isinstance(raw, dict):
        fail(f"[survival] must be a table, not {type(raw).__name__}")
    v = check_keys(raw, SURVIVAL_KEYS, "[survival]", fail)
    names = [a.name for a in arms]
    if v["reference"] is not None and v["reference"] not in names:
        fail(f"[survival] reference = {shorten(v['reference'])}: not an arm; allowed: "
             + ", ".join(f'"{n}"' for n in names))
    allocation = None
    if v["randomise"] is not None:
        parts = v["randomise"].split(":")
        allocation = tuple(int(p) for p in parts if p.isdigit())
        if (len(allocation) != len(parts) or len(allocation) != len(names)
                or min(allocation) < 1 or sum(allocation) > 100):
            fail(f"[survival] randomise = {shorten(v['randomise'])}: expected one whole "
                 f"number >= 1 per arm ({len(names)}), joined by ':' (e.g. "
                 f"{':'.join(['1'] * len(names))}), at most 100 in all")
    return SurvivalPlan(v["reference"], allocation)


def _patient_table(raw: Any, folder: Path, covariates: tuple[Covariate, ...],
                   fail: Failer) -> tuple[dict[str, float], ...]:
    if raw is None:
        return ()
    v = check_keys(raw, {"table": Key(str, required=True, doc="a CSV of patients' covariates, "
                                                              "relative to the cohort file")},
                   "[patients]", fail)
    rows = read_patient_table(folder / v["table"], COVARIATE_NAMES)
    both = sorted(set(rows[0]) & {c.name for c in covariates})
    if both:
        fail(f"[covariates.{both[0]}] is also a column of the [patients] table; give each "
             "covariate in one place")
    return rows


def _arms(raw: Any, folder: Path, days: float | None, grid: dict[str, Any],
          fail: Failer) -> tuple[Arm, ...]:
    if not isinstance(raw, list) or not raw:
        fail("needs at least one [[arm]] (name and scenario, or base and dose)")
    arms = []
    for n, table in enumerate(raw, start=1):
        where = f"[[arm]] #{n}"
        if not isinstance(table, dict):
            fail(f"{where} must be a table")
        v = check_keys(table, ARM_KEYS, where, fail)
        if (v["scenario"] is None) == (v["base"] is None):
            fail(f"{where} needs exactly one of 'scenario' (a file) or 'base' (a file, with "
                 "inline 'dose')")
        if v["base"] is None and v["dose"] is not None:
            fail(f"{where} 'dose' goes with 'base', not with 'scenario'")
        key = "scenario" if v["scenario"] is not None else "base"
        try:
            scenario = load_scenario(folder / v[key])
        except FileProblem as exc:  # the cohort names a file that cannot be used
            fail(f"{where} {key} = {shorten(v[key])}: {exc.reason} ({folder / v[key]})")
        data = scenario.to_dict()
        if v["dose"] is not None:
            data["dose"] = v["dose"]
        if days is not None:
            data["scenario"]["days"] = days
            cut_schedule(data, days)
        for key, value in grid.items():
            if value is not None:
                data["grid"][key] = value
        data["scenario"]["name"] = v["name"]
        arms.append(Arm(v["name"], scenario_from_dict(data, f"{fail.label}: {where}")))
    folders = [slug(a.name) for a in arms]  # arms name their files in the cohort folder
    for folder_name in folders:
        if folders.count(folder_name) > 1:
            fail(f"two arms are named '{folder_name}' (or alike: arm names give file names "
                 f"by letters, digits, '.', '_' and '-'); arm names must differ")
    return tuple(arms)


def _covariates(raw: Any, fail: Failer) -> tuple[Covariate, ...]:
    if not isinstance(raw, dict):
        fail("[covariates] must be a table of tables, e.g. [covariates.bsa_m2]")
    out = []
    for name, spec in raw.items():
        where = f"[covariates.{name}]"
        if name not in COVARIATE_NAMES:
            fail(f"{where} unknown covariate '{name}'{suggest(name, COVARIATE_NAMES)} "
                 "(a [patient] key, a [pharmacokinetics] key or a model parameter)")
        if not isinstance(spec, dict):
            fail(f"{where} must be a table with a 'distribution'")
        dist = spec.get("distribution")
        if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
            fail(f"{where} distribution = {shorten(dist)}: expected one of "
                 + ", ".join(sorted(DISTRIBUTIONS)))
        v = check_keys(spec, {**COMMON, **DISTRIBUTIONS[dist]}, where, fail)
        args = {k: v[k] for k in DISTRIBUTIONS[dist]}
        if dist in ("beta", "uniform", "loguniform") and args["high"] <= args["low"]:
            fail(f"{where} high = {args['high']:g}: must be above low ({args['low']:g})")
        if (v["clip_low"] is not None and v["clip_high"] is not None
                and v["clip_high"] < v["clip_low"]):
            fail(f"{where} clip_high = {v['clip_high']:g}: must be at least clip_low "
                 f"({v['clip_low']:g}); otherwise every patient gets one value")
        out.append(Covariate(name, dist, args, v["clip_low"], v["clip_high"],
                             v["present_probability"], v["absent_value"]))
    return tuple(out)
