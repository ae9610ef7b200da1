"""Hypothesis strategies for scenario and cohort documents, good and bad.

A document starts valid and cheap to run (a patch of at most 10x10 voxels, minutes of
simulated time), with values drawn from each key's own range in the schema, so the strategies
follow the schema as it changes. Then it is damaged: a value of the wrong type, out of range
or not finite; a missing or unknown key or table; an odd string; doses that overlap or fall
outside the run. Values the schema accepts but that make a run costly (a huge patch, years
of simulated time) are kept out of the valid draws; `too_costly` recognises them after a
damage happens to produce one.
"""

from __future__ import annotations

import copy
import math
from dataclasses import fields
from typing import Any

from hypothesis import strategies as st

from bispecific import units
from bispecific.engine.core.parameters import ModelParameters
from bispecific.scenario import Scenario
from bispecific.scenario.spec import SCHEMA
from bispecific.scenario.validation import Key, Name
from bispecific.simulation.run import plasma_curve

# Sub-ranges of valid values that keep a run cheap: (table, key) -> (lo, hi). Keys absent
# from the schema are ignored, so renames elsewhere do not break the strategies.
CHEAP = {
    ("scenario", "days"): (0.01, 0.03),
    ("grid", "width"): (4, 10),
    ("grid", "height"): (4, 10),
    ("grid", "voxel_um"): (5.0, 20.0),
    ("simulation", "dt_minutes"): (0.5, 10.0),
    ("simulation", "record_every_minutes"): (10.0, 120.0),
    ("pharmacokinetics", "clearance_l_per_h"): (0.5, 10.0),
    ("pharmacokinetics", "volume_l"): (1.0, 20.0),
    ("pharmacokinetics", "bsa_exponent_on_clearance"): (0.0, 1.0),
    ("pharmacokinetics", "reference_bsa_m2"): (1.0, 2.5),
    ("parameters", "tissue_plasma_partition"): (0.0, 1.0),
    ("parameters", "molecular_weight_da"): (1e4, 1e6),
}
MAX_VOXELS = 400
MAX_STEPS = 2_000
MAX_MOLECULES = 300_000

ODD_STRINGS = ["", " ", "x", "../../x", "/etc/passwd", "a\x00b", "two\nlines", "\t", "é",
               "日本", "x" * 300, "nan", "1e3", "[]", "\\", "CON", ".", ".."]
JUNK = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, -1, 0, -0.0, 1e308, -1e308, 2**63,
                     -(2**63), 5e-324, True, False]),
    st.sampled_from([[], {}, [1, "a"], {"a": 1}, [{}], [[]]]),  # where a value is expected
    st.sampled_from(ODD_STRINGS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=12),
).map(copy.deepcopy)  # a fresh list or table each time: a shared one could contain itself


def _range(table: str, key: str, spec: Key) -> tuple[float, float]:
    return CHEAP.get((table, key), (spec.lo, spec.hi))


def valid_value(table: str, key: str, spec: Key) -> st.SearchStrategy:
    if spec.kind is Name:
        return st.text(alphabet=st.characters(categories=("L", "N", "Pd", "Zs")),
                       min_size=1, max_size=20).filter(lambda s: any(c.isalnum() for c in s))
    if spec.kind is str:
        return st.text(max_size=20).filter(lambda s: "\x00" not in s)
    if spec.kind is bool:
        return st.booleans()
    lo, hi = _range(table, key, spec)
    lo = lo if math.isfinite(lo) else -1e9
    hi = hi if math.isfinite(hi) else 1e9
    if spec.kind is int:
        return st.integers(int(math.ceil(lo)), int(math.floor(hi)))
    return st.floats(lo, hi, exclude_min=spec.lo_open and lo == spec.lo)


def invalid_value(spec: Key) -> st.SearchStrategy:
    """A value the key refuses: the wrong type, not finite, or out of its range."""
    if spec.kind in (str, Name):
        options = [st.integers(), st.floats(), st.booleans(), st.just([]),
                   st.just("a\x00b"), st.just("x" * 20_000)]
        if spec.kind is Name:
            options += [st.just(""), st.just("../.."), st.just("two\nlines")]
        return st.one_of(*options)
    if spec.kind is bool:
        return st.one_of(st.integers(0, 1), st.just("true"), st.floats())
    options = [st.sampled_from([math.nan, math.inf, -math.inf, "1", [], True]).map(copy.deepcopy)]
    if math.isfinite(spec.lo):
        options.append(st.floats(max_value=float(spec.lo), exclude_max=not spec.lo_open,
                                 allow_nan=False))
    if math.isfinite(spec.hi):
        options.append(st.floats(min_value=float(spec.hi), exclude_min=True, allow_nan=False))
        if spec.kind is int:
            options.append(st.integers(min_value=int(spec.hi) + 1))
    if spec.kind is int:
        options.append(st.floats(-100, 100).filter(lambda x: x != int(x)))
    return st.one_of(*options)


