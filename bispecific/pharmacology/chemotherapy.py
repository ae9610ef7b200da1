"""Chemotherapy courses: a cytotoxic comparator given in the same marrow (docs/model.md s.14).

A salvage course is modelled by what it does to the marrow's cells, not by its drugs'
kinetics: each cell of a kind survives it independently with probability `10^-log10_kill`.
The blast kill is FITTED to the CR/CRi of INO-VATE's standard-of-care arm
([Kantarjian2016]: FLAG, cytarabine + mitoxantrone or HiDAC; 29.4%, R-3p), never to TOWER
(validation); the other kills are assumptions (docs/references.md, "Chemotherapy"):

- blasts: 1.2 log10 per course, fitted (`python docs/calibrate.py --validate`,
  docs/calibration.md s.6: the virtual phase 3's chemotherapy arm, 30 patients with TOWER's
  covariates, CR 13.9% at 1.1 and 52.9% at 1.3 log10; until 0.3.2 an assumed 1.0);
- T cells: 1 log10 (assumption, U): fludarabine- and cytarabine-based regimens are
  profoundly lymphotoxic;
- normal marrow cells: 1 log10 (assumption, U): myelosuppression to aplasia; they grow
  back by the production rule of s.6.
"""

from __future__ import annotations

from dataclasses import dataclass

BLAST_LOG10_KILL = 1.2  # log10 per course, fitted to INO-VATE SOC CR/CRi 29.4%
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
