"""A trial's rules for ending treatment early, as a step observer (docs/model.md s.13).

Trials stop blinatumomab for a patient with no response after two cycles (TOWER,
MT103-211) and at relapse; responders go on to consolidation. The rules are read at the
response assessments (`readouts.response.AssessmentRecorder`), from the same point estimate
that dates a response in the outcomes: marrow blasts below 5% at an assessment. When a rule
fires, treatment ends there: the observer stops the model (Mesa's `running`), so the run,
its time series and its summary end on that day, and no later dose is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..readouts.response import AssessmentRecorder, in_remission
from ..scenario.spec import Stopping

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel

NO_RESPONSE = "no response"
RELAPSE = "relapse"


class TreatmentStopping:
    """Ends the run at the first assessment where a stopping rule fires. It must come after
    the assessments among the model's readouts, so that it reads this step's assessment."""

    def __init__(self, rules: Stopping, assessments: AssessmentRecorder,
                 enrichment: float) -> None:
        self.rules = rules
        self.assessments = assessments
        self.enrichment = enrichment
        self.responded = False
        self.read = 1  # assessments read so far; the first is the baseline
        self.stopped_day: float | None = None
        self.reason = ""

    def start(self, model: BispecificModel) -> None:
        pass

    def update(self, model: BispecificModel) -> None:
        taken = self.assessments.taken
        while self.stopped_day is None and self.read < len(taken):
            a = taken[self.read]
            self.read += 1
            day = a.time_h / 24.0
            remission = in_remission(a, self.enrichment)
            if self.responded and not remission and self.rules.on_relapse:
                self._stop(model, day, RELAPSE)
            self.responded = self.responded or remission
            by = self.rules.without_response_by_day
            if (self.stopped_day is None and not self.responded and by is not None
                    and day >= by - 1e-9):
                self._stop(model, day, NO_RESPONSE)

    def _stop(self, model: BispecificModel, day: float, reason: str) -> None:
        self.stopped_day, self.reason = day, reason
        model.running = False

    def reporters(self) -> dict[str, Callable[[BispecificModel], float]]:
        return {}

    def summary(self, days: float) -> dict[str, object]:
        """The day treatment ended (the run's last day when no rule fired) and why."""
        return {"treatment_end_day": days if self.stopped_day is None else self.stopped_day,
                "stop_reason": self.reason or "none"}

    def state_dict(self) -> dict[str, object]:
        return {"responded": self.responded, "read": self.read,
                "stopped_day": self.stopped_day, "reason": self.reason}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.responded = bool(state["responded"])
        self.read = int(state["read"])  # type: ignore[arg-type]
        day = state["stopped_day"]
        self.stopped_day = None if day is None else float(day)  # type: ignore[arg-type]
        self.reason = str(state["reason"])
