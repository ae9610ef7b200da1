"""In-vitro potency against the published assays (docs/model.md s.3.3, s.5).

These are mechanistic targets, independent of any clinical outcome: the same engine as a
well of T cells and CD19+ targets at a fixed drug concentration
(`bispecific.simulation.invitro`). Published: EC50 of lysis 10-100 pg/mL ([Dreier2002]);
significant lysis at 10-100 pg/mL within 4 h at E:T 2:1 by unstimulated T cells
([Loffler2000]); EC90 ~470 pg/mL for leukaemia lines ([Zhu2013]); complete elimination of
targets within 24 h at E:T as low as 1:5 ([Hoffmann2005]); a hook at high concentration,
once free drug occupies CD3 and CD19 separately ([Schropp2019]).
"""

from __future__ import annotations

import numpy as np
import pytest

from bispecific import units
from bispecific.simulation.invitro import cytotoxicity_assay

SEEDS = (1, 2)
SWEEP_PG_PER_ML = np.array([3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0])


def _lysis(pg_per_ml: float, effector_target_ratio: float, hours: float = 4.0,
           size: int = 24) -> float:
    pm = pg_per_ml / units.pM_to_pg_per_ml(1.0, 55_000.0)
    return float(np.mean([
        cytotoxicity_assay(pm, effector_target_ratio=effector_target_ratio, hours=hours,
                           size=size, seed=s).fraction_lysed for s in SEEDS]))


def _crossing(levels: np.ndarray, share: float) -> float:
    """The concentration (log-interpolated) where lysis first reaches `share` of its top."""
    target = share * levels.max()
    i = int(np.argmax(levels >= target))
    assert i > 0, "lysis already past the level at the lowest concentration"
    lo, hi = np.log10(SWEEP_PG_PER_ML[i - 1]), np.log10(SWEEP_PG_PER_ML[i])
    f = (target - levels[i - 1]) / (levels[i] - levels[i - 1])
    return float(10 ** (lo + f * (hi - lo)))


@pytest.fixture(scope="module", params=[2.0, 10.0], ids=["E:T 2:1", "E:T 10:1"])
def sweep(request) -> np.ndarray:
    return np.array([_lysis(c, request.param) for c in SWEEP_PG_PER_ML])


def test_ec50_at_4_h_lies_in_the_published_10_to_100_pg_per_ml(sweep):
    ec50 = _crossing(sweep, 0.5)
    assert 10.0 <= ec50 <= 100.0, f"EC50 {ec50:.0f} pg/mL"


def test_ec90_is_near_the_470_pg_per_ml_of_leukaemia_lines(sweep):
    """Within a factor of 3: [Zhu2013] reports it for lines, not for one assay set-up."""
    ec90 = _crossing(sweep, 0.9)
    assert 470.0 / 3 <= ec90 <= 470.0 * 3, f"EC90 {ec90:.0f} pg/mL"


def test_lysis_is_already_measurable_at_10_pg_per_ml_and_rises_with_dose(sweep):
    """[Loffler2000]: significant lysis at 10-100 pg/mL within 4 h; the model's curve rises
    through that range (it is not flat, and it is not saturated at 10 pg/mL)."""
    at_10, at_100 = sweep[1], sweep[3]
    assert at_10 >= 0.02
    assert at_100 >= 3 * at_10
    assert at_10 <= 0.5


def test_one_t_cell_clears_five_targets_within_a_day():
    """[Hoffmann2005]: complete elimination at E:T 1:5 within 24 h, i.e. >= 5 kills per T
    cell per day; 95% of targets allows for the last few still engaged at 24 h."""
    pm = 1000.0 / units.pM_to_pg_per_ml(1.0, 55_000.0)
    r = cytotoxicity_assay(pm, effector_target_ratio=0.2, hours=24.0, size=24, seed=1)
    assert r.fraction_lysed >= 0.95
    assert r.kills_per_t_cell_per_day >= 0.95 * r.targets / r.t_cells


def test_a_hook_appears_at_micromolar_drug():
    """Free drug saturating CD19 and CD3 separately leaves nothing to bridge: lysis at 18 uM
    (1e9 pg/mL) falls below half of that at 1 nM (55,000 pg/mL)."""
    at_nanomolar = _lysis(55_000.0, 2.0, size=12)
    at_hook = _lysis(1e9, 2.0, size=12)
    assert at_nanomolar > 0.9
    assert at_hook < 0.5 * at_nanomolar
