"""A cohort's trial outputs: per-patient event times, Kaplan-Meier OS and EFS by arm, the
hazard ratio between arms (Cox model), landmark rates and a survival plot
(docs/model.md s.13).

Event times come from each run's summary through `bispecific.outcomes` (extrapolated
regrowth to relapse, death by disease state, transplant censored); the survival statistics
come from lifelines, not from code written here. lifelines is the `trial` extra and is
imported only when survival is asked for.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.core.parameters import ModelParameters
from ..outcomes.constants import DAYS_PER_MONTH
from ..outcomes.events import DEFAULT_RULES, OutcomeRules, patient_events
from ..outputs.files import atomic_write_text

LANDMARK_MONTHS = (6.0, 12.0, 24.0)  # months
ENDPOINTS = ("os", "efs")
RANDOMISE_SEED = 20_170_302  # the allocation generator's fixed first key (TOWER, NEJM 2017)


class SurvivalError(ValueError):
    """A cohort folder that cannot give survival curves (one line for the user)."""


def require_lifelines() -> None:
    """Raise SurvivalError with the install line when lifelines is missing."""
    try:
        import lifelines  # noqa: F401
    except ImportError as exc:
        raise SurvivalError("survival needs lifelines (the trial extra): "
                            "pip install -e '.[trial]'") from exc


def patient_table(results: pd.DataFrame, patients: pd.DataFrame,
                  rules: OutcomeRules = DEFAULT_RULES) -> pd.DataFrame:
    """One row per patient and arm: response, relapse, transplant, death, OS and EFS in days
    and months. Kinetics come from the patient's covariates when drawn, else the model's
    defaults (an arm's own parameter overrides are not read: stated limit)."""
    defaults = ModelParameters()
    by_patient = patients.set_index("patient") if "patient" in patients else patients
    rows = []
    for r in results.to_dict("records"):
        p = by_patient.loc[r["patient"]] if r["patient"] in by_patient.index else {}
        division = float(p.get("blast_division_per_day", defaults.blast_division_per_day))
        apoptosis = float(p.get("blast_apoptosis_per_day", defaults.blast_apoptosis_per_day))
        fraction = float(p.get("marrow_blast_fraction", math.nan))
        if not math.isfinite(fraction):
            raise SurvivalError(f"patient {r['patient']}: no marrow_blast_fraction in "
                                "patients.csv")
        e = patient_events(r, fraction, division, apoptosis, rules)
        rows.append({"patient": r["patient"], "arm": r["arm"], **e.as_row()})
    table = pd.DataFrame(rows)
    for key in ENDPOINTS:
        table[f"{key}_months"] = table[f"{key}_days"] / DAYS_PER_MONTH
    return table


def relapse_free(events: pd.DataFrame) -> pd.DataFrame:
    """Relapse-free survival of the responders, as the trials report it ([Topp2015]): from
    the response day to relapse or death, censored as EFS is (transplant, end of follow-up).
    Columns: patient, arm, rfs_months, rfs_event."""
    r = events[events["response"].astype(bool)]
    return pd.DataFrame({"patient": r["patient"].to_numpy(), "arm": r["arm"].to_numpy(),
                         "rfs_months": ((r["efs_days"] - r["response_day"]) / DAYS_PER_MONTH
                                        ).to_numpy(float),
                         "rfs_event": r["efs_event"].astype(bool).to_numpy()})


def _at(frame: pd.DataFrame, t: float) -> pd.Series:
    """A step function's value at t (the last row at or before t)."""
    return frame[frame.index <= t].iloc[-1]


def _median_ci(kmf) -> tuple[float, float, float]:
    """A fitted Kaplan-Meier curve's median and its 95% interval (lifelines)."""
    from lifelines.utils import median_survival_times

    ci = median_survival_times(kmf.confidence_interval_)
    return float(kmf.median_survival_time_), float(ci.iloc[0, 0]), float(ci.iloc[0, 1])


def km_median(months: Sequence[float], event: Sequence[bool]) -> tuple[float, float, float]:
    """The Kaplan-Meier median of event times (months; event False = censored) with its 95%
    interval, from lifelines."""
    from lifelines import KaplanMeierFitter

    return _median_ci(KaplanMeierFitter().fit(np.asarray(months, float),
                                              np.asarray(event, bool)))


def arm_survival(events: pd.DataFrame, arms: Sequence[str], reference: str | None = None,
                 landmarks: Sequence[float] = LANDMARK_MONTHS) -> pd.DataFrame:
    """Per arm and endpoint: patients, events, the Kaplan-Meier median with its 95% CI,
    landmark rates with 95% CI, and the Cox hazard ratio against `reference` (default: the
    last arm) with its 95% CI and p value."""
    from lifelines import KaplanMeierFitter

    reference = reference if reference is not None else arms[-1]
    rows = []
    for key in ENDPOINTS:
        t_col, e_col = f"{key}_months", f"{key}_event"
        ref = events[events["arm"] == reference]
        for arm in arms:
            data = events[events["arm"] == arm]
            if data.empty:
                continue
            kmf = KaplanMeierFitter().fit(data[t_col], data[e_col].astype(bool))
            median, low, high = _median_ci(kmf)
            row = {"arm": arm, "endpoint": key, "patients": len(data),
                   "events": int(data[e_col].sum()),
                   "median_months": median, "median_low": low, "median_high": high}
            band = kmf.confidence_interval_survival_function_
            for t in landmarks:
                row[f"rate_{t:g}mo"] = float(kmf.survival_function_at_times(t).iloc[0])
                low, high = _at(band, t)
                row[f"rate_{t:g}mo_low"], row[f"rate_{t:g}mo_high"] = float(low), float(high)
            row.update(hazard_ratio=math.nan, hr_low=math.nan, hr_high=math.nan,
                       hr_p=math.nan, hr_note="", reference=reference)
            if arm != reference and not ref.empty:
                row.update(_cox(data, ref, arm, t_col, e_col))
            rows.append(row)
    return pd.DataFrame(rows)


def _cox(data: pd.DataFrame, ref: pd.DataFrame, arm: str, t_col: str,
         e_col: str) -> dict[str, float | str]:
    """The Cox hazard ratio of `arm` against the reference (arm as the only covariate), with
    its 95% CI and p value; a note instead of a silent number when lifelines cannot estimate
    it (complete separation, no events)."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    both = pd.concat([data, ref])
    frame = pd.DataFrame({"t": both[t_col].to_numpy(),
                          "e": both[e_col].astype(bool).to_numpy(),
                          "arm": (both["arm"] == arm).astype(float).to_numpy()})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cph = CoxPHFitter().fit(frame, duration_col="t", event_col="e")
        except ConvergenceError:
            return {"hr_note": "not estimable (lifelines did not converge)"}
        bounds = np.exp(cph.confidence_intervals_.loc["arm"])
        out: dict[str, float | str] = {
            "hazard_ratio": float(cph.hazard_ratios_["arm"]), "hr_low": float(bounds.iloc[0]),
            "hr_high": float(bounds.iloc[1]), "hr_p": float(cph.summary.loc["arm", "p"])}
    if any(issubclass(w.category, (ConvergenceWarning, RuntimeWarning)) for w in caught):
        out["hr_note"] = "unreliable: complete separation or collinearity (lifelines warned)"
    return out


def parse_allocation(text: str) -> tuple[int, ...]:
    """`"2:1"` -> (2, 1); SurvivalError for anything else."""
    try:
        weights = tuple(int(w) for w in text.split(":"))
    except ValueError:
        weights = ()
    if len(weights) < 2 or min(weights) < 1 or sum(weights) > 100:
        raise SurvivalError(f"--randomise {text!r}: expected whole numbers >= 1 joined by ':', "
                            "one per arm (e.g. 2:1), at most 100 in all")
    return weights


def randomise(results: pd.DataFrame, arms: Sequence[str], weights: Sequence[int],
              seed: int) -> pd.DataFrame:
    """Keep one arm per patient, as a trial randomises: permuted blocks of `sum(weights)`
    (arm i `weights[i]` times per block), in patient order, from a generator keyed by the
    cohort's seed. A patient whose assigned arm did not complete is left out."""
    patients = sorted(results["patient"].unique())
    block = np.repeat(np.arange(len(arms)), weights)
    rng = np.random.default_rng([RANDOMISE_SEED, int(seed)])
    draws = np.concatenate([rng.permutation(block)
                            for _ in range(-(-len(patients) // len(block)))])
    assigned = {p: arms[i] for p, i in zip(patients, draws, strict=False)}
    keep = results["arm"] == results["patient"].map(assigned)
    return results[keep].reset_index(drop=True)


def write_survival(folder: str | Path, reference: str | None = None,
                   rules: OutcomeRules = DEFAULT_RULES,
                   allocation: Sequence[int] | None = None) -> dict[str, Path]:
    """From a finished cohort folder's results.csv and patients.csv, write events.csv (per
    patient), survival.csv (per arm and endpoint) and survival.png.

    By default every patient counts in every arm (the cohort's paired design: arms differ by
    treatment alone); the hazard ratio's CI then treats the arms as independent samples
    although they hold the same patients, so read it as descriptive. With `allocation`
    (weights per arm, in the cohort's arm order, e.g. (2, 1)), each patient is randomised
    to one arm, as in a trial."""
    from ..outputs.figures.survival import survival_figure

    require_lifelines()
    out = Path(folder)
    try:
        results = pd.read_csv(out / "results.csv")
        patients = pd.read_csv(out / "patients.csv")
    except (OSError, pd.errors.EmptyDataError) as exc:
        raise SurvivalError(f"{out}: not a finished cohort folder (results.csv and "
                            "patients.csv needed)") from exc
    if results.empty:
        raise SurvivalError(f"{out}/results.csv: no completed runs")
    arms = list(dict.fromkeys(results["arm"]))
    if reference is not None and reference not in arms:
        raise SurvivalError(f"{out}: reference arm {reference!r} is not one of {arms}")
    design = "every patient in every arm"
    if allocation is not None:
        if len(allocation) != len(arms):
            raise SurvivalError(f"{out}: --randomise gives {len(allocation)} weights for "
                                f"{len(arms)} arms ({', '.join(arms)}); give one per arm")
        seed = _cohort_seed(out)
        results = randomise(results, arms, allocation, seed)
        design = "randomised " + ":".join(str(w) for w in allocation)
    events = patient_table(results, patients, rules)
    table = arm_survival(events, arms, reference)
    table.insert(2, "design", design)
    paths = {"events": out / "events.csv", "survival": out / "survival.csv"}
    atomic_write_text(paths["events"], events.to_csv(index=False))
    atomic_write_text(paths["survival"], table.to_csv(index=False))
    name = out.name
    paths["figure"] = survival_figure(events, arms, name, out / "survival", table)
    return paths


def _cohort_seed(out: Path) -> int:
    """The cohort's seed from cohort.json (the randomisation is keyed by it)."""
    import json

    try:
        return int(json.loads((out / "cohort.json").read_text(encoding="utf-8"))["seed"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SurvivalError(f"{out}/cohort.json: no cohort seed to randomise with") from exc
