"""Model parameters: every default with its unit, allowed range and source.

Sources are listed in full in `docs/references.md`, with their certainty grade: R read in
the source, R-3p read in third-party material, D derived, U unconfirmed.
"assumption" marks a value chosen here for lack of a source. `docs/model.md` says how each
parameter enters the rules.

A scenario's `[parameters]` table overrides any field by name (`ModelParameters.with_overrides`).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, fields, replace
from typing import Any


class ParameterError(ValueError):
    """An override names an unknown parameter or gives a value outside its range."""


def _p(default: float, unit: str, source: str, lo: float, hi: float) -> Any:
    return field(default=default, metadata={"unit": unit, "source": source, "range": (lo, hi)})


@dataclass(frozen=True)
class ModelParameters:
    """Biological and numerical parameters of the patch model (see docs/model.md)."""

    # --- the patch ---------------------------------------------------------------------
    marrow_cellularity: float = _p(
        0.5, "fraction of voxels holding a cell at start",
        "assumption: normal adult marrow is 40-60% cellular", 0.01, 1.0)

    # --- blinatumomab molecules (science.md 1a, 1b) ------------------------------------
    molecular_weight_da: float = _p(
        55_000.0, "g/mol", "Zhu ASCO 2013; Liu 2023 code (R)", 1e3, 1e6)
    diffusion_um2_per_s: float = _p(
        50.0, "um^2/s", "Liu 2023 code (R); 2-10x lower in interstitium (U)", 0.0, 1000.0)
    kon_per_M_per_s: float = _p(
        6.0e4, "/M/s", "Liu 2023 code, an assumption there (R)", 0.0, 1e9)
    kd_cd19_nM: float = _p(
        1.49, "nM", "Liu 2023 code, credited to Dreier 2002 (R-3p)", 1e-6, 1e6)
    kd_cd3_nM: float = _p(
        260.0, "nM", "Liu 2023 code, credited to Dreier 2002 (R-3p)", 1e-6, 1e6)
    cd19_internalisation_per_min: float = _p(
        0.002, "/min", "Liu 2023 code (R)", 0.0, 10.0)
    tissue_plasma_partition: float = _p(
        0.07, "tissue:plasma ratio", "bone marrow, Hosseini 2020 (R-3p)", 0.0, 10.0)
    exchange_per_min: float = _p(
        0.1, "/min", "assumption: marrow interstitium equilibrates with plasma in ~10 min",
        1e-6, 100.0)

    # --- blasts (science.md 1b, 1c) ------------------------------------------------------
    cd19_median_copies: float = _p(
        20_000.0, "molecules/cell", "B-ALL blasts ~10,000-30,000 (U)", 0.0, 1e7)
    cd19_sigma_log: float = _p(
        0.32, "log-normal sigma", "D: CV 7,000/22,000 on normal B cells, Ginaldi 1998 (R)",
        0.0, 3.0)
    blast_doubling_time_days: float = _p(
        5.0, "day", "relapsed ALL in vivo ~3-7 days (U)", 0.1, 1e4)
    blast_apoptosis_per_day: float = _p(
        0.02, "/day", "assumption", 0.0, 100.0)

    # --- T cells (science.md 1b, 1c, 1d) ------------------------------------------------
    cd3_copies: float = _p(
        30_000.0, "molecules/cell", "BioNumbers 103567 (R)", 0.0, 1e7)
    t_cell_speed_um_per_min: float = _p(
        5.0, "um/min", "marrow parenchyma 3-10 um/min (U); lymph node 18 (Textor 2011, R)",
        0.0, 100.0)
    t_cell_proliferation_per_day: float = _p(
        0.3, "/day at full activation",
        "calibrated to ~2-fold expansion by the end of cycle 1 (Nagele 2017 / Klinger 2012, U);"
        " Hosseini 2020's 2.11 /day (R-3p) gives ~18-fold in 4 days here", 0.0, 100.0)
    t_cell_death_per_day: float = _p(
        0.01, "/day", "assumption", 0.0, 100.0)
    aicd_per_day: float = _p(
        0.06, "/day at full activation", "Hosseini 2020 (R-3p)", 0.0, 100.0)
    activation_per_synapse: float = _p(
        0.5, "activation units", "assumption", 0.0, 1.0)
    activation_half_life_h: float = _p(
        24.0, "h", "assumption", 0.01, 1e5)
    exhaustion_per_synapse: float = _p(
        0.03, "exhaustion units", "assumption", 0.0, 1.0)
    exhaustion_half_life_days: float = _p(
        7.0, "day", "assumption", 0.01, 1e4)

    # --- cytokine release by T cells (science.md section 3; docs/model.md s.5) -----------
    desensitisation_per_synapse_h: float = _p(
        1.5, "/h of synapse time",
        "calibrated to V8/V9 (first-dose peak, smaller step-up peaks); the mechanism follows "
        "Chen 2019 / Lefevre 2024 (U)", 0.0, 100.0)
    desensitisation_half_life_days: float = _p(
        21.0, "day", "calibrated to V9 (step-up peaks at days 7 and 14 smaller than day 0)",
        0.01, 1e4)
    failed_synapse_release_factor: float = _p(
        2.0, "x release rate of a killing synapse",
        "assumption; prolonged synapses hypersecrete (Jenkins 2015, U)", 0.0, 100.0)

    # --- synapse and killing (science.md 1b, 1c) ------------------------------------------
    adhesion_per_bond: float = _p(
        0.033, "/bond/min of contact",
        "Liu 2023 adhesion 1-exp(-0.033 bonds) (R), per minute of contact (assumption)",
        0.0, 100.0)
    contact_bond_fraction: float = _p(
        0.08, "fraction of bound molecules in the contact",
        "D: 65 um^2 synapse / (4 pi 6^2 um^2 x 1.8), Liu 2023 (R)", 0.0, 1.0)
    kill_probability: float = _p(
        0.7, "per synapse, unexhausted T cell", "assumption", 0.0, 1.0)
    kill_time_min: float = _p(
        8.5, "min", "Ca2+ flux to detachment after a kill, Jenkins 2015 JEM (R)", 0.1, 1e4)
    failed_synapse_min: float = _p(
        40.0, "min", "synapse lifetime when killing fails, Jenkins 2015 JEM (R)", 0.1, 1e4)

    def with_overrides(self, overrides: dict[str, Any]) -> ModelParameters:
        """A copy with some fields replaced; unknown names or bad values raise ParameterError."""
        known = {f.name: f for f in fields(self)}
        clean: dict[str, float] = {}
        for name, value in overrides.items():
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1) or sorted(
                    k for k in known if k.startswith(name) or name.startswith(k))
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise ParameterError(f"unknown parameter '{name}'{hint}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParameterError(
                    f"parameter '{name}' = {value!r}: expected a number "
                    f"({known[name].metadata['unit']})")
            lo, hi = known[name].metadata["range"]
            if not (math.isfinite(value) and lo <= value <= hi):
                raise ParameterError(
                    f"parameter '{name}' = {value!r}: allowed {lo:g} to {hi:g} "
                    f"({known[name].metadata['unit']})")
            clean[name] = float(value)
        return replace(self, **clean)

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
