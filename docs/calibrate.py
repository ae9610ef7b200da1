"""Regenerate docs/calibration.md: the model against the data it was calibrated on, and,
kept apart, against the trials it was never fitted to.

    python docs/calibrate.py                 # calibration tables (~20 min on 2 cores)
    python docs/calibrate.py --validate      # and validation (~25 min more, --patients 60)
    python docs/calibrate.py --fit           # also solve the CRS thresholds (printed)
    python docs/calibrate.py --seed-agreement  # and rerun MT103-211 with other seeds
    python docs/calibrate.py --keep runs/calibration   # keep (and resume) the cohort folders

Calibration (docs/model.md s.9-11): the IL-6 of lymphoma patients on a flat or stepped start
(V8/V9, docs/data/); response and CRS in virtual versions of MT103-211 (adults) and
MT103-205 (children). Validation only, never fitted: TOWER and BLAST (cohort_tower.toml,
cohort_mrd.toml).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

from model_vs_data import Point, model_vs_data  # noqa: E402

from bispecific import __version__  # noqa: E402
from bispecific.cohorts.runner import run_cohort  # noqa: E402
from bispecific.cohorts.spec import load_cohort, patient_scenario  # noqa: E402
from bispecific.cohorts.stats import mean_interval  # noqa: E402
from bispecific.cohorts.survival import (  # noqa: E402
    km_median,
    patient_table,
    relapse_free,
    write_survival,
)
from bispecific.cohorts.trial import (  # noqa: E402
    trial_conditional_interval,
    trial_rate_interval,
)
from bispecific.outcomes.constants import (  # noqa: E402
    DAYS_PER_MONTH,
    HAZARD_ON_TREATMENT_PER_DAY,
    HAZARD_RELAPSED_PER_DAY,
    TREATMENT_EMERGENT_DAYS,
)
from bispecific.outcomes.events import OutcomeRules, residual  # noqa: E402
from bispecific.outcomes.hazards import DeathHazards  # noqa: E402
from bispecific.pharmacology.chemotherapy import BLAST_LOG10_KILL  # noqa: E402
from bispecific.pharmacology.dosing import DosingSchedule, Infusion  # noqa: E402
from bispecific.readouts.crs import (  # noqa: E402
    CrsParameters,
    crs_rate_interval,
    pooled_standard_error,
    threshold_standard_error,
)
from bispecific.scenario import load_scenario  # noqa: E402
from bispecific.simulation.run import run_scenario  # noqa: E402

DATA = ROOT / "docs" / "data"
WINDOWS = [(0.0, 0.75), (0.75, 2.5), (7.0, 8.0), (14.0, 15.0)]
IL6_ARMS = {
    "flat 60": ([(0, 21, 60.0)], "il6_flat_60ug_m2_day.csv"),
    "stepped 5-15-60": ([(0, 7, 5.0), (7, 14, 15.0), (14, 21, 60.0)],
                        "il6_stepup_5_15_60ug_m2_day.csv"),
}

# The share of responders who are also MRD-negative: a ratio of the cohort's means.
MRD_AMONG_CR = "p_mrd_negative / p_complete_response"

# (cohort file, readout column, published value, its 95% CI or None, source, what it is,
# patients in the published trial). CRS rows are ASTCT grades (docs/model.md s.10): grade >= 1
# is fever, compared with the trials' pyrexia; the trials' CTCAE v4 "CRS" of any grade is
# compared with ASTCT grade >= 2, and CTCAE grade >= 3 / 4 with ASTCT grade >= 3 / 4 (the
# mapping is an assumption stated in s.10).
CALIBRATION = [
    ("cohort_mt103_211.toml", "p_complete_response", 0.43, (0.36, 0.50), "[Topp2015]",
     "CR/CRh within 2 cycles, adults, 9 -> 28 ug/day + dexamethasone", 189),
    ("cohort_mt103_211.toml", "p_crs_grade1_or_more", 24 / 36, None, "[Topp2012]",
     "fever = ASTCT grade >= 1: pyrexia, adults on 5 -> 15 ug/m^2/day (MT103-206; n = the "
     "trial's 36, [Topp2014])", 36),
    ("cohort_mt103_211.toml", "p_crs_grade3_or_more", 7 / 239, None, "[Badar2020]",
     "CRS grade >= 3, adults on the approved regimen (real-world, n = 239)", 239),
    ("cohort_mt103_211.toml", MRD_AMONG_CR, 0.82, (0.72, 0.90), "[Topp2015]",
     "MRD < 1e-4 among CR/CRh responders, adults (depth)", 189),
    ("cohort_mt103_205.toml", "p_complete_response", 0.39, (0.27, 0.51), "[vonStackelberg2016]",
     "CR within 2 cycles, children, 5 -> 15 ug/m^2/day (27 of 70)", 70),
    ("cohort_mt103_205.toml", MRD_AMONG_CR, 0.52, None, "[vonStackelberg2016]",
     "MRD < 1e-4 among CR responders, children (depth; 14 of 27)", 70),
    ("cohort_mt103_205.toml", "p_crs_grade2_or_more", 3 / 39, None, "[Gore2014]",
     "CTCAE CRS of any grade = ASTCT grade >= 2, children on 5 -> 15 ug/m^2/day", 39),
    ("cohort_mt103_205.toml", "p_crs_grade3_or_more", 0.05, None, "[vonStackelberg2016]",
     "CRS grade >= 3, children at the recommended dose (4% grade 3 + 1% grade 4; n = 70, U)",
     70),
    ("cohort_mt103_205.toml", "p_crs_grade4_or_more", 0.01, None, "[vonStackelberg2016]",
     "CRS grade 4, children at the recommended dose (1%; n = 70, U)", 70),
]

# Validation: never used to fit anything. (..., patients in the published trial)
VALIDATION = [
    ("cohort_tower.toml", "approved_9_28", "p_complete_response", 0.44, (0.37, 0.50),
     "[Kantarjian2017]", "CR/CRh/CRi within 12 weeks (TOWER)", 271),
    ("cohort_tower.toml", "approved_9_28", "p_crs_grade2_or_more", 0.14, None,
     "[Kantarjian2017]", "CTCAE CRS any grade = ASTCT grade >= 2, cycle 1 (TOWER; label "
     "table)", 267),
    ("cohort_tower.toml", "approved_9_28", "p_crs_grade3_or_more", 0.049, None,
     "[Kantarjian2017]", "CRS grade >= 3, whole study (TOWER)", 267),
    ("cohort_mrd.toml", "mrd_15_ug_m2", "p_mrd_negative_cycle_1", 0.78, (0.69, 0.85),
     "[Gokbuget2018]", "complete MRD response after cycle 1 (BLAST)", 113),
    ("cohort_mrd.toml", "mrd_15_ug_m2", "p_crs_grade2_or_more", 4 / 116, None,
     "[Gokbuget2018]", "CTCAE CRS any grade = ASTCT grade >= 2 (BLAST: 2 grade 1, 2 grade 3)",
     116),
]

# The CRS readout columns and the thresholds behind them.
CRS_THRESHOLDS = {f"p_crs_grade{k}_or_more": f"theta_grade{k}" for k in (1, 2, 3, 4)}
# Seed of the virtual-trial draws in the CRS rows (any fixed word; this one spells "CRS").
CRS_INTERVAL_SEED = 0xC25
TRIAL_INTERVAL_SEED = 0x7121A1  # any fixed word; "trial"


def il6_table() -> list[tuple[str, str, str]]:
    """Median IL-6 per window, model (data), for the flat and stepped NHL arms (V8, V9)."""
    base = load_scenario(ROOT / "scenarios" / "flat_28.toml")
    columns = []
    for segments, data_file in IL6_ARMS.values():
        schedule = DosingSchedule(infusions=tuple(
            Infusion(a, b, rate_ug_per_m2_per_day=r) for a, b, r in segments))
        ts = run_scenario(dataclasses.replace(base, schedule=schedule, days=15.0)).timeseries
        rows = [(float(r["time_day"]), float(r["il6_pg_per_ml"]))
                for r in csv.DictReader((DATA / data_file).open())]
        cells = []
        for lo, hi in WINDOWS:
            window = ts[(ts["time_h"] >= lo * 24) & (ts["time_h"] < hi * 24)]
            observed = [x for t, x in rows if lo <= t < hi]
            data = f"{statistics.median(observed):.0f}" if observed else "n/a"
            cells.append(f"{window['il6_pg_per_ml'].median():.0f} ({data})")
        columns.append(cells)
    return [(f"{lo:g}-{hi:g}", a, b) for (lo, hi), a, b in zip(WINDOWS, *columns, strict=True)]


GRID: int | None = None  # --grid: every cohort's patch side, in voxels (default: the files')


def run_cohort_results(file: str, patients: int | None, folder: Path) -> pd.DataFrame:
    cohort = load_cohort(ROOT / "scenarios" / file)
    if patients:
        cohort = cohort.with_patients(min(patients, cohort.patients))
    if GRID:
        cohort = dataclasses.replace(cohort, arms=tuple(
            dataclasses.replace(a, scenario=dataclasses.replace(
                a.scenario, grid=dataclasses.replace(a.scenario.grid, width=GRID,
                                                     height=GRID)))
            for a in cohort.arms))
    if not REUSE:
        run_cohort(cohort, folder / cohort.name, workers=2)
    results = pd.read_csv(folder / cohort.name / "results.csv")
    return restate_crs(with_cycle_1_mrd(results), CrsParameters())


def with_cycle_1_mrd(results: pd.DataFrame) -> pd.DataFrame:
    """`p_mrd_negative_cycle_1`: P(MRD < 1e-4) at the first assessment (the end of cycle 1's
    infusion), BLAST's primary endpoint, from the per-assessment list of each run."""
    column = "p_mrd_negative_at_assessments"
    if column in results:
        results = results.copy()
        results["p_mrd_negative_cycle_1"] = [
            float(str(v).strip("[] ").split(",")[0]) for v in results[column]]
    return results


