"""Plasma cytokines driven by the patch's T-cell synapses (docs/model.md s.9).

The input is the patch's expected release given its contacts (`release.ExpectedRelease`), so
one patch's few synapses do not put their sampling noise into a patient's IL-6.

Chain: T cells in synapse release IFN-g and TNF for as long as the synapse lasts (a failed,
prolonged synapse releases ~5x a killing one), less as they desensitise (the kernel sums
this per step as "stimulation", in synapse-minutes). The patch samples the patient's
marrow: its release is scaled up by the ratio of the patient's marrow cells to the patch's.
IFN-g and TNF in plasma drive IL-6 production by monocytes and macrophages, the
amplification step (Leclercq-Cohen 2023). Each cytokine clears first-order with its
half-life. Dexamethasone premedication damps release, once, at its source.

Each step solves the linear ODEs exactly for inputs held constant over the step:
    dX/dt = k_X (X_baseline - X) + input_X(t)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import units
from .release import ExpectedRelease

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel


def _c(default: float, lo: float, hi: float) -> Any:
    """A parameter with the range the readout runs with; half-lives and the plasma volume
    divide, so their ranges exclude 0."""
    return field(default=default, metadata={"range": (lo, hi)})


@dataclass(frozen=True)
class CytokineParameters:
    """Plasma cytokine kinetics and the patch-to-patient scaling (docs/model.md s.9)."""

    # IFN-g released per minute of synapse by an undesensitised T cell, lumped. Calibrated to
    # the IL-6 of V8/V9 (docs/calibration.md): the flat arm's day-0 median, 504 pg/mL.
    ifng_fg_per_synapse_min: float = _c(0.00082, 0.0, 1e6)
    tnf_per_ifng: float = _c(0.5, 0.0, 1e3)  # TNF released per IFN-g, by mass (assumption)
    ifng_half_life_min: float = _c(30.0, 0.01, 1e6)  # plasma IFN-g (U)
    tnf_half_life_min: float = _c(20.0, 0.01, 1e6)  # plasma TNF (U)
    il6_half_life_min: float = _c(20.0, 0.01, 1e6)  # plasma IL-6, [Hosseini2020] (R-3p)
    # Quasi-steady IL-6 per pg/mL of IFN-g + TNF above baseline: the monocyte amplification
    # (assumption; IL-6 exceeds the T-cell cytokines in blinatumomab CRS, V7).
    il6_per_ifng_tnf: float = _c(3.0, 0.0, 1e4)
    il6_baseline_pg_per_ml: float = _c(10.0, 0.0, 1e6)  # assumption; V8 late values 10-40
    ifng_baseline_pg_per_ml: float = _c(2.0, 0.0, 1e6)  # assumption
    tnf_baseline_pg_per_ml: float = _c(2.0, 0.0, 1e6)  # assumption
    plasma_l_per_kg: float = _c(0.043, 1e-3, 1.0)  # plasma volume, ~3 L for 70 kg (U)
    # Nucleated marrow cells per kg: 10.4-11.1e9 [Harrison1962] (R); with
    # marrow_blast_fraction it sets the patient's blast burden, with the patch's cells the
    # scale-up.
    marrow_cells_per_kg: float = _c(1.1e10, 0.0, 1e13)
    # Fraction of release removed at full effect (a fraction: above 1 would reverse release).
    dexamethasone_damping: float = _c(0.5, 0.0, 1.0)
    dexamethasone_half_life_h: float = _c(36.0, 0.01, 1e4)  # effect decays with dex's t1/2 (U)
    premedication_lead_h: float = _c(1.0, 0.0, 168.0)  # given 1 h before the dose (label, R)


def patient_scale(patch_marrow_cells: float, weight_kg: float, p: CytokineParameters) -> float:
    """How many patches make up the patient's marrow (assumption: the patch is typical)."""
    return p.marrow_cells_per_kg * weight_kg / max(patch_marrow_cells, 1.0)


def dexamethasone_damping(t_h: float, premedication_h: Sequence[float],
                          p: CytokineParameters) -> float:
    """Fraction of cytokine release removed at time `t_h` by the premedications so far."""
    remaining = 1.0
    for given in premedication_h:
        if given <= t_h:
            effect = p.dexamethasone_damping * 0.5 ** ((t_h - given) / p.dexamethasone_half_life_h)
            remaining *= 1.0 - effect
    return 1.0 - remaining


