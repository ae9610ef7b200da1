"""Simulation: one scenario run end to end.

Assembles the layers below in the order data flows: the scenario's dosing schedule becomes
a plasma curve (pharmacology), which drives the Mesa model (engine), observed by the
readouts; the result is a time series and a summary with its provenance. A run can save
checkpoints of its whole state and continue from one to the same result (`checkpoint`).

May import: `units`, `engine`, `pharmacology`, `readouts`, `scenario`.
"""

from .scenario_model import EarlyStopWarning, ScenarioModel

__all__ = ["EarlyStopWarning", "ScenarioModel"]
