"""The scenario values an analysis may vary: where each lives and the range the model runs with.

A name is a key of `[parameters]` (the model), `[cytokines]`, `[pharmacokinetics]`, `[crs]` or
`[patient]`; no name is in two tables, so a bare name is enough. Sensitivity ranges must lie
within these ranges, so that every sampled candidate is a scenario the model accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..engine.core.parameters import ModelParameters
from ..scenario.spec import SCHEMA

# The tables whose keys are numbers that change the model, not the run's bookkeeping.
TABLES = ("parameters", "cytokines", "pharmacokinetics", "crs", "patient")


@dataclass(frozen=True)
class Place:
    table: str
    lo: float  # the model's range, inclusive
    hi: float
    default: float
    source: str  # where the default comes from, when the model says


def _places() -> dict[str, Place]:
    out = {}
    for f in fields(ModelParameters):
        lo, hi = f.metadata["range"]
        out[f.name] = Place("parameters", lo, hi, f.default, f.metadata["source"])
    for table in TABLES[1:]:
        for name, key in SCHEMA[table].items():
            if key.kind is float:
                out[name] = Place(table, key.lo, key.hi, key.default, key.doc)
    return out


PLACES: dict[str, Place] = _places()


def assumed_parameters() -> list[str]:
    """The model parameters whose source is an assumption (`engine/core/parameters.py`): the
    candidates a sensitivity analysis of the model's assumptions should screen."""
    return [name for name, place in PLACES.items()
            if place.table == "parameters" and "assumption" in place.source]
