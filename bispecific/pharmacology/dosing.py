"""Dosing schedules: continuous infusions, IV boluses, repeats, cycles and interruptions.

Days are counted from 0 at the start of treatment. A schedule expands into plain segments
(start, end, rate in ug/day) and boluses (time, dose in ug) that the PK model solves exactly.
Per-m^2 doses are converted with the patient's body surface area, capped where a maximum
daily dose is given (the label's 9 and 28 ug/day caps for children).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Infusion:
    """Continuous IV infusion from `start_day` to `end_day` (exclusive).

    The rate is `rate_ug_per_day`, or `rate_ug_per_m2_per_day` times body surface area,
    capped at `max_ug_per_day` if given. With `every_days`, the segment repeats with that
    period while its start is before `until_day` (cycles: 28 days on in every 42).
    """

    start_day: float
    end_day: float
    rate_ug_per_day: float | None = None
    rate_ug_per_m2_per_day: float | None = None
    max_ug_per_day: float | None = None
    every_days: float | None = None
    until_day: float | None = None

    def rate_for(self, bsa_m2: float) -> float:
        if self.rate_ug_per_day is not None:
            rate = self.rate_ug_per_day
        else:
            rate = (self.rate_ug_per_m2_per_day or 0.0) * bsa_m2
        if self.max_ug_per_day is not None:
            rate = min(rate, self.max_ug_per_day)
        return rate

    def occurrences(self, run_days: float) -> list[tuple[float, float]]:
        """(start, end) of each repeat that starts within the run, ends clipped to it."""
        return [(s, min(s + self.end_day - self.start_day, run_days))
                for s in _repeat_times(self.start_day, self.every_days, self.until_day,
                                       run_days)]


@dataclass(frozen=True)
class Bolus:
    """IV bolus of `dose_ug` (or `dose_ug_per_m2` x BSA) on `day`, optionally repeated
    every `every_days` while before `until_day`."""

    day: float
    dose_ug: float | None = None
    dose_ug_per_m2: float | None = None
    every_days: float | None = None
    until_day: float | None = None

    def dose_for(self, bsa_m2: float) -> float:
        if self.dose_ug is not None:
            return self.dose_ug
        return (self.dose_ug_per_m2 or 0.0) * bsa_m2

    def occurrences(self, run_days: float) -> list[float]:
        return _repeat_times(self.day, self.every_days, self.until_day, run_days)


@dataclass(frozen=True)
class Interruption:
    """No drug is given from `start_day` to `end_day`: infusions pause, boluses are skipped."""

    start_day: float
    end_day: float


@dataclass(frozen=True)
class Segment:
    """A constant infusion rate over [start_h, end_h)."""

    start_h: float
    end_h: float
    rate_ug_per_h: float


@dataclass(frozen=True)
class DoseEvent:
    time_h: float
    dose_ug: float


@dataclass(frozen=True)
class DosingSchedule:
    infusions: tuple[Infusion, ...] = ()
    boluses: tuple[Bolus, ...] = ()
    interruptions: tuple[Interruption, ...] = field(default_factory=tuple)

    def expand(self, run_days: float, bsa_m2: float) -> tuple[list[Segment], list[DoseEvent]]:
        """Plain infusion segments and bolus events within the run, interruptions applied."""
        segments: list[Segment] = []
        for inf in self.infusions:
            rate_h = inf.rate_for(bsa_m2) / 24.0
            for start, end in inf.occurrences(run_days):
                for a, b in _subtract(start, end, self.interruptions):
                    segments.append(Segment(a * 24.0, b * 24.0, rate_h))
        boluses = [
            DoseEvent(day * 24.0, bol.dose_for(bsa_m2))
            for bol in self.boluses
            for day in bol.occurrences(run_days)
            if not any(i.start_day <= day < i.end_day for i in self.interruptions)
        ]
        segments.sort(key=lambda s: s.start_h)
        boluses.sort(key=lambda e: e.time_h)
        return segments, boluses

    def daily_dose_ug(self, day: float, bsa_m2: float, run_days: float) -> float:
        """Drug given on [day, day + 1), in ug (for plots and summaries)."""
        segments, boluses = self.expand(run_days, bsa_m2)
        t0, t1 = day * 24.0, (day + 1.0) * 24.0
        infused = sum(
            s.rate_ug_per_h * max(0.0, min(s.end_h, t1) - max(s.start_h, t0)) for s in segments)
        return infused + sum(e.dose_ug for e in boluses if t0 <= e.time_h < t1)

    def start_times_h(self, run_days: float, bsa_m2: float,
                      step_ups: bool = True) -> list[float]:
        """Times at which drug input starts (first dose, each cycle, boluses) and, with
        `step_ups`, rises."""
        segments, boluses = self.expand(run_days, bsa_m2)
        times = {e.time_h for e in boluses}
        previous = 0.0
        for t, rate in total_rate_steps(segments):
            if rate > previous + 1e-12 and (step_ups or previous <= 1e-12):
                times.add(t)
            previous = rate
        return sorted(times)


def total_rate_steps(segments: list[Segment]) -> list[tuple[float, float]]:
    """The summed infusion rate as a step function: (time_h, rate_ug_per_h from then on)."""
    edges = sorted({s.start_h for s in segments} | {s.end_h for s in segments})
    steps = []
    for t in edges:
        rate = sum(s.rate_ug_per_h for s in segments if s.start_h <= t < s.end_h)
        if not steps or abs(steps[-1][1] - rate) > 1e-15:
            steps.append((t, rate))
    return steps


def _repeat_times(first: float, every: float | None, until: float | None,
                  run_days: float) -> list[float]:
    stop = run_days if until is None else min(until, run_days)
    if not every:
        return [first] if first < run_days else []
    times = []
    t = first
    while t < stop - 1e-12:
        times.append(t)
        t += every
    return times


def _subtract(
    start: float, end: float, gaps: tuple[Interruption, ...]
) -> list[tuple[float, float]]:
    """The parts of [start, end) outside every interruption."""
    parts = [(start, end)]
    for gap in gaps:
        nxt = []
        for a, b in parts:
            if gap.end_day <= a or gap.start_day >= b:
                nxt.append((a, b))
                continue
            if a < gap.start_day:
                nxt.append((a, gap.start_day))
            if gap.end_day < b:
                nxt.append((gap.end_day, b))
        parts = nxt
    return [(a, b) for a, b in parts if b > a]