REUSE = False  # --reuse: tabulate the kept cohort runs without running anything
REUSE_NOTE = (" --keep FOLDER`, then again with `--reuse` (the same runs, tabulated again "
              "with the refitted defaults)")


def kept_patients(file: str, folder: Path) -> pd.DataFrame:
    """The covariates each virtual patient of a kept cohort run was drawn with."""
    return pd.read_csv(folder / Path(file).stem / "patients.csv")


def clone_line(file: str, results: pd.DataFrame, folder: Path) -> str:
    """How the CD19-negative clone, an event drawn per patient (docs/model.md s.11), fell in
    this virtual cohort: a handful of carriers among a few dozen responders moves the MRD
    share by several points, so the table's depth is read beside it. Also the share of
    responders whose residue at the end is mostly CD19-negative (a relapse from it would
    be CD19-negative, `outcomes.events.residual`), beside [Aldoss2025]'s 13% of responders
    (22 CD19-negative relapses among 169, after transplant in many: a floor)."""
    patients = kept_patients(file, folder)
    chance = next(c.present_probability for c in load_cohort(ROOT / "scenarios" / file).covariates
                  if c.name == "cd19_negative_fraction")
    both = results.merge(patients[["patient", "cd19_negative_fraction",
                                   "marrow_blast_fraction"]], on="patient")
    carrier = both["cd19_negative_fraction"].to_numpy() > 0.0
    cr = both["p_complete_response"].to_numpy()
    mrd = both["p_mrd_negative"].to_numpy()

    def mrd_share(among: np.ndarray) -> str:
        weight = cr[among].sum()
        return f"{100 * (cr * mrd)[among].sum() / weight:.1f}%" if weight > 0 else "n/a"

    negative = np.array([residual(row, row["marrow_blast_fraction"]).cd19_negative
                         for _, row in both.iterrows()])
    escape = f"{100 * (cr * negative).sum() / cr.sum():.1f}%" if cr.sum() > 0 else "n/a"
    return (f"{Path(file).stem}: {carrier.sum()} of {len(both)} virtual patients carry a "
            f"CD19-negative clone (the file's chance: {100 * chance:.0f}%), "
            f"{cr[carrier].sum():.1f} of the {cr.sum():.1f} expected responders; responders "
            f"are MRD-negative in {mrd_share(~carrier)} without one and {mrd_share(carrier)} "
            f"with one; {escape} of responders end with a mostly CD19-negative residue "
            "([Aldoss2025]: 13% of responders relapsed CD19-negative).")


def treg_line(file: str, results: pd.DataFrame, folder: Path) -> str:
    """CR of the virtual patients with and without suppressing regulatory T cells (a share of
    each cohort, docs/model.md s.5), beside [Duell2017]: none of the 14 of 42 r/r patients
    above 8.525% Tregs responded, 22 of the 28 below did. Checked, not fitted: the share is
    Duell's, and the suppression (0.7) was chosen beforehand on a cohort given it whole
    (s.5), not on these runs."""
    patients = kept_patients(file, folder)
    if "regulatory_suppression" not in patients:
        return f"{Path(file).stem}: no regulatory T-cell covariate."
    both = results.merge(patients[["patient", "regulatory_suppression"]], on="patient")
    high = both["regulatory_suppression"].to_numpy() > 0.0
    cr = both["p_complete_response"].to_numpy()
    share = (f"{100 * cr[~high].mean():.0f}%" if (~high).any() else "n/a")
    high_cr = f"{100 * cr[high].mean():.0f}%" if high.any() else "n/a"
    return (f"{Path(file).stem}: {high.sum()} of {len(cr)} virtual patients have suppressing "
            f"regulatory T cells; their CR {high_cr} (Duell: 0 of 14), the others' {share} "
            "(22 of 28, 79%, in a cohort whose CR was 52%; [Duell2017], R).")


# [Queudeville2023]: CR odds ratios against >= 50% marrow blasts, (estimate, low, high).
BURDEN_OR_25_50 = (3.50, 2.23, 5.48)
BURDEN_OR_5_25 = (3.93, 2.50, 6.18)


