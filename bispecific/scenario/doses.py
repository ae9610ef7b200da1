"""The dosing tables of a scenario file: [[dose]] (infusions and boluses) and [[interruption]].

Each entry is checked on its own (keys, ranges, exactly one way to give the amount) and then
against the others (infusions must not overlap) and the run.

The rule for days outside the run: it is an error. Every day a file writes in a [[dose]] or
[[interruption]] lies within the run: a start or bolus day before its end, an end_day or
until_day at most at its end. (Repeats made by every_days stop at the end of the run, and the
last one is cut there.) Only `--days`, which asks for the first part of a run, cuts a
schedule: `cut_schedule` drops what starts after the new end and cuts what runs past it.
"""

from __future__ import annotations

from typing import Any

from ..pharmacology.dosing import Bolus, DosingSchedule, Infusion, Interruption
from .validation import Failer, Key, check_keys, number, shorten

DOSE_KEYS: dict[str, dict[str, Key]] = {
    "infusion": {
        "kind": Key(str, required=True),
        "start_day": Key(float, required=True, lo=0.0),
        "end_day": Key(float, required=True, lo=0.0),
        "rate_ug_per_day": Key(float, None, 0.0, 1e5),
        "rate_ug_per_m2_per_day": Key(float, None, 0.0, 1e5),
        "max_ug_per_day": Key(float, None, 0.0, 1e5),
        "every_days": Key(float, None, 0.01, 3650.0),
        "until_day": Key(float, None, 0.0, 3650.0),
    },
    "bolus": {
        "kind": Key(str, required=True),
        "day": Key(float, required=True, lo=0.0),
        "dose_ug": Key(float, None, 0.0, 1e6),
        "dose_ug_per_m2": Key(float, None, 0.0, 1e6),
        "every_days": Key(float, None, 0.01, 3650.0),
        "until_day": Key(float, None, 0.0, 3650.0),
    },
}

INTERRUPTION_KEYS = {
    "start_day": Key(float, required=True, lo=0.0),
    "end_day": Key(float, required=True, lo=0.0),
}


def parse_schedule(data: dict[str, Any], days: float, fail: Failer) -> DosingSchedule:
    raw_doses = data.get("dose", [])
    if not isinstance(raw_doses, list):
        fail("'dose' must be an array of tables: write each as [[dose]]")
    infusions: list[Infusion] = []
    boluses: list[Bolus] = []
    windows: list[tuple[float, float, int]] = []
    for n, raw in enumerate(raw_doses, start=1):
        where = f"[[dose]] #{n}"
        if not isinstance(raw, dict):
            fail(f"{where} must be a table")
        kind = raw.get("kind")
        if not isinstance(kind, str) or kind not in DOSE_KEYS:
            fail(f"{where} kind = {shorten(kind)}: expected \"infusion\" or \"bolus\"")
        v = check_keys(raw, DOSE_KEYS[kind], where, fail)
        repeat = {k: v[k] for k in ("every_days", "until_day")}
        if kind == "infusion":
            _one_of(v, "rate_ug_per_day", "rate_ug_per_m2_per_day", where, fail)
            _within_run(v, "start_day", "end_day", days, where, fail)
            if repeat["every_days"] is not None and (
                    repeat["every_days"] < v["end_day"] - v["start_day"]):
                fail(f"{where} every_days = {number(repeat['every_days'])}: shorter than the "
                     f"infusion itself ({v['end_day'] - v['start_day']:g} days)")
            inf = Infusion(v["start_day"], v["end_day"], v["rate_ug_per_day"],
                           v["rate_ug_per_m2_per_day"], v["max_ug_per_day"], **repeat)
            infusions.append(inf)
            windows.extend((a, b, n) for a, b in inf.occurrences(days))
        else:
            _one_of(v, "dose_ug", "dose_ug_per_m2", where, fail)
            if v["day"] >= days:
                fail(f"{where} day = {number(v['day'])}: outside the run (days = {days:g}); "
                     f"allowed 0 to below {days:g}")
            boluses.append(Bolus(v["day"], v["dose_ug"], v["dose_ug_per_m2"], **repeat))
        _check_repeat(repeat, v.get("start_day", v.get("day")), days, where, fail)
    windows.sort()
    for (a0, b0, n0), (a1, _b1, n1) in zip(windows, windows[1:], strict=False):
        if a1 < b0 - 1e-12:
            fail(f"[[dose]] #{n1} overlaps [[dose]] #{n0}: infusions on days {a0:g}-{b0:g} "
                 f"and from day {a1:g}; infusions must not overlap (give the summed rate)")
    interruptions = []
    raw_int = data.get("interruption", [])
    if not isinstance(raw_int, list):
        fail("'interruption' must be an array of tables: write each as [[interruption]]")
    for n, raw in enumerate(raw_int, start=1):
        where = f"[[interruption]] #{n}"
        if not isinstance(raw, dict):
            fail(f"{where} must be a table")
        v = check_keys(raw, INTERRUPTION_KEYS, where, fail)
        _within_run(v, "start_day", "end_day", days, where, fail)
        interruptions.append(Interruption(v["start_day"], v["end_day"]))
    return DosingSchedule(tuple(infusions), tuple(boluses), tuple(interruptions))


def _within_run(v: dict[str, Any], start: str, end: str, days: float, where: str,
                fail: Failer) -> None:
    """A window [start, end) that starts before the end of the run and ends by it."""
    if v[end] <= v[start]:
        fail(f"{where} {end} = {number(v[end])}: must be after {start} ({number(v[start])})")
    if v[start] >= days:
        fail(f"{where} {start} = {number(v[start])}: outside the run (days = {days:g}); "
             f"allowed 0 to below {days:g}")
    if v[end] > days:
        fail(f"{where} {end} = {number(v[end])}: after the end of the run (days = {days:g}); "
             f"allowed up to {days:g}")


def _check_repeat(repeat: dict[str, Any], first: float, days: float, where: str,
                  fail: Failer) -> None:
    until = repeat["until_day"]
    if until is None:
        return
    if repeat["every_days"] is None:
        fail(f"{where} until_day = {number(until)}: needs every_days")
    if until <= first:
        fail(f"{where} until_day = {number(until)}: must be after the first dose (day "
             f"{number(first)}); otherwise the dose is never given")
    if until > days:
        fail(f"{where} until_day = {number(until)}: after the end of the run (days = "
             f"{days:g}); allowed up to {days:g}")


def cut_schedule(data: dict[str, Any], days: float) -> None:
    """Cut the dosing tables of TOML-ready scenario data to a run of `days` (in place):
    entries that start at or after the end are dropped, the rest end by it. For `--days`,
    which runs the first part of a schedule. Entries that are not valid are left for
    validation to report."""
    def is_number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool)

    for table in ("dose", "interruption", "chemotherapy"):
        entries = data.get(table)
        if not isinstance(entries, list):
            continue
        kept = []
        for entry in entries:
            if isinstance(entry, dict):
                first = entry.get("start_day", entry.get("day"))
                if is_number(first) and first >= days:
                    continue
                entry = dict(entry)
                for key in ("end_day", "until_day"):
                    if is_number(entry.get(key)):
                        entry[key] = min(entry[key], days)
            kept.append(entry)
        data[table] = kept


def _one_of(v: dict[str, Any], a: str, b: str, where: str, fail: Failer) -> None:
    if (v[a] is None) == (v[b] is None):
        fail(f"{where} needs exactly one of '{a}' or '{b}'")
