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

    # --- the marrow (docs/model.md s.2, s.6) ---------------------------------------------
    marrow_cellularity: float = _p(
        0.6, "fraction of voxels holding a cell at start",
        "red marrow ~60% haematopoietic cells (BioNumbers 117068, R-3p); adults 30-70%",
        0.01, 1.0)
    normal_turnover_per_day: float = _p(
        0.15, "/day", "maturing myeloid and erythroid cells stay ~4-7 days in marrow (U)",
        0.0, 100.0)

    # --- blinatumomab: pool and single-arm binding (s.3.1, s.3.2) -----------------------
    molecular_weight_da: float = _p(
        55_000.0, "g/mol", "[Zhu2013]; [Liu2023] code (R)", 1e3, 1e6)
    kon_per_M_per_s: float = _p(
        6.0e4, "/M/s", "[Liu2023] code, an assumption there (R)", 0.0, 1e9)
    kd_cd19_nM: float = _p(
        1.49, "nM", "[Dreier2002] via [Liu2023] (R-3p)", 1e-6, 1e6)
    kd_cd3_nM: float = _p(
        260.0, "nM", "[Dreier2002] via [Liu2023] (R-3p)", 1e-6, 1e6)
    cd19_internalisation_per_min: float = _p(
        0.002, "/min", "[Liu2023] code (R)", 0.0, 10.0)
    tissue_plasma_partition: float = _p(
        0.4, "interstitial:plasma concentration ratio",
        "marrow interstitium (docs/model.md s.3.5): albumin ~0.42 behind continuous "
        "capillaries [Interstitium1977] (U), marrow sinusoids discontinuous [Sarin2010] "
        "(R-3p), 55 kDa below albumin [Li2016] (R-3p); range 0.2-1.0. Not Hosseini 2020's "
        "0.07, a whole-bone IgG coefficient [ShahBetts2013] (R-3p)", 0.0, 10.0)
    exchange_per_min: float = _p(
        0.1, "/min", "assumption: marrow interstitium equilibrates with plasma in ~10 min",
        1e-6, 100.0)

    # --- trimers in the contact zone (s.3.3) ---------------------------------------------
    contact_area_um2: float = _p(
        5.0, "um^2", "probing contact, [Liu2023] (R, an assumption there)", 0.01, 1000.0)
    synapse_area_um2: float = _p(
        65.0, "um^2", "immunological synapse, [Liu2023] (R, an assumption there)",
        0.01, 1000.0)
    blast_radius_um: float = _p(
        6.0, "um", "target cell radius, [Liu2023] (R)", 0.5, 50.0)
    t_cell_radius_um: float = _p(
        5.0, "um", "T-cell radius, [Liu2023] (R)", 0.5, 50.0)
    membrane_folding: float = _p(
        1.8, "surface / sphere area", "microvilli, [Liu2023] (R)", 1.0, 10.0)
    zone_gathering_half_life_min: float = _p(
        5.0, "min", "tuned to in-vitro potency: EC50 10-100 pg/mL at 4 h [Dreier2002], lysis "
        "at 10-100 pg/mL within 4 h at E:T 2:1 [Loffler2000] (tests/test_potency.py); LFA-3 "
        "accumulates at T-cell contacts with t1/2 ~15 min [Dustin1996] (R)", 0.01, 1e5)
    confinement_length_nm: float = _p(
        6.7, "nm", "2-D K = KD x h; [Liu2023]'s 2-D constants imply 6.7 nm (D); CD2-CD58 "
        "gives 2.2 nm [Dustin1996] (D)", 0.01, 1000.0)

    # --- blasts (s.4) ------------------------------------------------------------------
    cd19_median_copies: float = _p(
        20_000.0, "molecules/cell",
        "B cells 22,000 [Ginaldi1998] (R); B-ALL blasts not found (U)", 0.0, 1e7)
    cd19_sigma_log: float = _p(
        0.32, "log-normal sigma", "D: CV 7,000/22,000 on normal B cells [Ginaldi1998] (R)",
        0.0, 3.0)
    blast_division_per_day: float = _p(
        0.105, "/day", "birth 10-11%/day in untreated precursor-B ALL [BJH1997] (R)",
        0.0, 100.0)
    blast_apoptosis_per_day: float = _p(
        0.04, "/day", "apoptosis ~4%/day in untreated precursor-B ALL [BJH1997] (R)",
        0.0, 100.0)

    # --- T cells (s.5) -----------------------------------------------------------------
    cd3_copies: float = _p(
        30_000.0, "molecules/cell", "[BioNumbers] 103567 (R)", 0.0, 1e7)
    probe_rate_per_min: float = _p(
        1.0, "/min", "assumption: one probe of a random neighbour per minute, the rate of "
        "0.2's one probe per one-minute step (docs/model.md s.5)", 0.0, 100.0)
    contact_duration_min: float = _p(
        2.0, "min", "brief scanning contacts of minutes before arrest [Mempel2004] (U); "
        "assumption for marrow and drug bridges", 0.01, 1000.0)
    t_cell_speed_um_per_min: float = _p(
        5.0, "um/min", "marrow 3-10 um/min (U); lymph node 18 [Textor2011] (R)", 0.0, 100.0)
    adhesion_per_trimer: float = _p(
        0.033, "per trimer, per contact",
        "adhesion 1 - exp(-0.033 bonds), fitted to imaging in [Liu2023] (R)", 0.0, 100.0)
    kill_probability: float = _p(
        0.7, "lethal hit per synapse with ample trimers, unexhausted",
        "assumption; B-lymphoma targets die by a yes/no hit [Weigelin2021] (R), and not every "
        "marrow contact kills [Cazaux2019] (R)", 0.0, 1.0)
    trimers_for_half_kill: float = _p(
        3.0, "trimers", "~3 engaged pMHC suffice to kill [Purbhoo2004], [Sykulev1996] (R); "
        "assumption: the same for drug bridges", 0.0, 1e6)
    kill_time_min: float = _p(
        8.5, "min", "Ca2+ flux to detachment after a kill, [Jenkins2015] (R)", 0.1, 1e4)
    failed_synapse_min: float = _p(
        40.0, "min", "synapse lifetime when killing fails, [Jenkins2015] (R)", 0.1, 1e4)
    t_cell_proliferation_per_day: float = _p(
        0.3, "/day at full activation",
        "set for T cells to double in 2-3 weeks as blood's do [Klinger2012] (R); the model's "
        "marrow T cells reach x1.4 (day 7) and x1.2 (day 28), a stated gap (docs/model.md s.5)",
        0.0, 100.0)
    t_cell_death_per_day: float = _p(
        0.01, "/day", "assumption", 0.0, 100.0)
    aicd_per_day: float = _p(
        0.06, "/day at full activation", "[Hosseini2020] (R-3p)", 0.0, 100.0)
    activation_per_synapse: float = _p(
        0.5, "activation units", "assumption", 0.0, 1.0)
    activation_half_life_h: float = _p(
        24.0, "h", "assumption", 0.01, 1e5)
    exhaustion_per_synapse: float = _p(
        0.024, "exhaustion units",
        "calibrated jointly with the cohorts' regulatory T cells ([Duell2017]): CR and MRD "
        "among responders of virtual MT103-211 (43%, 82% [Topp2015]) and MT103-205 (39%, 52% "
        "[vonStackelberg2016]); 60-patient scans on a 48^2 patch gave 43%, 73%, 25%, 86% at "
        "0.026 and 43%, 78%, 33%, 53% at 0.024 (docs/calibration.md); no CTL measurement "
        "found (docs/model.md s.5)", 0.0, 1.0)
    exhaustion_half_life_days: float = _p(
        7.0, "day", "assumption", 0.01, 1e4)
    regulatory_suppression: float = _p(
        0.0, "fraction of lysis and proliferation lost",
        "0 (none) for one patient; the cohorts give 0.7 to 14/42 of their patients: "
        "activated Tregs' IL-10 suppresses CD8 lysis and T-cell proliferation, and none of "
        "the 14 of 42 r/r patients with Tregs above 8.525% of CD4 responded [Duell2017] (R); "
        "0.7 is the least that keeps them as unresponsive (docs/model.md s.5)",
        0.0, 1.0)

    # --- cytokine release by T cells (s.5, s.9) ---------------------------------------
    desensitisation_per_synapse_h: float = _p(
        0.05, "/h of synapse time",
        "calibrated to V8/V9 at the marrow's exposure of 0.4 (the log-misfit of the day 0-0.75 "
        "and 0.75-2.5 medians of both arms, least among 0.05-1.5; docs/calibration.md); "
        "mechanism after [Chen2019] / [Lefevre2024] (U)", 0.0, 100.0)
    desensitisation_half_life_days: float = _p(
        60.0, "day", "calibrated to V9 (later step-up peaks smaller than day 0); slow recovery "
        "agrees with no cytokine release at the start of cycle 2 [Klinger2012] (R)",
        0.01, 1e4)

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
