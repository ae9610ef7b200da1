"""Scenario files: a whole run described in TOML, validated before anything runs.

Tables and keys (units in the names; days count from 0 at the start of treatment):

- `[scenario]` name, days, seed (required); description
- `[patient]` marrow_blast_fraction, t_cell_fraction, cd19_negative_fraction, weight_kg,
  bsa_m2
- `[[dose]]` kind = "infusion": start_day, end_day, rate_ug_per_day or
  rate_ug_per_m2_per_day; optional max_ug_per_day, every_days, until_day
- `[[dose]]` kind = "bolus": day, dose_ug or dose_ug_per_m2; optional every_days, until_day
- `[dosing]` table: a NONMEM-style event table (CSV, a path relative to the scenario file)
  that gives the doses instead of `[[dose]]` (`event_table`); `[[interruption]]` still apply
- `[[interruption]]` start_day, end_day
- `[[chemotherapy]]` regimen, day; optional blast_log10_kill, t_cell_log10_kill,
  normal_log10_kill (a cytotoxic course, docs/model.md s.14)
- `[grid]` width, height (voxels), voxel_um
- `[simulation]` dt_minutes, record_every_minutes, parallel
- `[pharmacokinetics]` clearance_l_per_h, volume_l, reference_bsa_m2,
  bsa_exponent_on_clearance
- `[parameters]` any field of `ModelParameters`, by name
- `[premedication]` dexamethasone (true/false); before = "each_step_up" (the first dose,
  each cycle, step-up and bolus; r/r label) or "each_cycle" (first dose of each cycle)
- `[cytokines]` any field of `CytokineParameters`, by name
- `[crs]` any field of `CrsParameters`, by name (the CRS readout's thresholds)
- `[stopping]` without_response_by_day, on_relapse: a trial's rules for ending treatment
  early (docs/model.md s.13); absent, every dose is given

Everything outside `[scenario]` and `[[dose]]` has a default (`DEFAULTS` below). Any error
raises `ScenarioError` with one line naming the file, the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from ..engine.core.parameters import ModelParameters, ParameterError
from ..pharmacology.chemotherapy import ChemotherapyCourse
from ..pharmacology.dosing import DosingSchedule
from ..pharmacology.event_records import schedule_from_records
from ..pharmacology.pk import PKParameters
from ..readouts.crs import CrsParameters
from ..readouts.cytokines import CytokineParameters
from .chemotherapy import parse_chemotherapy
from .doses import cut_schedule, parse_schedule
from .event_table import read_event_table
from .validation import Failer, Key, Name, check_keys, number, read_toml

SCHEMA: dict[str, dict[str, Key]] = {
    "scenario": {
        "name": Key(Name, required=True, doc="short name; its slug names the output folder"),
        "description": Key(str, default=""),
        "days": Key(float, required=True, lo=0.01, hi=3650.0, doc="simulated days"),
        "seed": Key(int, required=True, lo=0, hi=2**63 - 1),
    },
    "patient": {
        "marrow_blast_fraction": Key(float, 0.5, 0.0, 1.0,
                                     doc="blasts as a fraction of nucleated marrow cells"),
        "t_cell_fraction": Key(float, 0.06, 0.0, 1.0,
                               doc="T cells as a fraction of nucleated marrow cells; normal "
                                   "marrow 5.8-8.7% [Cytometry2018]"),
        "cd19_negative_fraction": Key(float, 0.0, 0.0, 1.0,
                                      doc="fraction of blasts without CD19; 0 for the typical "
                                          "patient: a CD19- clone is an event in ~15% "
                                          "(cohorts, docs/model.md s.11)"),
        "weight_kg": Key(float, 70.0, 1.0, 300.0),
        "bsa_m2": Key(float, 1.88, 0.1, 3.5, doc="median adult 1.88 m^2 (pop-PK 2020)"),
    },
    "dosing": {
        "table": Key(str, None, doc="a NONMEM-style dosing table (CSV: TIME h, AMT ug, RATE "
                                    "ug/h, II h, ADDL, ...), relative to the scenario file; "
                                    "instead of [[dose]]"),
    },
    "grid": {
        "width": Key(int, 100, 4, 16384),
        "height": Key(int, 100, 4, 16384),
        "voxel_um": Key(float, 10.0, 1.0, 100.0),
    },
    "simulation": {
        "dt_minutes": Key(float, 1.0, 0.05, 10.0),
        "record_every_minutes": Key(float, 60.0, 0.05, 10080.0),
        "parallel": Key(bool, None, doc="threads for the kernel (results are identical): "
                                         "absent = chosen by patch size, free cores and "
                                         "measurement; true = threads wherever they pay; "
                                         "false = one"),
        "minimum_patch_blasts": Key(int, 200, 0, 10**7,
                                    doc="a blast-poor marrow is simulated enriched to this many "
                                        "blasts (docs/model.md s.11); 0 turns it off"),
    },
    "pharmacokinetics": {
        f.name: Key(float, f.default, *f.metadata["range"]) for f in fields(PKParameters)
    },
    "premedication": {
        "dexamethasone": Key(bool, False, doc="dexamethasone premedication"),
        "before": Key(str, "each_step_up", choices=("each_step_up", "each_cycle"),
                      doc="each_step_up: the first dose, each cycle, step-up and bolus (the "
                          "r/r label); each_cycle: the first dose of each cycle (MRD label)"),
    },
    "cytokines": {
        f.name: Key(float, f.default, *f.metadata["range"]) for f in fields(CytokineParameters)
    },
    "crs": {
        f.name: Key(float, f.default, -10.0 if f.name.startswith("theta") else 1e-6, 1e4)
        for f in fields(CrsParameters)
    },
    "stopping": {
        "without_response_by_day": Key(
            float, None, 0.0, 3650.0, lo_open=True,
            doc="treatment ends at the first assessment on or after this day unless one "
                "so far showed marrow blasts < 5% (TOWER, MT103-211: two cycles)"),
        "on_relapse": Key(bool, False, doc="after a response, treatment ends at the first "
                                           "assessment with marrow blasts >= 5% (relapse)"),
    },
}

TABLES = set(SCHEMA) | {"dose", "interruption", "parameters", "chemotherapy"}


@dataclass(frozen=True)
class Patient:
    marrow_blast_fraction: float = 0.5
    t_cell_fraction: float = 0.06
    cd19_negative_fraction: float = 0.0
    weight_kg: float = 70.0
    bsa_m2: float = 1.88


@dataclass(frozen=True)
class Grid:
    width: int = 100
    height: int = 100
    voxel_um: float = 10.0


@dataclass(frozen=True)
class Simulation:
    dt_minutes: float = 1.0
    record_every_minutes: float = 60.0
    parallel: bool | None = None  # None: automatic (bispecific.engine.core.threads)
    minimum_patch_blasts: int = 200


@dataclass(frozen=True)
class Stopping:
    """A trial's rules for ending treatment early (docs/model.md s.13), read at the
    response assessments; the run ends where treatment does."""

    without_response_by_day: float | None = None
    on_relapse: bool = False

    @property
    def active(self) -> bool:
        return self.without_response_by_day is not None or self.on_relapse


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: everything a run needs, defaults resolved."""

    name: str
    days: float
    seed: int
    description: str = ""
    patient: Patient = field(default_factory=Patient)
    schedule: DosingSchedule = field(default_factory=DosingSchedule)
    grid: Grid = field(default_factory=Grid)
    simulation: Simulation = field(default_factory=Simulation)
    pk: PKParameters = field(default_factory=PKParameters)
    parameters: ModelParameters = field(default_factory=ModelParameters)
    dexamethasone: bool = False
    premedication_before: str = "each_step_up"
    cytokines: CytokineParameters = field(default_factory=CytokineParameters)
    crs: CrsParameters = field(default_factory=CrsParameters)
    chemotherapy: tuple[ChemotherapyCourse, ...] = ()
    stopping: Stopping = field(default_factory=Stopping)

    def with_changes(self, **changes: Any) -> Scenario:
        """A copy with [scenario] fields replaced (seed, days, name), checked again.

        A shorter `days` runs the first part of the schedule (`doses.cut_schedule`): doses
        that would start after the new end are dropped, and the rest are cut at it.
        """
        data = self.to_dict()
        data["scenario"].update(changes)
        days = data["scenario"]["days"]
        if isinstance(days, int | float) and not isinstance(days, bool) and days > 0:
            cut_schedule(data, days)
            stop_day = data.get("stopping", {}).get("without_response_by_day")
            if stop_day is not None and stop_day >= days:  # the rule no longer falls in it
                del data["stopping"]["without_response_by_day"]
        return scenario_from_dict(data, "<command line>")

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as TOML-ready data (every default written out)."""
        doses: list[dict[str, Any]] = []
        for inf in self.schedule.infusions:
            doses.append({"kind": "infusion", **_not_none(inf)})
        for bol in self.schedule.boluses:
            doses.append({"kind": "bolus", **_not_none(bol)})
        data: dict[str, Any] = {
            "scenario": {"name": self.name, "description": self.description,
                         "days": self.days, "seed": self.seed},
            "patient": _not_none(self.patient),
            "grid": _not_none(self.grid),
            "simulation": _not_none(self.simulation),
            "pharmacokinetics": _not_none(self.pk),
            "parameters": self.parameters.as_dict(),
            "premedication": {"dexamethasone": self.dexamethasone,
                              "before": self.premedication_before},
            "cytokines": _not_none(self.cytokines),
            "crs": _not_none(self.crs),
            "dose": doses,
        }
        if self.schedule.interruptions:
            data["interruption"] = [_not_none(i) for i in self.schedule.interruptions]
        if self.chemotherapy:  # absent when none: a scenario without it keys as before
            data["chemotherapy"] = [_not_none(c) for c in self.chemotherapy]
        if self.stopping.active:  # likewise
            data["stopping"] = _not_none(self.stopping)
        return data

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def result_dict(self) -> dict[str, Any]:
        """`to_dict()` less the settings that cannot change a result: what keys a stored
        result or a checkpoint. `simulation.parallel` only picks the threads, and a run is
        bit-identical on any number of them (docs/model.md s.7), so a cohort or a checkpoint
        carries on whatever it is set to."""
        data = self.to_dict()
        data["simulation"].pop("parallel", None)
        return data


def _not_none(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj) if getattr(obj, f.name) is not None}


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises ScenarioError with one clear line."""
    path = Path(path)
    return scenario_from_dict(read_toml(path, "scenario"), str(path), path.parent)


