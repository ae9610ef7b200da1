"""Tumour response as the trials count it (docs/model.md s.11): complete response by marrow
blasts below 5% at the end-of-cycle assessments, its depth, and MRD below 10^-4.

The patch is a sample of the marrow, so each readout is a probability given the patch's
counts (Jeffreys posteriors), and a cohort's rate is the mean of its patients' probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from .tail import ResidualTail, TailSnapshot, positive_fraction_draws, tail_limit
from .timed import TimedRecorder

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel

CR_BLAST_PERCENT = 5.0  # marrow blasts < 5% (clinical CR threshold)
MRD_THRESHOLD = 1e-4  # complete MRD response: below 10^-4 ([Gokbuget2018])


def marrow_blast_percent(blasts: Any, t_cells: Any, normal_cells: Any) -> Any:
    """Blasts as a percentage of nucleated marrow cells (blasts + T cells + normal cells)."""
    total = np.asarray(blasts) + np.asarray(t_cells) + np.asarray(normal_cells)
    return 100.0 * np.asarray(blasts) / np.maximum(total, 1.0)


def probability_below(blasts: float, cells: float, fraction: float) -> float:
    """P(the marrow's blast fraction < `fraction`) given `blasts` of `cells` in the patch:
    the Jeffreys posterior Beta(k + 1/2, n - k + 1/2)."""
    if cells <= 0:
        return 0.0
    k = min(max(blasts, 0.0), cells)
    return float(stats.beta.cdf(min(fraction, 1.0), k + 0.5, cells - k + 0.5))


def probability_mrd_negative(blasts: float, baseline_blasts: float, baseline_fraction: float,
                             threshold: float = MRD_THRESHOLD) -> float:
    """P(marrow blasts < threshold): the level is baseline_fraction x s, with the surviving
    fraction s ~ Gamma(k + 1/2, k0) given k of k0 baseline blasts in the patch."""
    if baseline_blasts <= 0 or baseline_fraction <= 0:
        return 1.0
    limit = threshold / baseline_fraction * baseline_blasts
    return float(stats.gamma.cdf(limit, max(blasts, 0.0) + 0.5))


def log10_reduction(initial: float, final: float) -> tuple[float, bool]:
    """log10(initial / final), and whether it is censored at the patch's detection limit
    (no blast left: the reduction is at least log10(initial))."""
    if initial <= 0:
        return 0.0, False
    if final < 0.5:
        return math.log10(initial), True
    return math.log10(initial / final), False


@dataclass(frozen=True)
class Assessment:
    """The marrow at an assessment: blasts (CD19+ counted, CD19- expected) and all cells, the
    expected CD19- blasts alone, and what the branching tail knows (MRD)."""

    time_h: float
    blasts: float
    cells: float
    negative: float = 0.0
    tail: TailSnapshot | None = None


class AssessmentRecorder(TimedRecorder):
    """Counts the marrow at the assessment times (hours); time 0 is the baseline."""

    def __init__(self, times_h: Sequence[float], escape, tail: ResidualTail | None = None
                 ) -> None:
        super().__init__({0.0, *(float(t) for t in times_h)})
        self.escape = escape
        self.tail = tail

    def take(self, model: BispecificModel) -> Assessment:
        s = model.state
        negative = s.blasts_cd19_negative()
        blasts = s.blasts_alive() - negative + self.escape.expected
        cells = blasts + s.tcells_alive() + s.normal_alive()
        tail = self.tail.snapshot(model) if self.tail is not None else None
        return Assessment(model.time_h, blasts, cells, self.escape.expected, tail)

    def encode(self, item: Assessment) -> list[float]:
        tail = item.tail.as_list() if item.tail is not None else []
        return [item.time_h, item.blasts, item.cells, item.negative, *tail]

    def decode(self, stored: list[float]) -> Assessment:
        tail = TailSnapshot.from_list(stored[4:]) if len(stored) > 4 else None
        return Assessment(*stored[:4], tail=tail)


def mrd_level_draws(a: Assessment, base: Assessment, baseline_fraction: float) -> np.ndarray:
    """Draws of the marrow's blast level at assessment `a` (a fraction of nucleated cells):
    the baseline fraction times the surviving share of baseline blasts, CD19+ from the
    patch or its branching tail (readouts/tail.py), CD19- in expectation."""
    base_positive = max(base.blasts - base.negative, 0.0)
    if a.tail is None:  # an assessment recorded without a tail: the patch's own posterior
        positive = max(a.blasts - a.negative, 0.0)
        a_tail = TailSnapshot(False, positive, 0.0, 0.0, 0.0, 0.0, 0.0)
    else:
        a_tail = a.tail
    survivors = positive_fraction_draws(a_tail, base_positive) * base_positive + a.negative
    return baseline_fraction * survivors / max(base.blasts, 1e-12)


def assessed_marrow_percent(a: Assessment, enrichment: float) -> float:
    """Marrow blasts (% of nucleated cells) at an assessment, the patch's enrichment undone:
    the point estimate that dates a response (below 5%) and a relapse (back at 5%)."""
    return 100.0 * a.blasts / max(a.cells, 1.0) / enrichment


def in_remission(a: Assessment, enrichment: float) -> bool:
    """Whether an assessment reads marrow blasts below the CR threshold (5%)."""
    return assessed_marrow_percent(a, enrichment) < CR_BLAST_PERCENT


def response_summary(taken: Sequence[Assessment], baseline_fraction: float,
                     enrichment: float) -> dict[str, Any]:
    """Best response over the assessments after baseline (docs/model.md s.11).

    Args:
        taken: baseline first, then the end-of-cycle and end-of-run assessments.
        baseline_fraction: the patient's marrow blast fraction (before any enrichment).
        enrichment: how many times the patch's blast share exceeds the patient's.
    """
    base, later = taken[0], list(taken[1:]) or [taken[0]]

    def marrow_percent(a: Assessment) -> float:
        return assessed_marrow_percent(a, enrichment)

    p_cr = [probability_below(a.blasts, a.cells, CR_BLAST_PERCENT / 100.0 * enrichment)
            for a in later]
    levels = [mrd_level_draws(a, base, baseline_fraction) for a in later]
    p_mrd = [float(np.mean(v < MRD_THRESHOLD)) for v in levels]
    best = max(range(len(later)), key=lambda i: (p_cr[i], p_mrd[i], -later[i].blasts))
    reduction, censored = log10_reduction(base.blasts, later[best].blasts)
    last, last_levels = later[-1], levels[-1]
    # CD19-negative escape: residual disease above the MRD threshold that is mostly CD19-.
    negative_level = baseline_fraction * last.negative / max(base.blasts, 1e-12)
    p_escape = float(np.mean((negative_level >= MRD_THRESHOLD)
                             & (negative_level > last_levels - negative_level)))
    base_positive = max(base.blasts - base.negative, 0.0)
    limit_tail = later[best].tail
    limit = (tail_limit(limit_tail, base_positive) if limit_tail is not None
             else 1.0 / max(base.blasts, 1e-12))
    return {
        "assessment_days": [round(a.time_h / 24.0, 4) for a in later],
        "marrow_blast_percent_at_assessments": [marrow_percent(a) for a in later],
        "best_marrow_blast_percent": marrow_percent(later[best]),
        "p_complete_response": max(p_cr),
        "complete_response": max(p_cr) >= 0.5,
        "blast_log10_reduction": reduction,
        "blast_log10_reduction_censored": censored,
        "p_mrd_negative": max(p_mrd),
        "p_mrd_negative_at_assessments": p_mrd,  # e.g. BLAST's endpoint: after cycle 1
        "mrd_level_estimate": float(np.median(levels[best])),
        "mrd_detection_limit": baseline_fraction * limit * base_positive / max(
            base.blasts, 1e-12),
        "mrd_tail_used": bool(limit_tail is not None and limit_tail.handed_off),
        "p_cd19_negative_escape": p_escape,
        "blast_enrichment": enrichment,
    }
