"""Pharmacokinetics against the published population model ([PopPK2020], V1-V6)."""

import math

import numpy as np
import pytest

from bispecific.pharmacology.dosing import Bolus, DosingSchedule, Infusion, Interruption
from bispecific.pharmacology.pk import PKParameters, PlasmaCurve

PK = PKParameters()


def infusion(rate, start=0.0, end=28.0, **kw):
    return DosingSchedule(infusions=(Infusion(start, end, rate_ug_per_day=rate, **kw),))


def test_closed_form_matches_a_numerical_solution_of_the_model():
    """The exact solution between events against scipy's integration of dC/dt = input/V -
    CL/V C, on a schedule with a step-up, a bolus and an interruption."""
    from scipy.integrate import solve_ivp

    sched = DosingSchedule(
        infusions=(Infusion(0, 2, rate_ug_per_day=9), Infusion(2, 4, rate_ug_per_day=28)),
        boluses=(Bolus(2.5, dose_ug=10),),
        interruptions=(Interruption(3.0, 3.25),))
    curve = PlasmaCurve(sched, 4.0)
    cl, v = 2.22, 5.98

    def rate_ug_per_h(t_h):
        day = t_h / 24.0
        if 3.0 <= day < 3.25:
            return 0.0
        return (9.0 if day < 2 else 28.0) / 24.0

    def solve(t0, t1, c0):
        sol = solve_ivp(lambda t, c: [rate_ug_per_h(t) / v - cl / v * c[0]], (t0, t1), [c0],
                        rtol=1e-10, atol=1e-12, dense_output=True, max_step=0.5)
        return sol

    first = solve(0.0, 60.0, 0.0)  # up to the bolus at 60 h
    second = solve(60.0, 96.0, first.y[0, -1] + 10.0 / v)
    for t in (1.0, 6.0, 30.0, 47.9, 48.5, 59.9):
        assert curve(t) == pytest.approx(first.sol(t)[0] * 1000.0, rel=1e-6)
    for t in (60.0, 61.0, 72.5, 78.5, 80.0, 95.0):
        assert curve(t) == pytest.approx(second.sol(t)[0] * 1000.0, rel=1e-6)


@pytest.mark.parametrize("rate, low, high", [(9.0, 120.0, 230.0), (28.0, 470.0, 680.0)])
def test_steady_state_within_the_published_range(rate, low, high):
    """V1: ~170 pg/mL at 9 ug/day (accept 120-230); V2: 525 (pop-PK) to 616 (label mean)."""
    css = PlasmaCurve(infusion(rate), 28.0)(24.0 * 5)
    assert low <= css <= high


def test_half_life_is_about_2_hours_as_observed():
    """The terminal half-life read off the simulated washout (log-linear slope over 12 h after
    the infusion stops) against the half-life observed by non-compartmental analysis of 131
    patients, ~2 h ([Zhu2013], R), an analysis independent of the pop-PK fit the model's CL
    and V come from; accept 2 h +-15% (the label's mean, 2.11 h, is U)."""
    curve = PlasmaCurve(infusion(28.0, end=2.0), 3.0)
    stop = 48.0
    times = stop + np.linspace(0.5, 12.0, 24)
    slope = np.polyfit(times, np.log([curve(t) for t in times]), 1)[0]
    assert 1.7 <= math.log(2.0) / -slope <= 2.3


def test_ninety_percent_of_steady_state_by_about_6_hours():
    curve = PlasmaCurve(infusion(28.0), 28.0)
    css = curve(200.0)
    assert 0.85 < curve(6.0) / css < 0.92
    assert curve(6.5) / css > 0.90
    assert curve(24.0) / css > 0.999  # steady state within a day (V4)


def test_linear_in_dose():
    times = np.linspace(0.0, 100.0, 41)
    one = PlasmaCurve(infusion(9.0), 28.0).sample(times)
    three = PlasmaCurve(infusion(27.0), 28.0).sample(times)
    np.testing.assert_allclose(three, 3.0 * one, rtol=1e-12)


def test_superposition_of_doses():
    times = np.linspace(0.0, 200.0, 81)
    a = DosingSchedule(infusions=(Infusion(0, 3, rate_ug_per_day=9),))
    b = DosingSchedule(boluses=(Bolus(1.5, dose_ug=20),))
    both = DosingSchedule(infusions=a.infusions, boluses=b.boluses)
    np.testing.assert_allclose(
        PlasmaCurve(both, 9).sample(times),
        PlasmaCurve(a, 9).sample(times) + PlasmaCurve(b, 9).sample(times), rtol=1e-12)


