"""bispecific: agent-based simulation of bispecific T-cell-engager (blinatumomab) therapy.

The package is layered; data flows one way, and a layer imports only those before it:

    units -> engine, pharmacology -> readouts -> scenario -> simulation -> outputs
          -> cohorts -> viz -> cli

The names most users need are available here: `BispecificModel` and its agent classes
`Blast`, `TCell`, `NormalCell` and `Molecule` (a Mesa model), `ModelParameters`,
`ScenarioModel` (a scenario as a Mesa model), `Scenario`, `ScenarioError`, `load_scenario`
and `run_scenario`. They are imported on first use, so `import bispecific` stays light.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("bispecific")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

_PUBLIC = {
    "BispecificModel": "bispecific.engine.facade.model",
    "Blast": "bispecific.engine.facade.agents",
    "TCell": "bispecific.engine.facade.agents",
    "NormalCell": "bispecific.engine.facade.agents",
    "Molecule": "bispecific.engine.facade.agents",
    "ModelParameters": "bispecific.engine.core.parameters",
    "Scenario": "bispecific.scenario",
    "ScenarioError": "bispecific.scenario",
    "load_scenario": "bispecific.scenario",
    "run_scenario": "bispecific.simulation.run",
    "ScenarioModel": "bispecific.simulation.scenario_model",
    "batch_run": "bispecific.engine.facade.mesa_compat",
    "load_run": "bispecific.outputs.load",
    "load_cohort_run": "bispecific.cohorts.load",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'bispecific' has no attribute {name!r}")