def burden_line(results: dict[str, pd.DataFrame], folder: Path) -> str:
    """CR by the marrow's blasts before treatment, below and at or above 50%, in the
    calibration cohorts pooled (adults and children, as [Queudeville2023] pooled them), as an
    odds ratio against that pooled analysis of five trials (683 patients): 3.50 (2.23-5.48)
    for 25-<50% against >= 50%, 3.93 (2.50-6.18) for 5-<25%, the two lower groups alike.
    Checked, not fitted: the pool may hold TOWER's patients, which are validation. The odds
    come from the expected counts with a half added to each cell (Haldane), so a group in
    which every virtual patient responds still gives a finite ratio; 95% bootstrap interval
    over the virtual patients."""
    rows = []
    for file, r in results.items():
        patients = kept_patients(file, folder)
        rows.append(r[["patient", "p_complete_response"]].merge(
            patients[["patient", "marrow_blast_fraction"]], on="patient"))
    both = pd.concat(rows, ignore_index=True)
    cr = both["p_complete_response"].to_numpy()
    high = both["marrow_blast_fraction"].to_numpy() >= 0.5

    def odds_ratio(index: np.ndarray) -> float:
        c, h = cr[index], high[index]
        low_odds = (c[~h].sum() + 0.5) / ((1 - c[~h]).sum() + 0.5)
        high_odds = (c[h].sum() + 0.5) / ((1 - c[h]).sum() + 0.5)
        return float(low_odds / high_odds)

    rng = np.random.default_rng(20230224)
    draws = [odds_ratio(rng.integers(0, len(cr), len(cr))) for _ in range(2000)]
    low, up = np.percentile(draws, [2.5, 97.5])
    ratio = odds_ratio(np.arange(len(cr)))
    a, b = BURDEN_OR_25_50, BURDEN_OR_5_25
    return (f"Response and burden (checked, not fitted): in the calibration cohorts pooled "
            f"({len(cr)} virtual patients), CR {100 * cr[~high].mean():.0f}% with marrow blasts "
            f"below 50% ({(~high).sum()} patients) and {100 * cr[high].mean():.0f}% at 50% or "
            f"more ({high.sum()}): an odds ratio of {ratio:.1f} ({low:.1f}-{up:.1f}), against "
            f"{a[0]:.2f} ({a[1]:.2f}-{a[2]:.2f}) for 25-<50% and {b[0]:.2f} ({b[1]:.2f}-"
            f"{b[2]:.2f}) for 5-<25% against >= 50% in five trials pooled ([Queudeville2023], "
            "R). " + _burden_verdict(ratio, low, int((~high).sum())))


def _burden_verdict(ratio: float, low: float, below: int) -> str:
    why = ("The model's response is decided by the marrow's effector-to-target ratio and, "
           "since 0.6, by the patient's regulatory T cells ([Duell2017]), which fail a third "
           "of patients at any burden; children carry more blasts (cohort_mt103_205.toml: "
           "median 74%).")
    highest = max(BURDEN_OR_25_50[2], BURDEN_OR_5_25[2])
    if low > highest:
        return "The model's response depends on burden more steeply than the trials'. " + why
    if ratio > highest:
        return ("The model's odds ratio is above the trials' interval, though its own interval "
                f"({below} virtual patients below 50%) still reaches it. " + why)
    return "The model's dependence on burden is within the trials'."


def tower_population_line(results: pd.DataFrame, folder: Path) -> str:
    """The virtual TOWER's burden against the trial's baseline table: a check of the design
    (who is in the virtual trial), never of TOWER's results. TOWER's blinatumomab arm had
    marrow blasts >= 50% in 74.2%, 10-<50% in 22.1% and 5-<10% in 3.3% ([Kantarjian2017]
    Table 1, R). CR reweighted to that mix, from the virtual patients' CR in each stratum,
    shows what the population alone moves."""
    patients = kept_patients("cohort_tower.toml", folder)
    arm = results[results["arm"] == "approved_9_28"].merge(
        patients[["patient", "marrow_blast_fraction"]], on="patient")
    blasts = arm["marrow_blast_fraction"].to_numpy()
    cr = arm["p_complete_response"].to_numpy()
    high = blasts >= 0.5
    line = (f"Population (design, not results): the virtual TOWER patients carry marrow blasts "
            f">= 50% in {100 * high.mean():.0f}% (median {100 * np.median(blasts):.0f}%), "
            "against TOWER's 74.2% ([Kantarjian2017] Table 1, R); the file's burden "
            "distribution (`cohort_tower.toml`, Beta(2.2, 1.5) on 5-90%) is an assumption.")
    if high.any() and (~high).any():
        mix = 0.742 * cr[high].mean() + 0.258 * cr[~high].mean()
        line += (f" Reweighted to the trial's mix, the virtual CR would read {100 * mix:.0f}% "
                 f"(CR {100 * cr[high].mean():.0f}% in the {high.sum()} virtual patients at "
                 f">= 50% and {100 * cr[~high].mean():.0f}% in the {(~high).sum()} below): a "
                 "population drawn to TOWER's table is the next calibration's design fix.")
    return line


def restate_crs(results: pd.DataFrame, crs: CrsParameters) -> pd.DataFrame:
    """The CRS columns recomputed from each run's peak exposure with the current thresholds.

    CRS is a readout of the run (docs/model.md s.10), never an input to it, so a kept run's
    CRS probabilities follow from its peak exposure; thresholds refitted after the runs
    need no rerun. Fever is grade >= 1."""
    out = results.copy()
    exposure = np.log10(np.maximum(out["peak_crs_exposure_pg_per_ml"].to_numpy(), 1e-12))
    for k, theta in enumerate(crs.thresholds(), start=1):
        out[f"p_crs_grade{k}_or_more"] = stats.norm.cdf(
            (exposure - theta) / crs.susceptibility_sd_log10)
    out["p_fever"] = out["p_crs_grade1_or_more"]
    return out


# Survival (docs/model.md s.13): two death hazards with active disease, fitted jointly on
# MT103-211's virtual cohort: after treatment (refractory or relapsed, one median) to the
# trial's median OS, and on treatment to the deaths during treatment of MT103-206 and
# MT103-211 pooled; the rest is checked.
SURVIVAL_FIT = ("cohort_mt103_211.toml", 6.1)  # median OS, months ([Topp2015], R-3p)
FAILURE_MEDIANS = np.round(np.arange(1.0, 12.0001, 0.05), 2)  # months, the fit's grid
ON_TREATMENT_TARGET = 34 / 225  # fatal adverse events, MT103-206 + 211 ([Stein2019], R-3p)
ON_TREATMENT_MEDIANS = np.round(np.arange(2.0, 60.0001, 0.25), 2)  # months


@dataclasses.dataclass(frozen=True)
class HazardFit:
    """Median survival (months) with active disease after treatment and on treatment."""

    failure_months: float
    on_treatment_months: float
    on_treatment_range: tuple[float, float] | None = None  # medians within the target's CI

    def rules(self) -> OutcomeRules:
        """The default outcome rules with these two hazards."""
        def per_day(months: float) -> float:
            return float(np.log(2.0) / (months * DAYS_PER_MONTH))

        after = per_day(self.failure_months)
        return OutcomeRules(hazards=dataclasses.replace(
            DeathHazards(), refractory=after, relapsed=after,
            on_treatment=per_day(self.on_treatment_months)))


DEFAULT_FIT = HazardFit(
    float(np.log(2.0) / HAZARD_RELAPSED_PER_DAY / DAYS_PER_MONTH),
    float(np.log(2.0) / HAZARD_ON_TREATMENT_PER_DAY / DAYS_PER_MONTH))


