"""Dose event records, as in a NONMEM-style dataset (NONMEM, mrgsolve, nlmixr2/rxode2).

One record is one dose, or one dose repeated: a bolus (RATE 0) or an infusion (RATE in
ug/h; AMT / RATE hours long), given at TIME and again every II hours, ADDL more times.
Units: TIME, II and durations in h from the start of treatment; AMT in ug; RATE in ug/h.
The drug goes into the central (only) compartment, CMT 1; doses are dose events, EVID 1;
steady-state doses (SS 1) are not modelled.

`records_from_schedule` writes what a schedule gives a patient of a given BSA within the run
(interruptions applied, per-m^2 doses converted, regular repeats folded into II/ADDL), and
`schedule_from_records` turns records back into a `DosingSchedule` that gives the same dose
events. The file format, and its validation, is `bispecific.scenario.event_table`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import units
from .dosing import Bolus, DoseEvent, DosingSchedule, Infusion, Segment

HOURS_PER_DAY = units.HOURS_PER_DAY

# Relative tolerance for "the same dose" and "the same interval" when folding repeats.
_SAME = 1e-9


@dataclass(frozen=True)
class DoseRecord:
    """One dose record (see the module docstring for the units)."""

    time_h: float
    amt_ug: float
    rate_ug_per_h: float = 0.0  # 0: a bolus
    ii_h: float = 0.0
    addl: int = 0

    @property
    def duration_h(self) -> float:
        """The infusion's length in h (0 for a bolus)."""
        return self.amt_ug / self.rate_ug_per_h if self.rate_ug_per_h > 0 else 0.0

    def times_h(self) -> list[float]:
        """The start time of each dose this record gives, in h."""
        return [self.time_h + k * self.ii_h for k in range(self.addl + 1)]


def records_from_schedule(schedule: DosingSchedule, run_days: float,
                          bsa_m2: float) -> list[DoseRecord]:
    """The doses a schedule gives within the run, as records sorted by time.

    Parameters
    ----------
    schedule
        The scenario's schedule.
    run_days
        The run's length in days (repeats stop, and infusions are cut, at its end).
    bsa_m2
        The patient's body surface area in m^2, for per-m^2 doses.

    Returns
    -------
    list of DoseRecord
        Infusion segments and boluses, with regular repeats of the same dose folded into one
        record with II and ADDL.
    """
    segments, boluses = schedule.expand(run_days, bsa_m2)
    singles = [DoseRecord(s.start_h, s.rate_ug_per_h * (s.end_h - s.start_h), s.rate_ug_per_h)
               for s in segments if s.rate_ug_per_h > 0 and s.end_h > s.start_h]
    singles += [DoseRecord(e.time_h, e.dose_ug) for e in boluses if e.dose_ug > 0]
    singles.sort(key=lambda r: (r.time_h, r.rate_ug_per_h))
    return _fold_repeats(singles)


def _fold_repeats(singles: list[DoseRecord]) -> list[DoseRecord]:
    """Runs of the same dose (amount and rate) at a constant interval, as one record."""
    by_kind: dict[tuple[float, float], list[DoseRecord]] = {}
    for r in singles:
        key = next((k for k in by_kind if _close(k[0], r.amt_ug) and _close(k[1],
                                                                              r.rate_ug_per_h)),
                   (r.amt_ug, r.rate_ug_per_h))
        by_kind.setdefault(key, []).append(r)
    folded = []
    for doses in by_kind.values():
        i = 0
        while i < len(doses):
            j = i + 1
            if j < len(doses):
                ii = doses[j].time_h - doses[i].time_h
                while (j + 1 < len(doses) and ii > 0
                       and _close(doses[j + 1].time_h - doses[j].time_h, ii)):
                    j += 1
                if ii > doses[i].duration_h and ii > 0:
                    folded.append(DoseRecord(doses[i].time_h, doses[i].amt_ug,
                                             doses[i].rate_ug_per_h, ii, j - i))
                    i = j + 1
                    continue
            folded.append(doses[i])
            i += 1
    folded.sort(key=lambda r: (r.time_h, r.rate_ug_per_h))
    return folded


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _SAME * max(abs(a), abs(b), 1.0)


def schedule_from_records(records: list[DoseRecord], run_days: float) -> DosingSchedule:
    """A schedule giving exactly the records' doses within the run: one [[dose]] entry per
    dose given (repeats that start after the run are dropped, an infusion running past its
    end is cut there, as `every_days` repeats are).

    Parameters
    ----------
    records
        Dose records (validated: amounts above 0, rates 0 or above, repeats after the
        infusion they repeat has ended).
    run_days
        The run's length in days.

    Returns
    -------
    DosingSchedule
        Infusions at `rate_ug_per_day` and boluses of `dose_ug`, in ug (not per m^2).
    """
    end_h = run_days * HOURS_PER_DAY
    infusions, boluses = [], []
    for r in records:
        for t in r.times_h():
            if t >= end_h:
                break
            if r.rate_ug_per_h > 0:
                infusions.append(Infusion(t / HOURS_PER_DAY,
                                          min(t + r.duration_h, end_h) / HOURS_PER_DAY,
                                          rate_ug_per_day=r.rate_ug_per_h * HOURS_PER_DAY))
            else:
                boluses.append(Bolus(t / HOURS_PER_DAY, dose_ug=r.amt_ug))
    infusions.sort(key=lambda i: i.start_day)
    boluses.sort(key=lambda b: b.day)
    return DosingSchedule(tuple(infusions), tuple(boluses))


def dose_events(schedule: DosingSchedule, run_days: float,
                bsa_m2: float) -> tuple[list[Segment], list[DoseEvent]]:
    """The schedule's infusion segments and boluses within the run, adjoining segments of
    the same rate joined (so that two ways of writing one infusion compare equal)."""
    segments, boluses = schedule.expand(run_days, bsa_m2)
    joined: list[Segment] = []
    for s in segments:
        if joined and _close(joined[-1].end_h, s.start_h) and _close(
                joined[-1].rate_ug_per_h, s.rate_ug_per_h):
            joined[-1] = Segment(joined[-1].start_h, s.end_h, s.rate_ug_per_h)
        else:
            joined.append(s)
    return joined, boluses
