"""Chemotherapy courses: a cytotoxic comparator given in the same marrow (docs/model.md s.14).

A salvage course is modelled by what it does to the marrow's cells, not by its drugs'
kinetics: each cell of a kind survives it independently with probability `10^-log10_kill`.
The defaults are PENDING CALIBRATION against the standard-of-care arm of INO-VATE
([Kantarjian2016]: FLAG, cytarabine + mitoxantrone or HiDAC; CR/CRi ~30%), never against
TOWER (validation). Until then they are picked without a fit (docs/references.md,
"Chemotherapy"):

- blasts: 1 log10 per course (assumption, U): a patient at the TOWER-like median of ~60%
  marrow blasts comes out near the 5% CR line, so that a cohort's CR rate is neither ~0
  nor ~1 before calibration;
- T cells: 1 log10 (assumption, U): fludarabine- and cytarabine-based regimens are
  profoundly lymphotoxic;
- normal marrow cells: 1 log10 (assumption, U): myelosuppression to aplasia; they grow
  back by the production rule of s.6.
"""

from __future__ import annotations

from dataclasses import dataclass

BLAST_LOG10_KILL = 1.0  # log10 per course, pending calibration (INO-VATE SOC CR/CRi ~30%)
T_CELL_LOG10_KILL = 1.0  # log10 per course, assumption (lymphotoxic)
NORMAL_LOG10_KILL = 1.0  # log10 per course, assumption (myelosuppressive)
REGIMENS = ("FLAG-IDA", "HiDAC", "MTX-ASP", "generic")  # names recorded, same rule


@dataclass(frozen=True)
class ChemotherapyCourse:
    """One course: its regimen's name, the day it is given and its log10 kills by cell kind."""

    regimen: str
    day: float
    blast_log10_kill: float = BLAST_LOG10_KILL
    t_cell_log10_kill: float = T_CELL_LOG10_KILL
    normal_log10_kill: float = NORMAL_LOG10_KILL

    def survival(self) -> tuple[float, float, float]:
        """The chance that a blast, a T cell and a normal cell survive the course."""
        return (10.0 ** -self.blast_log10_kill, 10.0 ** -self.t_cell_log10_kill,
                10.0 ** -self.normal_log10_kill)