def survival_events(file: str, results: pd.DataFrame, folder: Path,
                    fit: HazardFit) -> pd.DataFrame:
    """Each virtual patient's events (bispecific.outcomes) under these hazards; the other
    rules are the defaults."""
    patients = kept_patients(file, folder)
    return patient_table(results, patients, fit.rules())


def died_on_treatment(events: pd.DataFrame) -> pd.Series:
    """Deaths during treatment as the trials count them: before the last dose plus the
    reporting window of treatment-emergent adverse events."""
    return events["death_day"].fillna(np.inf) <= (events["treatment_end_day"]
                                                  + TREATMENT_EMERGENT_DAYS)


_FITTED: dict[int, HazardFit] = {}


def _paths(file: str, results: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """Each patient's course without death or transplant: response day (NaN for none), end
    of treatment, relapse day (inf for none). What the death hazards act on."""
    quiet = OutcomeRules(hazards=DeathHazards(0.0, 0.0, 0.0, 0.0), transplant_probability=0.0,
                         follow_up_days=1e9)
    events = patient_table(results, kept_patients(file, folder),
                           quiet)
    return pd.DataFrame({
        "response": events["response_day"].where(events["response"].astype(bool)),
        "end": events["treatment_end_day"],
        "relapse": events["relapse_day"].fillna(np.inf)})


def expected_on_treatment_deaths(paths: pd.DataFrame, fit: HazardFit) -> float:
    """The expected share of patients dead before the last dose + TREATMENT_EMERGENT_DAYS:
    the mean over patients of 1 - exp(-H), H the cumulative hazard by then along each one's
    course. Smooth in the hazards, unlike a count of the draws' deaths."""
    h = fit.rules().hazards
    window = paths["end"].to_numpy() + TREATMENT_EMERGENT_DAYS
    response = paths["response"].to_numpy()
    relapse = paths["relapse"].to_numpy()
    responder = np.isfinite(response)
    r = np.where(responder, response, paths["end"].to_numpy())
    cumulative = h.on_treatment * np.minimum(r, window)
    remission_end = np.minimum(relapse, window)
    cumulative += np.where(responder, h.remission * np.maximum(remission_end - r, 0.0)
                           + h.relapsed * np.maximum(window - np.maximum(relapse, r), 0.0),
                           h.refractory * np.maximum(window - r, 0.0))
    return float(np.mean(1.0 - np.exp(-cumulative)))


def on_treatment_for(paths: pd.DataFrame, failure_months: float) -> float:
    """The on-treatment median (months, on its grid) whose expected share of deaths during
    treatment is nearest the target, given the after-treatment median."""
    shares = [expected_on_treatment_deaths(paths, HazardFit(failure_months, m))
              for m in ON_TREATMENT_MEDIANS]
    return float(ON_TREATMENT_MEDIANS[int(np.argmin(np.abs(np.array(shares)
                                                             - ON_TREATMENT_TARGET)))])


def fit_hazards(results: dict[str, pd.DataFrame], folder: Path) -> HazardFit:
    """The two hazards, fitted jointly on the virtual MT103-211 cohort: for each
    after-treatment median on its grid, the on-treatment median that gives the pooled share
    of deaths during treatment (in expectation over the patients' courses); of those pairs,
    the one whose median OS is nearest MT103-211's."""
    file, target = SURVIVAL_FIT
    key = id(results[file])
    if key in _FITTED:
        return _FITTED[key]
    paths = _paths(file, results[file], folder)
    pairs = [HazardFit(float(m), on_treatment_for(paths, float(m))) for m in FAILURE_MEDIANS]
    medians = [km_median(e["os_months"], e["os_event"])[0] for e in (
        survival_events(file, results[file], folder, fit) for fit in pairs)]
    fit = pairs[int(np.argmin(np.abs(np.array(medians) - target)))]
    # How well the data pin the on-treatment hazard: the medians whose expected share stays
    # within the 95% interval of 34 of 225.
    low, high = stats.binomtest(34, 225).proportion_ci(0.95, method="wilson")
    shares = np.array([expected_on_treatment_deaths(paths, dataclasses.replace(
        fit, on_treatment_months=m)) for m in ON_TREATMENT_MEDIANS])
    within = ON_TREATMENT_MEDIANS[(shares >= low) & (shares <= high)]
    fit = dataclasses.replace(fit, on_treatment_range=(
        (float(within.min()), float(within.max())) if within.size else None))
    _FITTED[key] = fit
    return fit


def on_treatment_span(fit: HazardFit) -> str:
    if fit.on_treatment_range is None:
        return "no median on the grid keeps the share within the target's 95% interval"
    low, high = fit.on_treatment_range
    top = " or more" if high >= ON_TREATMENT_MEDIANS[-1] else ""
    return (f"medians of {low:g} to {high:g} months{top} keep the share within the 95% "
            "interval of 34 of 225")


def survival_lines(results: dict[str, pd.DataFrame], tower: pd.DataFrame | None,
                   folder: Path, mrd: pd.DataFrame | None = None) -> list[str]:
    """Section 5: the failure hazard fitted to MT103-211's median OS; RFS, CD19-negative
    relapses and the children's survival checked; TOWER's OS as validation."""
    file, _ = SURVIVAL_FIT
    best = fit_hazards(results, folder)

    def row(cohort: str, readout: str, source: str, published: str,
            events: pd.DataFrame, what: str) -> str:
        if what == "os":
            m = km_median(events["os_months"], events["os_event"])
        else:
            rfs = relapse_free(events)
            m = km_median(rfs["rfs_months"], rfs["rfs_event"])
        n = len(events) if what == "os" else int(events["response"].sum())
        return (f"| {cohort} | {readout} | {source} | {published} | {m[0]:.1f} "
                f"({m[1]:.1f}-{m[2]:.1f}; {n} virtual patients) |")

    adults = survival_events(file, results[file], folder, best)
    on_treatment = died_on_treatment(adults)
    children = survival_events("cohort_mt103_205.toml", results["cohort_mt103_205.toml"],
                               folder, best)
    relapsed = adults[adults["relapse_day"].notna()]
    negative = (f"{100 * relapsed['relapse_cd19_negative'].mean():.0f}% "
                f"({int(relapsed['relapse_cd19_negative'].sum())} of {len(relapsed)})"
                if len(relapsed) else "n/a")
    lines = ["", "## 5. Survival (docs/model.md s.13)", "",
             "Each virtual patient's response, relapse (the residue regrown at the patient's "
             "rate), transplant (32 of 81 responders, censored) and death (a hazard by "
             "disease state from the first day of treatment, so deaths during the courses "
             "count) from the runs above; Kaplan-Meier medians with 95% intervals (lifelines) "
             "over the virtual patients, so the intervals are those of the virtual cohort's "
             "size, not the trial's. **Fitted** jointly on the virtual MT103-211 cohort: the "
             "median survival with active disease after treatment (refractory or relapsed) "
             f"over {FAILURE_MEDIANS[0]:g}-{FAILURE_MEDIANS[-1]:g} months in steps of 0.05, "
             "each with the median survival with active disease on treatment that gives the "
             "share of patients who died during treatment (fatal adverse events in 34 of "
             f"225, {100 * ON_TREATMENT_TARGET:.1f}%, MT103-206 and MT103-211 pooled, "
             "[Stein2019], R-3p; in expectation over the virtual patients' courses, over "
             f"{ON_TREATMENT_MEDIANS[0]:g}-{ON_TREATMENT_MEDIANS[-1]:g} months in steps of "
             "0.25); of those pairs, the one whose median OS is nearest MT103-211's: "
             f"**{best.failure_months:.2f} months** after treatment and "
             f"**{best.on_treatment_months:.2f} months** on treatment (the defaults in "
             f"`outcomes/constants.py`: {DEFAULT_FIT.failure_months:.2f} and "
             f"{DEFAULT_FIT.on_treatment_months:.2f}; {on_treatment_span(best)}). Most of "
             "those deaths fall in the 30 days after the last dose, at the after-treatment "
             "hazard, so the on-treatment hazard is weakly pinned. The rest is checked, not "
             "fitted; TOWER is validation.", "",
             "| cohort | readout | source | published | model (months) |",
             "|---|---|---|---|---|",
             row("cohort_mt103_211", "median OS (fitted)", "[Topp2015]", "6.1", adults, "os"),
             row("cohort_mt103_211", "median RFS of CR/CRh responders (checked)", "[Topp2015]",
                 "5.9", adults, "rfs"),
             row("cohort_mt103_205", "median OS, children (checked)", "[vonStackelberg2016]",
                 "8 (R-3p)", children, "os"),
             row("cohort_mt103_205", "median RFS of responders, children (checked)",
                 "[vonStackelberg2016]", "6 (R-3p)", children, "rfs")]
    if tower is not None:
        approved = tower[tower["arm"] == "approved_9_28"]
        lines.append(row("cohort_tower", "median OS, blinatumomab arm (validation)",
                         "[Kantarjian2017]", "7.7", survival_events(
                             "cohort_tower.toml", approved, folder, best), "os"))
    if mrd is not None:
        # BLAST's RFS of complete MRD responders: those whose P(MRD < 1e-4) after cycle 1
        # is >= 0.5, followed through their (up to four) cycles.
        treated = mrd[mrd["arm"] == "mrd_15_ug_m2"]
        deep = treated[treated["p_mrd_negative_cycle_1"] >= 0.5]
        events = survival_events("cohort_mrd.toml", deep, folder, best)
        lines.append(row("cohort_mrd", "median RFS of complete MRD responders after cycle 1, "
                         "up to four cycles (validation)", "[Gokbuget2018]",
                         "23.6 (U)", events, "rfs"))
    died = int(on_treatment.sum())
    expected = expected_on_treatment_deaths(_paths(file, results[file], folder), best)
    lines += ["", f"Deaths during treatment (before the last dose + "
              f"{TREATMENT_EMERGENT_DAYS:g} days) among the virtual MT103-211 patients: "
              f"{100 * expected:.1f}% in expectation (fitted to 34 of 225, "
              f"{100 * ON_TREATMENT_TARGET:.1f}%, [Stein2019]); {died} of {len(adults)} "
              f"({100 * died / len(adults):.1f}%) in the draws. The virtual MT103-211 cohort "
              "gives two cycles to everyone; the trial gave responders up to five, at the "
              "low remission hazard."]
    lines += ["", f"CD19-negative relapses among the virtual MT103-211 relapses: {negative} "
              "(checked: 22.5% of relapses over ten series, [Locatelli2023]; 28%, "
              "[Aldoss2025])."]
    return lines


# The chemotherapy comparator (docs/model.md s.14): the blast log10 kill per course fitted
# to INO-VATE's standard-of-care CR/CRi ([Kantarjian2016], R-3p: 29.4% of the first 218),
# on the virtual phase 3's chemotherapy arm (TOWER's population: its covariates, not its
# results); never TOWER's own arm.
PHASE3 = "cohort_tower_phase3.toml"
CHEMO_TARGET = 0.294  # CR/CRi, INO-VATE standard of care
CHEMO_KILLS = (0.9, 1.1, 1.3, 1.5)  # log10 per course, the scan
CHEMO_PATIENTS = 30


def chemo_scan(folder: Path) -> tuple[pd.DataFrame, float]:
    """The chemotherapy arm at each blast kill of the scan (the same patients), and the kill
    where the mean CR crosses the target (linear between the scan's points, to 0.05)."""
    cohort = load_cohort(ROOT / "scenarios" / PHASE3)
    chemo = next(a for a in cohort.arms if a.name == "chemotherapy")
    arms = []
    for kill in CHEMO_KILLS:
        courses = tuple(dataclasses.replace(c, blast_log10_kill=kill)
                        for c in chemo.scenario.chemotherapy)
        arms.append(dataclasses.replace(chemo, name=f"kill_{kill:g}".replace(".", "p"),
                                        scenario=dataclasses.replace(chemo.scenario,
                                                                     chemotherapy=courses)))
    # The scan's arms are not the phase 3's: no survival analysis against its arms.
    cohort = dataclasses.replace(cohort, arms=tuple(arms), name="chemo_scan",
                                 survival=None).with_patients(CHEMO_PATIENTS)
    if not REUSE:
        run_cohort(cohort, folder / cohort.name, workers=2)
    results = pd.read_csv(folder / cohort.name / "results.csv")
    cr = results.groupby("arm", sort=False)["p_complete_response"].mean().to_numpy()
    fitted = float("nan")
    for i in range(len(cr) - 1):
        if cr[i] <= CHEMO_TARGET <= cr[i + 1]:
            x = CHEMO_KILLS[i] + (CHEMO_KILLS[i + 1] - CHEMO_KILLS[i]) * (
                (CHEMO_TARGET - cr[i]) / (cr[i + 1] - cr[i]))
            fitted = round(x * 20) / 20
            break
    return results, fitted


def phase3_lines(folder: Path, fit: HazardFit) -> list[str]:
    """Section 6: the chemotherapy fit, then the virtual phase 3 (validation): every patient
    in both arms, CR and survival by arm, the Cox hazard ratio (bispecific.cohorts.survival),
    the survival figure copied to docs/figures/phase3_survival.png."""
    scan, fitted = chemo_scan(folder)
    cr = scan.groupby("arm", sort=False)["p_complete_response"].mean()
    lines = ["", "## 6. The chemotherapy comparator and a virtual phase 3", "",
             "**Fitted**: the blast kill of a salvage course (docs/model.md s.14), on the "
             f"virtual phase 3's chemotherapy arm ({CHEMO_PATIENTS} patients with TOWER's "
             "covariates, two courses), to the CR/CRi of INO-VATE's standard-of-care arm, "
             f"{100 * CHEMO_TARGET:.1f}% ([Kantarjian2016], R-3p; never TOWER's own arm). CR "
             "at each log10 kill per course: " + ", ".join(
                 f"{k:g}: {100 * v:.1f}%" for k, v in zip(CHEMO_KILLS, cr, strict=True))
             + f"; the crossing, to 0.05: **{fitted:.2f}** (the default in "
             f"`pharmacology/chemotherapy.py`: {BLAST_LOG10_KILL:.2f}). The steep rise "
             "is the model's single instant kill (s.14): the same factor for every blast, "
             "so the burden alone decides who crosses 5%."]
    cohort = load_cohort(ROOT / "scenarios" / PHASE3)
    out = folder / cohort.name
    if not REUSE:
        run_cohort(cohort, out, workers=2)
    results = pd.read_csv(out / "results.csv")
    paths = write_survival(out, reference="chemotherapy", rules=fit.rules())
    table = pd.read_csv(paths["survival"])
    figure = ROOT / "docs" / "figures" / "phase3_survival.png"
    figure.write_bytes(Path(paths["figure"]).read_bytes())
    os_rows = table[table["endpoint"] == "os"].set_index("arm")
    blin, chemo = os_rows.loc["blinatumomab"], os_rows.loc["chemotherapy"]
    cr_arm = results.groupby("arm")["p_complete_response"].mean()
    lines += ["", f"**Validation**: `scenarios/{PHASE3}` ({cohort.patients} virtual patients "
              "with TOWER's covariates, each in both arms: a paired design, so the hazard "
              "ratio's interval treats the arms as independent and is descriptive). Nothing "
              "here was fitted to TOWER.", "",
              "| readout | TOWER, blinatumomab vs chemotherapy | model |", "|---|---|---|",
              f"| CR/CRh/CRi within 12 weeks | 44% vs 25% ([Kantarjian2017], R) | "
              f"{100 * cr_arm['blinatumomab']:.0f}% vs {100 * cr_arm['chemotherapy']:.0f}% |",
              f"| median OS, months | 7.7 vs 4.0 ([Kantarjian2017], U) | "
              f"{blin['median_months']:.1f} ({blin['median_low']:.1f}-{blin['median_high']:.1f})"
              f" vs {chemo['median_months']:.1f} ({chemo['median_low']:.1f}-"
              f"{chemo['median_high']:.1f}) |",
              f"| hazard ratio for death | 0.71 (0.55-0.93) ([Kantarjian2017], U) | "
              f"{blin['hazard_ratio']:.2f} ({blin['hr_low']:.2f}-{blin['hr_high']:.2f}) |",
              "", "Read it with the stated limits (docs/model.md s.13-14): the blinatumomab "
              "arm gives consolidation (cycles 3-5) to patients in remission after two "
              "cycles and stops at relapse (`[stopping]`), the chemotherapy arm gives two "
              "courses to everyone; the chemotherapy arm's responders are near the 5% "
              "threshold after a single instant kill per course, so they relapse within "
              "weeks to a few months; and the death hazards, fitted on MT103-206 and -211, "
              "serve every population and arm, so neither arm's survival here is fitted to "
              "anything about TOWER.",
              "", "![Virtual phase 3: overall and event-free survival by arm]"
              "(figures/phase3_survival.png)"]
    return lines


AGREEMENT_COHORT = "cohort_mt103_211.toml"
DOSE_RESPONSE = "cohort_mt103_206.toml"
# Any fixed word gives other seeds; this one spells "seed" in hex.
OTHER_SEEDS = 0x5EED


def _other_seed_cr(index: int, grid: int | None) -> float:
    cohort = load_cohort(ROOT / "scenarios" / AGREEMENT_COHORT)
    scenario = patient_scenario(cohort.arms[0], cohort.patient(index),
                                cohort.run_seed(index) ^ OTHER_SEEDS)
    if grid:  # the same patch as the first runs (a worker process does not see GRID)
        scenario = dataclasses.replace(scenario, grid=dataclasses.replace(
            scenario.grid, width=grid, height=grid))
    return float(run_scenario(scenario).summary["p_complete_response"])


def seed_agreement(results: pd.DataFrame, keep: Path | None) -> str:
    """The same patients run again with other seeds: how often the two runs agree on CR
    (probability of CR on either side of 1/2) and how far their probabilities differ. With
    `keep`, the second runs are saved there by seed and version, and reused."""
    results = results.sort_values("patient")
    first = results["p_complete_response"].to_numpy()
    cache = keep / "seed_agreement.csv" if keep else None
    seeds = [int(x) ^ OTHER_SEEDS for x in results["seed"]]
    if cache and cache.exists():
        saved = pd.read_csv(cache)
        if saved["seed"].astype(str).tolist() == [str(x) for x in seeds] and \
                (saved["version"] == __version__).all():
            second = saved["p_complete_response"].to_numpy()
            return _agreement_line(first, second)
    with ProcessPoolExecutor(2) as pool:
        second = np.array(list(pool.map(_other_seed_cr, range(len(first)),
                                        [GRID] * len(first))))
    if cache:
        pd.DataFrame({"patient": results["patient"], "seed": [str(x) for x in seeds],
                      "version": __version__, "p_complete_response": second}
                     ).to_csv(cache, index=False)
    return _agreement_line(first, second)


def _agreement_line(first: np.ndarray, second: np.ndarray) -> str:
    agree, low, high = mean_interval(((first >= 0.5) == (second >= 0.5)).astype(float))
    return (f"Two seeds of each of the {len(first)} patients of "
            f"{AGREEMENT_COHORT.removesuffix('.toml')} agree on CR in {100 * agree:.0f}% "
            f"(95% interval {100 * low:.0f}-{100 * high:.0f}%); mean |difference| in the "
            f"probability of CR {np.mean(np.abs(first - second)):.2f}; CR rate "
            f"{100 * first.mean():.1f}% and {100 * second.mean():.1f}%.")


def shape_table(tower: pd.DataFrame, mrd: pd.DataFrame) -> list[str]:
    """What the validation cohorts show beyond single numbers: schedules, burden, MRD."""
    def row(label: str, r: pd.DataFrame) -> str:
        cells = [rate_cell(r[c].to_numpy()) for c in
                 ("p_complete_response", "p_mrd_negative", "p_cd19_negative_escape",
                  "p_crs_grade1_or_more", "p_crs_grade2_or_more", "p_crs_grade3_or_more")]
        return (f"| {label} | {len(r)} | " + " | ".join(cells) +
                f" | {r['peak_il6_pg_per_ml'].median():,.0f} |")

    lines = ["| group | patients | CR (best, 2 cycles) | MRD < 1e-4 | CD19- escape | "
             "fever (grade >= 1) | CRS grade >= 2 | CRS grade >= 3 | median peak IL-6 "
             "(pg/mL) |", "|---|---|---|---|---|---|---|---|---|"]
    for arm in tower["arm"].unique():
        lines.append(row(f"TOWER, {arm}", tower[tower["arm"] == arm]))
    approved = tower[tower["arm"] == tower["arm"].iloc[0]].copy()
    burden = approved["initial_blasts"] / (approved["initial_blasts"]
                                           + approved["initial_normal_cells"]
                                           + approved["initial_t_cells"])
    lines.append(row("TOWER approved, marrow blasts < 50%", approved[burden < 0.5]))
    lines.append(row("TOWER approved, marrow blasts >= 50%", approved[burden >= 0.5]))
    treated = mrd[mrd["arm"] == mrd["arm"].iloc[0]]
    lines.append(row("BLAST (MRD), 15 ug/m^2/day", treated))
    return lines


def fit_thresholds(exposures: dict[str, np.ndarray], crs: CrsParameters) -> dict[str, float]:
    """Thresholds on log10 exposure whose mean probabilities meet the CRS targets above: each
    grade on its own published rates (grade 2 on the CTCAE any-grade rate, s.10's mapping),
    several trials weighted by their binomial information n / (p (1 - p))."""
    sd = crs.susceptibility_sd_log10
    fitted = {}
    for column, name in CRS_THRESHOLDS.items():
        targets = [(file, value, n) for file, col, value, _, _, _, n in CALIBRATION
                   if col == column]

        def gap(theta, targets=targets):
            return sum(n / (v * (1 - v)) * (
                np.mean(stats.norm.cdf((np.log10(exposures[f]) - theta) / sd)) - v)
                for f, v, n in targets)

        fitted[name] = float(optimize.brentq(gap, -2.0, 8.0))
    return fitted


def threshold_errors(exposures: dict[str, np.ndarray], crs: CrsParameters) -> dict[str, float]:
    """Each threshold's standard error (log10) from the size of the trials it is calibrated
    on: the binomial sampling of each published rate carried through the cohort's probit
    slope (`threshold_standard_error`), pooled over trials by inverse variance."""
    sd = crs.susceptibility_sd_log10
    errors = {}
    for column, name in CRS_THRESHOLDS.items():
        errors[name] = pooled_standard_error([
            threshold_standard_error(value, n, np.log10(exposures[file]), sd)
            for file, col, value, _, _, _, n in CALIBRATION if col == column])
    return errors


def crs_interval(results: pd.DataFrame, column: str, n_trial: int,
                 errors: dict[str, float], crs: CrsParameters) -> tuple[float, float, float]:
    """A CRS rate with the 95% interval a trial of `n_trial` such patients would report:
    n patients drawn with their outcomes, and the threshold drawn from its sampling
    distribution (`crs_rate_interval`, docs/model.md s.10)."""
    name = CRS_THRESHOLDS[column]
    return crs_rate_interval(
        np.log10(results["peak_crs_exposure_pg_per_ml"].to_numpy()),
        crs.susceptibility_sd_log10, getattr(crs, name), errors[name], n_trial,
        np.random.default_rng(CRS_INTERVAL_SEED))


def rate_interval(values: np.ndarray, n_trial: int | None = None) -> tuple[float, float, float]:
    """A response rate: the cohort's mean with the 95% interval a trial of `n_trial` such
    patients would report (bispecific/cohorts/trial.py), or over patients alone (bootstrap)
    where the trial's size is not known."""
    if n_trial:
        return trial_rate_interval(values, n_trial, np.random.default_rng(TRIAL_INTERVAL_SEED))
    return mean_interval(values)


def readout_interval(results: pd.DataFrame, column: str, n_trial: int | None = None,
                     errors: dict[str, float] | None = None) -> tuple[float, float, float]:
    """A readout's cohort rate with the interval of a trial of the published size: CRS rows
    with the thresholds' uncertainty (`crs_interval`); MRD_AMONG_CR as the share of a
    trial's responders (`trial_conditional_interval`)."""
    if column in CRS_THRESHOLDS and n_trial and errors is not None:
        return crs_interval(results, column, n_trial, errors, CrsParameters())
    if column != MRD_AMONG_CR:
        return rate_interval(results[column].to_numpy(), n_trial)
    return trial_conditional_interval(
        results["p_complete_response"].to_numpy(), results["p_mrd_negative"].to_numpy(),
        n_trial or len(results), np.random.default_rng(TRIAL_INTERVAL_SEED))


def published_interval(rate: float, n_trial: int | None) -> tuple[float, float] | None:
    """The Wilson 95% interval of a published rate from its trial's size, where the source
    gives no interval of its own (and none where the size is not known)."""
    if not n_trial:
        return None
    z = 1.959964
    centre = (rate + z * z / (2 * n_trial)) / (1 + z * z / n_trial)
    half = z * np.sqrt(rate * (1 - rate) / n_trial + z * z / (4 * n_trial**2)) / (
        1 + z * z / n_trial)
    return float(centre - half), float(centre + half)


def cell(interval: tuple[float, float, float], n_trial: int | None = None) -> str:
    rate, low, high = interval
    size = f"; n = {n_trial}" if n_trial else ""
    return f"{100 * rate:.1f}% ({100 * low:.1f}-{100 * high:.1f}{size})"


def rate_cell(values: np.ndarray, n_trial: int | None = None) -> str:
    return cell(rate_interval(values, n_trial), n_trial)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, help="patients per cohort, at most the file's")
    ap.add_argument("--validate", action="store_true", help="also run the validation cohorts")
    ap.add_argument("--validation-patients", type=int,
                    help="patients per validation or dose-response cohort (default: --patients)")
    ap.add_argument("--fit", action="store_true", help="print CRS thresholds fitted to targets")
    ap.add_argument("--seed-agreement", action="store_true",
                    help="rerun the MT103-211 patients with other seeds and compare CR")
    ap.add_argument("--keep", type=Path, help="folder for the cohort runs (kept; resumes)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "calibration.md")
    ap.add_argument("--grid", type=int, help="patch side for every cohort (default: files')")
    ap.add_argument("--reuse", action="store_true",
                    help="with --keep: tabulate the kept runs again (e.g. after refitting the "
                         "CRS thresholds, which only read the runs) without running any")
    args = ap.parse_args()
    global GRID, REUSE
    GRID = args.grid
    REUSE = args.reuse
    if REUSE and not args.keep:
        ap.error("--reuse needs --keep FOLDER (the runs to tabulate)")

    checks = args.validation_patients or args.patients
    lines = ["# Calibration and validation", "",
             f"Generated by `python docs/calibrate.py{' --validate' if args.validate else ''}"
             f"{' --fit' if args.fit else ''}{' --seed-agreement' if args.seed_agreement else ''}"
             f"{f' --patients {args.patients}' if args.patients else ''}"
             f"{f' --validation-patients {checks}' if args.validation_patients else ''}"
             f"{f' --grid {args.grid}' if args.grid else ''}"
             f"{REUSE_NOTE if args.reuse else '`'} "
             f"with bispecific {__version__}. Sources are keyed to `docs/references.md`; the "
             "model is described in `docs/model.md` (s.9-11, 13).", "",
             "## 1. Cytokines: IL-6 of lymphoma patients (V8, V9; calibration)", "",
             "Median plasma IL-6 (pg/mL) per window, model (data): the default patient under 60 "
             "ug/m^2/day flat or 5 -> 15 -> 60 ug/m^2/day stepped weekly. Fitted at the "
             "marrow's exposure of 0.4: the desensitisation gain (the least log-misfit of the "
             "first two windows of both arms among 0.05, 0.15, 0.5 and 1.5 /h) and "
             "`ifng_fg_per_synapse_min` (scale: the flat arm's day-0 median); the recovery "
             "(60 days) is kept. The misfit to read: the stepped arm's first days sit well "
             "above the data. At 5 ug/m^2/day the marrow already sees about the in-vitro "
             "EC50 (s.3.5), so the model's release rises less with dose than these lymphoma "
             "patients' IL-6 did; their disease was in lymph nodes, which this marrow patch "
             "does not represent.",
             "", "| days | flat 60 | stepped 5 -> 15 -> 60 |", "|---|---|---|"]
    lines += [f"| {w} | {a} | {b} |" for w, a, b in il6_table()]
    print("\n".join(lines[-6:]), flush=True)

    points: list[Point] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        results = {f: run_cohort_results(f, args.patients, folder)
                   for f in sorted({c[0] for c in CALIBRATION})}
        exposures = {f: r["peak_crs_exposure_pg_per_ml"].to_numpy() for f, r in results.items()}
        errors = threshold_errors(exposures, CrsParameters())
        lines += ["", "## 2. Response and CRS (calibration cohorts)", "",
                  "Each cohort is a virtual version of a calibration trial (its file says how); "
                  "rates are means of the patients' probabilities. Response rows: the 95% "
                  "interval a trial of the published size n would report, drawing n patients "
                  "from the virtual cohort with their outcomes (`trial_rate_interval`). CRS "
                  "rows (ASTCT grades; grade >= 1 is "
                  "fever, and a trial's CTCAE CRS of any grade is read as grade >= 2, "
                  "`docs/model.md` s.10): the 95% interval a trial of the published size n "
                  "would report, drawing n patients with their outcomes and the thresholds "
                  "from their sampling distribution (`crs_rate_interval`); each threshold's "
                  "standard error comes from the size of the trials it is calibrated on: "
                  + ", ".join(f"`{k}` {v:.3f}" for k, v in errors.items()) + " log10. "
                  "Fitted: `exhaustion_per_synapse` (response: CR and MRD among responders of "
                  "both cohorts, with the regulatory T cells of docs/model.md s.5) and the CRS "
                  "thresholds.", "",
                  "| cohort | readout | source | published | model |", "|---|---|---|---|---|"]
        for file, column, value, ci, source, what, n_trial in CALIBRATION:
            published = f"{100 * value:.0f}%" + (f" ({100 * ci[0]:.0f}-{100 * ci[1]:.0f})"
                                                 if ci else "")
            interval = readout_interval(results[file], column, n_trial, errors)
            # A share among responders is a rate out of the responders, not the patients.
            among = n_trial and column == MRD_AMONG_CR and round(n_trial * next(
                c[2] for c in CALIBRATION if c[0] == file and c[1] == "p_complete_response"))
            points.append(Point("calibration", file.removesuffix(".toml"), what, value,
                                ci or published_interval(value, among or n_trial), interval))
            lines.append(f"| {file.removesuffix('.toml')} | {what} | {source} | {published} | "
                         f"{cell(interval, n_trial)} |")
        lines += ["", "Depth and the CD19-negative clone: " + " ".join(
            clone_line(f, r, folder) for f, r in results.items()), "", burden_line(results, folder),
            "", "Regulatory T cells (checked): " + " ".join(
                treg_line(f, r, folder) for f, r in results.items())]
        print("\n".join(lines[-len(CALIBRATION) - 6:]), flush=True)
        if args.fit:
            fitted = fit_thresholds(exposures, CrsParameters())
            now = dataclasses.asdict(CrsParameters())
            lines += ["", "CRS thresholds (log10 pg/mL) solved on these cohorts, against the "
                      "defaults: " + ", ".join(f"`{k}` {v:.3f} ({now[k]:.2f}, SE {errors[k]:.3f})"
                                               for k, v in sorted(fitted.items())) + "."]
            far = [k for k, v in fitted.items() if abs(v - now[k]) > 2 * errors[k]]
            lines[-1] += (" Every shift is within 2 SE of the threshold's own uncertainty, so "
                          "the defaults are kept." if not far else
                          f" {', '.join(far)} moved by more than 2 SE: update the defaults in "
                          "readouts/crs.py.")
            if list(fitted.values()) != sorted(fitted.values()):
                lines[-1] += (" The solved thresholds are out of order (the grades' targets "
                              "come from different trials); pool the crossing grades.")
            print(lines[-1], flush=True)
        if args.seed_agreement:
            lines += ["", "Simulation noise: " + seed_agreement(results[AGREEMENT_COHORT],
                                                                args.keep)]
            print(lines[-1], flush=True)

        lines += ["", "### Dose response: the marrow's exposure against MT103-206 (checked, "
                  "not fitted)", "",
                  "[Topp2014] treated 36 adults at 5, 15 and 30 ug/m^2/day and chose 15 "
                  "because response was similar at 15 and 30; CR/CRh over the trial 69%. The "
                  "same virtual adults at each dose, one cycle (docs/model.md s.3.5; "
                  "intervals for a trial arm of 12):", "",
                  "| dose (ug/m^2/day) | CR/CRh, cycle 1 | MRD < 1e-4 | median log10 "
                  "reduction |", "|---|---|---|---|"]
        dose = run_cohort_results(DOSE_RESPONSE, checks, folder)
        for arm, r in dose.groupby("arm", sort=False):
            cr = rate_cell(r["p_complete_response"].to_numpy(), 12)
            mrd = rate_cell(r["p_mrd_negative"].to_numpy(), 12)
            lines.append(f"| {arm.split('_')[1]} | {cr} | {mrd} | "
                         f"{r['blast_log10_reduction'].median():.1f} |")
        print("\n".join(lines[-5:]), flush=True)

        if args.validate:
            lines += ["", "## 3. Validation: trials the model was never fitted to", "",
                      "Intervals as in section 2: CRS rows for a trial of the published size "
                      "with the thresholds' uncertainty, other rows by bootstrap.", "",
                      "| cohort | readout | source | published | model |",
                      "|---|---|---|---|---|"]
            validation = {}
            for file in sorted({v[0] for v in VALIDATION}):
                r = validation[file] = run_cohort_results(file, checks, folder)
                for f, arm, column, value, ci, source, what, n_trial in VALIDATION:
                    if f != file:
                        continue
                    published = f"{100 * value:.0f}%" + (
                        f" ({100 * ci[0]:.0f}-{100 * ci[1]:.0f})" if ci else "")
                    interval = readout_interval(r[r["arm"] == arm], column, n_trial, errors)
                    points.append(Point("validation", file.removesuffix(".toml"), what, value,
                                        ci or published_interval(value, n_trial), interval))
                    lines.append(f"| {file.removesuffix('.toml')} | {what} | {source} | "
                                 f"{published} | {cell(interval, n_trial)} |")
            lines += ["", tower_population_line(validation["cohort_tower.toml"], folder)]
            print("\n".join(lines[-len(VALIDATION) - 4:]), flush=True)
            lines += ["", "## 4. Validation: how the outcomes move", "",
                      "The same virtual TOWER patients under three schedules, split by burden "
                      "on the approved arm, and the virtual BLAST patients (already in "
                      "haematological CR: read their MRD column). Means of the patients' "
                      "probabilities, 95% bootstrap intervals over the virtual patients; "
                      "nothing here was fitted.", ""]
            lines += shape_table(validation["cohort_tower.toml"],
                                 validation["cohort_mrd.toml"])
            print("\n".join(lines[-10:]), flush=True)
            lines += survival_lines(results, validation["cohort_tower.toml"], folder,
                                    validation["cohort_mrd.toml"])
            print("\n".join(lines[-10:]), flush=True)
            lines += phase3_lines(folder, fit_hazards(results, folder))
            print("\n".join(lines[-10:]), flush=True)
    figure = args.out.parent / "figures" / "model_vs_data.png"
    model_vs_data(points, figure)
    lines += ["", "## Model and data together", "",
              "Each published rate (black, with its 95% interval: the source's, else Wilson's "
              "for the trial's size) "
              "beside the model's (colour: the interval a trial of the published size would "
              "report); calibration above, validation below.", "",
              f"![Model against data]({figure.relative_to(args.out.parent).as_posix()})"]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