def test_a_bolus_peaks_and_washes_out_as_the_observed_pk_implies():
    """V6 against numbers the model was not built from: the non-compartmental estimates of
    131 patients ([Zhu2013], R: V ~5 L, CL ~2 L/h) put a 28 ug bolus at 28 / 5 = 5,600 pg/mL
    and below 100 pg/mL after ln(56) / (2 / 5) = 10.1 h. The model's simulated curve (pop-PK
    CL and V) agrees within 20% on both."""
    curve = PlasmaCurve(DosingSchedule(boluses=(Bolus(0.0, dose_ug=28.0),)), 2.0)
    nca_peak = 28.0 / 5.0 * 1000.0
    nca_crossing = math.log(nca_peak / 100.0) / (2.0 / 5.0)
    assert curve(0.0) == pytest.approx(nca_peak, rel=0.20)
    times = np.linspace(0.0, 24.0, 24 * 60 + 1)
    crossing = times[np.argmax(np.array([curve(t) for t in times]) < 100.0)]
    assert crossing == pytest.approx(nca_crossing, rel=0.20)


def test_washout_after_infusion_stops():
    curve = PlasmaCurve(infusion(28.0, end=7.0), 10.0)
    css = curve(7 * 24.0 - 0.01)
    assert curve(7 * 24.0 + 13.0) < 0.01 * css  # < 1% within ~13 h (V4)
    assert curve(9 * 24.0) < 1e-6 * css


def test_bsa_exponent_is_the_one_derived_from_the_published_child():
    """The derivation (D), not evidence: the exponent was solved through [PopPK2020]'s
    smallest patient (0.37 m^2, CL 63% lower), so this only guards the arithmetic."""
    assert PK.clearance_for(0.37) == pytest.approx(0.37 * 2.22, rel=0.01)


def test_bsa_lowers_clearance_as_published():
    """Against what the exponent was not fitted to: [PopPK2020]'s other statement, that
    within the adult BSA range CL changes by 25% or less (tested over 1.4-2.6 m^2, wider than
    most adults), and the typical adult's CL against the independent non-compartmental
    estimate of 131 patients, 1.9-2.6 L/h across renal function ([Zhu2013], R)."""
    for bsa in (1.4, 1.6, 2.0, 2.3, 2.6):
        assert abs(PK.clearance_for(bsa) / PK.clearance_for(1.88) - 1.0) <= 0.25
    assert 1.9 <= PK.clearance_for(1.88) <= 2.6
    # And it lowers clearance: smaller patients clear less, in absolute terms.
    assert PK.clearance_for(0.8) < PK.clearance_for(1.4) < PK.clearance_for(1.88)


def test_15_ug_per_m2_gives_the_plasma_css_the_dose_was_chosen_for():
    """V5 is a statement about *plasma*, not potency: 15 ug/m^2/day was chosen so that the
    patients' plasma Css stays above the in-vitro EC90, 470 pg/mL ([Zhu2013], R). What the
    marrow's cells see is partition x plasma (docs/model.md), tested with the potency in
    test_biology.py. Here: the simulated Css at 1.73 m^2 is above 470 pg/mL, and within the
    range the observed non-compartmental clearance (1.9-2.6 L/h, [Zhu2013]) gives for the
    same 26 ug/day: 416-569 pg/mL."""
    css = PlasmaCurve(DosingSchedule(infusions=(
        Infusion(0, 28, rate_ug_per_m2_per_day=15.0),)), 28.0, bsa_m2=1.73)(100.0)
    assert css >= 470.0
    daily_ug = 15.0 * 1.73
    assert daily_ug / 24.0 / 2.6 * 1000.0 <= css <= daily_ug / 24.0 / 1.9 * 1000.0


def test_per_m2_dose_is_capped():
    sched = DosingSchedule(infusions=(
        Infusion(0, 28, rate_ug_per_m2_per_day=15.0, max_ug_per_day=28.0),))
    assert sched.daily_dose_ug(3, bsa_m2=2.5, run_days=28) == pytest.approx(28.0)
    assert sched.daily_dose_ug(3, bsa_m2=1.0, run_days=28) == pytest.approx(15.0)


def test_repeated_boluses_and_cycles():
    daily = DosingSchedule(boluses=(Bolus(0, dose_ug=28, every_days=1, until_day=28),))
    _, events = daily.expand(28, 1.88)
    assert [e.time_h for e in events] == [24.0 * d for d in range(28)]
    cycles = DosingSchedule(infusions=(
        Infusion(0, 28, rate_ug_per_day=28, every_days=42, until_day=126),))
    segments, _ = cycles.expand(126, 1.88)
    assert [(s.start_h / 24, s.end_h / 24) for s in segments] == [(0, 28), (42, 70), (84, 112)]


def test_interruption_stops_the_drug():
    sched = DosingSchedule(
        infusions=(Infusion(0, 28, rate_ug_per_day=28),),
        boluses=(Bolus(5.5, dose_ug=10),),
        interruptions=(Interruption(5.0, 6.0),),
    )
    curve = PlasmaCurve(sched, 28)
    assert curve(6 * 24.0 - 0.01) < 0.001 * curve(5 * 24.0)  # washed out, bolus skipped
    assert curve(7 * 24.0) > 0.99 * curve(4 * 24.0)  # back at steady state
    assert sched.daily_dose_ug(5, 1.88, 28) == 0.0


def test_no_drug_before_treatment_or_without_doses():
    assert PlasmaCurve(DosingSchedule(), 28)(10.0) == 0.0
    assert PlasmaCurve(infusion(28.0), 28)(-1.0) == 0.0
