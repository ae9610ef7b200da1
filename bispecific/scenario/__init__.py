"""Scenarios: a whole run described in a TOML file, validated before anything runs.

Owns the file schema (tables, keys, types, ranges, defaults), the parsing of dosing tables,
and the validated `Scenario`, which gathers the parameter groups that the lower layers define
(model, PK, cytokines) and can be written back out as TOML. Every error is one line naming
the file, the key, the value and what is allowed. Names become folder names only through
their slug (`names`).

May import: `bispecific.units`, `engine`, `pharmacology`, `readouts`.
"""

from .spec import (
           Grid,
           Patient,
           Scenario,
           Simulation,
           load_scenario,
           save_scenario,
           scenario_from_dict,
)
from .validation import ScenarioError

__all__ = ["Grid", "Patient", "Scenario", "ScenarioError", "Simulation", "load_scenario",
           "save_scenario", "scenario_from_dict"]
