"""Cheap stand-ins for the model, evaluated on exactly the engine's path (workers, task store,
resumption). Module-level, so that worker processes can import them. Each returns the
summary values the analysis readouts use, as smooth functions of the scenario, plus a little
noise from the run's seed (so that replicates differ, as the model's do)."""

from __future__ import annotations

import math

import numpy as np

from bispecific.scenario import Scenario


def _noise(scenario: Scenario, scale: float) -> float:
    return scale * float(np.random.default_rng(scenario.seed).standard_normal())


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def parameter_response(scenario: Scenario) -> dict[str, float]:
    """Response decided by kill_probability (strongly) and trimers_for_half_kill (weakly);
    CRS by il6_per_ifng_tnf. t_cell_death_per_day has no effect at all."""
    p = scenario.parameters
    il6 = scenario.cytokines.il6_per_ifng_tnf
    burden = scenario.patient.marrow_blast_fraction
    cr = _logistic(12.0 * (p.kill_probability - 0.6) - 0.1 * p.trimers_for_half_kill
                   - 2.0 * burden + _noise(scenario, 0.05))
    peak = 50.0 * il6 * (1.0 + burden) * math.exp(_noise(scenario, 0.02))
    return {"seed": scenario.seed, "p_complete_response": cr,
            "p_crs_grade2_or_more": _logistic((peak - 300) / 50), "peak_il6_pg_per_ml": peak,
            "blast_log10_reduction": 3.0 * cr}


def schedule_response(scenario: Scenario) -> dict[str, float]:
    """A known trade-off: response rises with the total dose; CRS rises with the first day's
    dose (and boluses count double). Maximising CR with CRS grade >= 2 <= 0.2 is solved by
    the highest target dose with a first dose of at most ~10 ug/day."""
    days = scenario.days
    bsa = scenario.patient.bsa_m2
    total = sum(scenario.schedule.daily_dose_ug(d, bsa, days) for d in range(int(days)))
    first = scenario.schedule.daily_dose_ug(0, bsa, days)
    bolus = 2.0 if scenario.schedule.boluses else 1.0
    cr = _logistic((total / days - 20.0) / 4.0 + _noise(scenario, 0.01))
    crs = _logistic((bolus * first - 12.0) / 1.5)
    return {"seed": scenario.seed, "p_complete_response": cr, "p_crs_grade2_or_more": crs,
            "peak_il6_pg_per_ml": 20.0 * bolus * first, "blast_log10_reduction": 3.0 * cr}


def hang(scenario: Scenario) -> dict[str, float]:
    """A run that never ends: marks that it started (a file named by its process id in the
    folder $BISPECIFIC_TEST_STARTED), then sleeps. For tests of what outlives what."""
    import os
    import time
    from pathlib import Path

    (Path(os.environ["BISPECIFIC_TEST_STARTED"]) / str(os.getpid())).touch()
    time.sleep(3600)
    return {}


def no_response(scenario: Scenario) -> dict[str, float]:
    """As `schedule_response`, but no schedule gives a CR rate anyone could see (below 1e-20,
    as the model's when the run is too short for a response): an analysis has no signal."""
    out = schedule_response(scenario)
    out["p_complete_response"] *= 1e-20
    out["blast_log10_reduction"] = 0.0
    return out


def noise_only_response(scenario: Scenario) -> dict[str, float]:
    """As `parameter_response`, but the CR probability is noise: it differs between runs
    (the run's seed and parameters pick it) as much within seed sets as between them, and
    no parameter moves it on average."""
    out = parameter_response(scenario)
    p = scenario.parameters
    key = [scenario.seed, int(1e6 * p.kill_probability), int(1e6 * p.trimers_for_half_kill),
           int(1e9 * p.t_cell_death_per_day)]
    out["p_complete_response"] = _logistic(float(np.random.default_rng(key).standard_normal()))
    return out


def hang_on_seed_99(scenario: Scenario) -> dict[str, float]:
    """As `parameter_response`, but the run of seed 99 marks that it started and hangs while
    the file $BISPECIFIC_TEST_HANG exists: for tests that lose a cluster mid-run."""
    import os
    import time
    from pathlib import Path

    hang = Path(os.environ.get("BISPECIFIC_TEST_HANG", "/nonexistent"))
    if scenario.seed == 99 and hang.exists():
        (hang.parent / "started").touch()
        while hang.exists():
            time.sleep(0.1)
    return parameter_response(scenario)