def save_scenario(scenario: Scenario, path: str | Path) -> None:
    Path(path).write_text(scenario.to_toml(), encoding="utf-8")


def scenario_from_dict(data: dict[str, Any], label: str = "<scenario>",
                       folder: Path | None = None) -> Scenario:
    """Validate parsed TOML data and build a Scenario; a `[dosing] table` is read relative
    to `folder` (the scenario file's; None: the working folder)."""
    fail = Failer(label)
    for table in data:
        if table not in TABLES:
            fail.unknown(table, TABLES, "table")
    tables = {}
    for table, schema in SCHEMA.items():
        raw = data.get(table, {})
        if not isinstance(raw, dict):
            fail(f"[{table}] must be a table, not {type(raw).__name__}")
        if table == "scenario" and table not in data:
            fail("missing the [scenario] table (name, days, seed)")
        tables[table] = check_keys(raw, schema, f"[{table}]", fail)
    days = tables["scenario"]["days"]
    schedule = parse_schedule(data, days, fail)
    table = tables["dosing"]["table"]
    if table is not None:
        if schedule.infusions or schedule.boluses:
            fail(f"[dosing] table = {table!r} and [[dose]] both give doses; give them in one "
                 "of the two")
        records = read_event_table((folder or Path()) / table, days)
        schedule = dataclasses.replace(schedule_from_records(records, days),
                                       interruptions=schedule.interruptions)
    try:
        parameters = ModelParameters().with_overrides(_table(data, "parameters", fail))
    except ParameterError as exc:
        fail(f"[parameters] {exc}")
    scenario = Scenario(
        name=tables["scenario"]["name"],
        description=tables["scenario"]["description"],
        days=days,
        seed=tables["scenario"]["seed"],
        patient=Patient(**tables["patient"]),
        schedule=schedule,
        grid=Grid(**tables["grid"]),
        simulation=Simulation(**tables["simulation"]),
        pk=PKParameters(**tables["pharmacokinetics"]),
        parameters=parameters,
        dexamethasone=tables["premedication"]["dexamethasone"],
        premedication_before=tables["premedication"]["before"],
        cytokines=CytokineParameters(**tables["cytokines"]),
        crs=CrsParameters(**tables["crs"]),
        chemotherapy=parse_chemotherapy(data, days, fail),
        stopping=Stopping(**tables["stopping"]),
    )
    _check_whole(scenario, fail)
    return scenario


