"""What the page's controls do, apart from drawing them: the step sizes, stepping, the
schedule they describe, and the scenario file they save. No Solara here."""

from __future__ import annotations

from typing import Any

from ..scenario import Scenario
from ..scenario.settings import Regimen, apply_settings
from ..simulation.scenario_model import ScenarioModel

# What one press of Step (or one frame of Play) advances, in minutes of simulated time.
STEP_SIZES = {"10 min": 10.0, "1 hour": 60.0, "6 hours": 360.0, "1 day": 1440.0}
DEFAULT_STEP = "1 hour"


def advance(model: ScenarioModel, minutes: float) -> None:
    """Step the model through `minutes` of simulated time, or to its end."""
    for _ in range(max(1, round(minutes / model.dt_minutes))):
        if not model.running:
            break
        model.step()


def schedule_text(values: dict[str, Any], changed: bool, exact: bool) -> str:
    """The dosing schedule the controls stand for, in words."""
    if exact or changed:
        regimen = Regimen(**{k: values[k] for k in Regimen.__dataclass_fields__})
        return regimen.describe(values["days"])
    return ("as in the scenario file, which is not a single step-up; moving a dosing "
            "control replaces it")


def saved_scenario(base: Scenario, changes: dict[str, Any]) -> Scenario:
    """The scenario the settings describe, named and described as changed from `base`."""
    scenario = apply_settings(base, **changes)
    if not changes:
        return scenario
    said = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                     for k, v in changes.items())
    description = f"{base.description}; in bispecific view: {said}".lstrip("; ")
    return scenario.with_changes(name=f"{base.name}_view", description=description)