PARAMETER_KEYS = {f.name: Key(float, f.default, *f.metadata["range"])
                  for f in fields(ModelParameters)}


def _table_keys(table: str) -> dict[str, Key]:
    return PARAMETER_KEYS if table == "parameters" else SCHEMA[table]


@st.composite
def doses(draw: Any, days: float) -> list[dict[str, Any]]:
    """Infusions and boluses, mostly inside the run; some overlap or fall outside it."""
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.floats(0.0, days * 1.3))
        amount = draw(st.floats(0.0, 100.0))
        if draw(st.booleans()):
            entry = {"kind": "infusion", "start_day": start,
                     "end_day": draw(st.floats(start, days * 1.3)),
                     draw(st.sampled_from(["rate_ug_per_day", "rate_ug_per_m2_per_day"])):
                         amount}
        else:
            entry = {"kind": "bolus", "day": start,
                     draw(st.sampled_from(["dose_ug", "dose_ug_per_m2"])): amount}
        if draw(st.integers(0, 4)) == 0:
            entry["every_days"] = draw(st.floats(0.005, days))
            entry["until_day"] = draw(st.floats(0.0, days * 1.3))
        entries.append(entry)
    return entries


@st.composite
def valid_scenarios(draw: Any) -> dict[str, Any]:
    """A document that should validate (a few may not: doses drawn past the end)."""
    doc: dict[str, Any] = {}
    for table in ("scenario", "patient", "grid", "simulation", "pharmacokinetics",
                  "premedication", "cytokines", "parameters"):
        keys = _table_keys(table)
        chosen = [k for k, spec in keys.items() if spec.required] + draw(
            st.lists(st.sampled_from(sorted(keys)), max_size=4, unique=True))
        if table == "grid":  # never the default 100x100 patch: too large to fuzz
            chosen += ["width", "height"]
        doc[table] = {k: draw(valid_value(table, k, keys[k])) for k in dict.fromkeys(chosen)}
    if draw(st.integers(0, 3)) == 0:
        _crowd(draw, doc)
    doc["dose"] = draw(doses(doc["scenario"]["days"]))
    if draw(st.booleans()):
        days = doc["scenario"]["days"]
        start = draw(st.floats(0.0, days))
        doc["interruption"] = [{"start_day": start, "end_day": draw(st.floats(start, days))}]
    return doc


def _crowd(draw: Any, doc: dict[str, Any]) -> None:
    """A tiny patch whose blast and T-cell shares sum to within a few percent of the whole
    marrow: where the sum check (at most 1) and the rounding of cell counts meet."""
    doc["grid"].update(width=draw(st.integers(4, 6)), height=draw(st.integers(4, 6)))
    doc["parameters"]["marrow_cellularity"] = draw(st.floats(0.3, 1.0))
    fraction = draw(st.floats(0.2, 1.0))
    doc["patient"].update(marrow_blast_fraction=fraction, t_cell_fraction=min(1.0, max(
        0.0, (1.0 - fraction) * draw(st.floats(0.9, 1.1)))))


