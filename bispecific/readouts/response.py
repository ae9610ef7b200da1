"""Tumour response: marrow blast percentage, complete response and depth of response.

Complete response (CR) follows the clinical definition, marrow blasts below 5% of nucleated
marrow cells, counted among the patch's blasts, T cells and normal marrow cells.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

CR_BLAST_PERCENT = 5.0  # marrow blasts < 5% (clinical CR threshold)


def marrow_blast_percent(blasts: Any, t_cells: Any, normal_cells: float) -> Any:
    """Blasts as a percentage of nucleated marrow cells (blasts + T cells + normal cells)."""
    total = np.asarray(blasts) + np.asarray(t_cells) + normal_cells
    return 100.0 * np.asarray(blasts) / np.maximum(total, 1.0)


def log10_reduction(initial: int, final: int) -> float:
    """log10(initial / final); a patch cleared to zero counts as one blast left."""
    if initial <= 0:
        return 0.0
    return math.log10(initial / max(final, 1))
