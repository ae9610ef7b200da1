"""A cytotoxic course applied to the patch between steps (docs/model.md s.14).

Each live blast, T cell and normal cell survives independently with its kind's probability;
those that do not are removed exactly as `Agent.remove()` removes them (`removal.py`: a blast
counts as an apoptosis, never as a T-cell kill, so the MRD tail's kill hazard is the
drug's alone; engaged partners let go, molecules held by the cell alone are cleared). The
draws come from the model's `rng`, which nothing else uses between steps, and only when a
course is given: a run without chemotherapy draws nothing here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .removal import remove_blast, remove_normal, remove_tcell

if TYPE_CHECKING:
    from .model import BispecificModel


def apply_cytotoxic_kill(model: BispecificModel, blast_survival: float,
                         t_cell_survival: float, normal_survival: float) -> tuple[int, int, int]:
    """Remove each live cell with its kind's chance of death; returns (blasts, T cells,
    normal cells) removed."""
    s = model.state
    kinds = ((s.b_alive, s.n_blasts, blast_survival, remove_blast),
             (s.t_alive, s.n_tcells, t_cell_survival, remove_tcell),
             (s.c_alive, s.n_normal, normal_survival, remove_normal))
    removed = []
    for alive, n, survival, remove in kinds:
        live = np.flatnonzero(alive[:n])
        dying = live[model.rng.random(live.size) >= survival]
        for i in dying:
            remove(model, int(i))
        removed.append(int(dying.size))
    model._agents_changed()
    return removed[0], removed[1], removed[2]