@st.composite
def damaged(draw: Any, doc: dict[str, Any], tables: dict[str, dict[str, Key]]) -> dict:
    """`doc` with 0 to 3 kinds of damage; `tables` gives each table's keys, for values
    that a key refuses."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(0, 3))):
        if not doc:
            break
        # Arrays of tables ([[dose]], [[arm]]) hold the most rules: damaged more often.
        lists = [t for t in sorted(doc) if isinstance(doc[t], list)]
        table = draw(st.sampled_from(sorted(doc) + lists * 2))
        kind = draw(st.sampled_from(["bad value", "junk value", "drop key", "unknown key",
                                     "drop table", "not a table", "unknown table"]))
        body = doc[table]
        if kind == "drop table":
            del doc[table]
        elif kind == "not a table":
            doc[table] = draw(JUNK)
        elif kind == "unknown table":
            doc[draw(st.sampled_from(["gird", "extra", "dose2", "", "a b"]))] = {"x": 1}
        elif isinstance(body, list) and body and isinstance(body[0], dict):
            entry = body[draw(st.integers(0, len(body) - 1))]
            # The key that decides how the rest is read ("kind") is hit often.
            keys = sorted(entry) + ["unknown_day"] + ["kind"] * 3 * ("kind" in entry)
            entry[draw(st.sampled_from(keys))] = draw(JUNK)
        elif not isinstance(body, dict):
            continue
        elif kind == "drop key" and body:
            del body[draw(st.sampled_from(sorted(body)))]
        elif kind == "unknown key":
            body[draw(st.sampled_from(["colour", "days ", "seeds", "Name"]))] = draw(JUNK)
        elif kind == "bad value" and table in tables:
            key = draw(st.sampled_from(sorted(tables[table])))
            body[key] = draw(invalid_value(tables[table][key]))
        elif body:
            body[draw(st.sampled_from(sorted(body)))] = draw(JUNK)
    return doc


SCENARIO_TABLES = {**SCHEMA, "parameters": PARAMETER_KEYS}


def scenario_documents() -> st.SearchStrategy:
    return valid_scenarios().flatmap(lambda doc: damaged(doc, SCENARIO_TABLES))


def too_costly(s: Scenario) -> str | None:
    """Why a valid scenario is too large to run in a fuzz case, or None."""
    voxels = s.grid.width * s.grid.height
    steps = s.days * units.MINUTES_PER_DAY / s.simulation.dt_minutes
    if voxels > MAX_VOXELS:
        return "patch too large"
    if steps > MAX_STEPS or s.days * 24 * 60 / s.simulation.record_every_minutes > MAX_STEPS:
        return "too many steps"
    curve = plasma_curve(s)
    hours = [h / 10 for h in range(int(s.days * 240) + 1)]
    peak = max([curve(h) for h in hours] + [curve(e) for e in _dose_hours(s)])
    partition = getattr(s.parameters, "tissue_plasma_partition", 1.0)
    weight = getattr(s.parameters, "molecular_weight_da", units.BLINATUMOMAB_MW_G_PER_MOL)
    molecules = (units.pg_per_ml_to_molecules_per_um3(peak, weight) * partition * voxels
                 * s.grid.voxel_um ** 3)
    return "too much drug for a fuzz case" if molecules > MAX_MOLECULES else None


def _dose_hours(s: Scenario) -> list[float]:
    _, boluses = s.schedule.expand(s.days, s.patient.bsa_m2)
    return [b.time_h for b in boluses]


@st.composite
def covariates(draw: Any) -> dict[str, Any]:
    from bispecific.cohorts.spec import COMMON, COVARIATE_NAMES, DISTRIBUTIONS

    out: dict[str, Any] = {}
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(COVARIATE_NAMES) + ["clearence"]))
        dist = draw(st.sampled_from(sorted(DISTRIBUTIONS)))
        spec: dict[str, Any] = {"distribution": dist}
        out[name] = spec
        if draw(st.integers(0, 3)) == 0:  # the key that decides how the rest is read
            containers = st.sampled_from([[], {}, ["beta"]]).map(copy.deepcopy)
            spec["distribution"] = draw(st.one_of(JUNK, containers))
            continue
        for key, rule in DISTRIBUTIONS[dist].items():
            if rule.required or draw(st.booleans()):
                spec[key] = draw(st.floats(-10.0, 10.0) if draw(st.booleans())
                                 else valid_value("covariate", key, rule))
        for clip in ("clip_low", "clip_high"):
            if draw(st.integers(0, 3)) == 0:
                spec[clip] = draw(valid_value("covariate", clip, COMMON[clip]))
        out[name] = spec
    return out


@st.composite
def valid_cohorts(draw: Any, files: dict[str, str]) -> dict[str, Any]:
    """A cohort document; `files` maps a role to a path an arm may name (a good scenario,
    a broken one, a cohort, a folder, a file that is not there)."""
    from bispecific.cohorts.spec import COHORT_KEYS

    head = {k: draw(valid_value("cohort", k, COHORT_KEYS[k]))
            for k in ("name", "seed")}
    head["patients"] = draw(st.integers(1, 3))
    days = draw(st.floats(0.01, 0.03))
    if draw(st.integers(0, 4)):
        head["days"] = days
    doc: dict[str, Any] = {"cohort": head}
    if draw(st.integers(0, 4)):
        doc["grid"] = {"width": draw(st.integers(4, 10)), "height": draw(st.integers(4, 10))}
    arms = []
    for n in range(draw(st.integers(1, 3))):
        # Mostly the good scenario: a bad file ends the document at once.
        role = draw(st.sampled_from(sorted(files))) if draw(st.integers(0, 5)) == 0 else "good"
        # Sometimes two arms share a name, or names that give the same file name.
        name = f"arm{n}" if draw(st.integers(0, 3)) else draw(st.sampled_from(["a", "a b",
                                                                                "a-b"]))
        arm: dict[str, Any] = {"name": name}
        if draw(st.booleans()):
            arm["scenario"] = files[role]
        else:
            arm["base"] = files[role]
            arm["dose"] = draw(doses(days))
        arms.append(arm)
    doc["arm"] = arms
    doc["covariates"] = draw(covariates())
    return doc


def cohort_documents(files: dict[str, str]) -> st.SearchStrategy:
    from bispecific.cohorts.spec import COHORT_KEYS, GRID_KEYS

    tables = {"cohort": COHORT_KEYS, "grid": GRID_KEYS}
    return valid_cohorts(files).flatmap(lambda doc: damaged(doc, tables))