def _table(data: dict[str, Any], name: str, fail: Failer) -> dict[str, Any]:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        fail(f"[{name}] must be a table, not {type(raw).__name__}")
    return raw


def _check_whole(s: Scenario, fail: Failer) -> None:
    p = s.patient
    if p.marrow_blast_fraction + p.t_cell_fraction > 1.0:
        fail(f"[patient] t_cell_fraction = {number(p.t_cell_fraction)}: with "
             f"marrow_blast_fraction = {number(p.marrow_blast_fraction)} the two exceed 1; "
             "they are shares of the same marrow cells, so their sum must be at most 1")
    thresholds = s.crs.thresholds()
    if list(thresholds) != sorted(thresholds):
        fail("[crs] theta_grade1..theta_grade4 = " + ", ".join(number(t) for t in thresholds)
             + ": a higher grade needs a threshold at least as high; order them")
    stop_day = s.stopping.without_response_by_day
    if stop_day is not None and stop_day >= s.days:
        fail(f"[stopping] without_response_by_day = {number(stop_day)}: outside the run "
             f"(days = {s.days:g}); allowed: a day above 0 and below {s.days:g}")
    if s.simulation.record_every_minutes < s.simulation.dt_minutes:
        fail(f"[simulation] record_every_minutes = {number(s.simulation.record_every_minutes)}: "
             f"must be at least dt_minutes ({number(s.simulation.dt_minutes)})")
