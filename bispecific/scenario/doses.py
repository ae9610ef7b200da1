"""The dosing tables of a scenario file: [[dose]] (infusions and boluses) and [[interruption]].

Each entry is checked on its own (keys, ranges, exactly one way to give the amount) and then
against the others (infusions must not overlap) and the run (doses start inside it).
"""

from __future__ import annotations

from typing import Any

from ..pharmacology.dosing import Bolus, DosingSchedule, Infusion, Interruption
from .validation import Failer, Key, check_keys, number

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
        if kind not in DOSE_KEYS:
            fail(f"{where} kind = {kind!r}: expected \"infusion\" or \"bolus\"")
        v = check_keys(raw, DOSE_KEYS[kind], where, fail)
        repeat = {k: v[k] for k in ("every_days", "until_day")}
        if kind == "infusion":
            _one_of(v, "rate_ug_per_day", "rate_ug_per_m2_per_day", where, fail)
            if v["end_day"] <= v["start_day"]:
                fail(f"{where} end_day = {number(v['end_day'])}: must be after start_day "
                     f"({number(v['start_day'])})")
            if v["start_day"] >= days:
                fail(f"{where} start_day = {number(v['start_day'])}: outside the run "
                     f"(days = {days:g}); allowed 0 to {days:g}")
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
        if repeat["until_day"] is not None and repeat["every_days"] is None:
            fail(f"{where} until_day = {number(repeat['until_day'])}: needs every_days")
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
        if v["end_day"] <= v["start_day"]:
            fail(f"{where} end_day = {number(v['end_day'])}: must be after start_day")
        interruptions.append(Interruption(v["start_day"], v["end_day"]))
    return DosingSchedule(tuple(infusions), tuple(boluses), tuple(interruptions))


def _one_of(v: dict[str, Any], a: str, b: str, where: str, fail: Failer) -> None:
    if (v[a] is None) == (v[b] is None):
        fail(f"{where} needs exactly one of '{a}' or '{b}'")