def _relax(x: float, steady: float, k_per_min: float, dt_min: float) -> float:
    return steady + (x - steady) * math.exp(-k_per_min * dt_min)


class CytokineReadout:
    """Plasma IFN-g, TNF and IL-6 over a run; a `StepReadout` for `BispecificModel`."""

    def __init__(
        self,
        scale: float,
        weight_kg: float,
        params: CytokineParameters | None = None,
        premedication_h: Sequence[float] = (),
        release: ExpectedRelease | None = None,
        on_il6: Callable[[float, float, float], None] | None = None,
    ) -> None:
        """
        Args:
            scale: patient marrow cells per patch marrow cell (`patient_scale`), divided by
                the blast enrichment factor of a blast-poor marrow (docs/model.md s.11).
            weight_kg: body weight, for the plasma volume.
            params: cytokine parameters.
            premedication_h: times of dexamethasone doses, in hours from the start.
            release: the expected release (s.9.1); None drives cytokines with the patch's
                realized release instead.
            on_il6: called as on_il6(time_h, il6_pg_per_ml, dt_h) after every step.
        """
        self.p = params or CytokineParameters()
        self.scale = scale
        self.plasma_ml = self.p.plasma_l_per_kg * weight_kg * 1000.0
        self.premedication_h = sorted(premedication_h)
        self.release = release
        self.ifng = self.p.ifng_baseline_pg_per_ml
        self.tnf = self.p.tnf_baseline_pg_per_ml
        self.il6 = self.p.il6_baseline_pg_per_ml
        self.last_release = 0.0
        self.on_il6 = on_il6
        ln2 = math.log(2.0)
        self._k_ifng = ln2 / self.p.ifng_half_life_min
        self._k_tnf = ln2 / self.p.tnf_half_life_min
        self._k_il6 = ln2 / self.p.il6_half_life_min

    def start(self, model: BispecificModel) -> None:
        """Nothing to do: cytokines start at baseline."""

    def update(self, model: BispecificModel) -> None:
        p = self.p
        dt = model.dt_minutes
        t_h = model.time_h
        if self.release is None:
            self.last_release = model.step_stimulation
        else:
            chances, decisions = model.step_lethal_chances
            self.last_release = self.release.update(model.step_expected_synapses, chances,
                                                    decisions)
        # Dexamethasone removes part of the release at its source, once.
        damping = dexamethasone_damping(t_h - dt / 120.0, self.premedication_h, p)
        # IFN-g released this step, spread over plasma, as a rate in pg/mL/min.
        ifng_pg = self.last_release * p.ifng_fg_per_synapse_min * 1e-3 * self.scale
        ifng_in = ifng_pg * (1.0 - damping) / self.plasma_ml / dt
        # IL-6 production follows IFN-g + TNF above baseline (values at the step's start).
        drive = (self.ifng - p.ifng_baseline_pg_per_ml) + (self.tnf - p.tnf_baseline_pg_per_ml)
        il6_steady = p.il6_baseline_pg_per_ml + p.il6_per_ifng_tnf * max(drive, 0.0)
        self.ifng = _relax(self.ifng, p.ifng_baseline_pg_per_ml + ifng_in / self._k_ifng,
                           self._k_ifng, dt)
        self.tnf = _relax(self.tnf, p.tnf_baseline_pg_per_ml
                          + p.tnf_per_ifng * ifng_in / self._k_tnf, self._k_tnf, dt)
        self.il6 = _relax(self.il6, il6_steady, self._k_il6, dt)
        if self.on_il6 is not None:
            self.on_il6(t_h, self.il6, dt / units.MINUTES_PER_HOUR)

    def state_dict(self) -> dict:
        """The plasma levels now, and the expected release's memory: all that changes
        between steps (for checkpoints)."""
        return {"ifng": self.ifng, "tnf": self.tnf, "il6": self.il6,
                "last_release": self.last_release,
                "release": None if self.release is None else self.release.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.ifng, self.tnf, self.il6 = state["ifng"], state["tnf"], state["il6"]
        self.last_release = state["last_release"]
        if self.release is not None:
            self.release.load_state_dict(state["release"])

    def reporters(self) -> dict[str, Callable[[BispecificModel], float]]:
        return {
            "il6_pg_per_ml": lambda _m: self.il6,
            "ifng_pg_per_ml": lambda _m: self.ifng,
            "tnf_pg_per_ml": lambda _m: self.tnf,
        }
