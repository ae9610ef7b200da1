"""Chemotherapy courses as a step observer (docs/model.md s.14).

At the end of the first step that reaches a course's day, the course kills cells in the
patch (`engine.facade.cytotoxic`) and in what the readouts carry in expectation: the CD19-negative
subclone (`readouts.escape`) and, once the MRD tail has handed off, the tail's extrapolated
CD19-positive residue (`readouts.tail`: the course's log kill joins its growth integral).
It is the first observer, so that every readout sees the marrow after the course.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..engine.facade.cytotoxic import apply_cytotoxic_kill
from ..pharmacology.chemotherapy import ChemotherapyCourse
from ..readouts.escape import ExpectedEscape
from ..readouts.tail import ResidualTail

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel

ASSESSMENT_DAYS_AFTER_COURSE = 28.0  # days: response read at count recovery (assumption)


class ChemotherapyCourses:
    """Gives each course once, in day order."""

    def __init__(self, courses: tuple[ChemotherapyCourse, ...], escape: ExpectedEscape,
                 tail: ResidualTail) -> None:
        self.courses = tuple(sorted(courses, key=lambda c: c.day))
        self.escape = escape
        self.tail = tail
        self.given = 0
        self.removed: list[list[int]] = []

    def start(self, model: BispecificModel) -> None:
        pass

    def update(self, model: BispecificModel) -> None:
        while (self.given < len(self.courses)
               and model.time_minutes >= self.courses[self.given].day * 1440.0 - 1e-9):
            course = self.courses[self.given]
            blast, t_cell, normal = course.survival()
            self.removed.append(list(apply_cytotoxic_kill(model, blast, t_cell, normal)))
            self.escape.expected *= blast
            if self.tail.handed_off:
                self.tail.log_growth += math.log(blast)
            self.given += 1

    def reporters(self) -> dict[str, Callable[[BispecificModel], float]]:
        return {}

    def state_dict(self) -> dict[str, object]:
        return {"given": self.given, "removed": self.removed}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.given = int(state["given"])  # type: ignore[arg-type]
        self.removed = [list(r) for r in state["removed"]]  # type: ignore[union-attr]
