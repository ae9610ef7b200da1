"""The `[[chemotherapy]]` tables of a scenario: cytotoxic courses (docs/model.md s.14)."""

from __future__ import annotations

from typing import Any

from ..pharmacology.chemotherapy import (
    BLAST_LOG10_KILL,
    NORMAL_LOG10_KILL,
    REGIMENS,
    T_CELL_LOG10_KILL,
    ChemotherapyCourse,
)
from .validation import Failer, Key, array_of_tables, check_keys, number

COURSE_KEYS: dict[str, Key] = {
    "regimen": Key(str, required=True, choices=REGIMENS,
                   doc="the salvage regimen's name (recorded; the kills below decide)"),
    "day": Key(float, required=True, lo=0.0, hi=3650.0, doc="day the course is given"),
    "blast_log10_kill": Key(float, BLAST_LOG10_KILL, 0.0, 12.0,
                            doc="log10 of blasts killed per course; pending calibration"),
    "t_cell_log10_kill": Key(float, T_CELL_LOG10_KILL, 0.0, 12.0,
                             doc="log10 of T cells killed per course (lymphotoxic)"),
    "normal_log10_kill": Key(float, NORMAL_LOG10_KILL, 0.0, 12.0,
                             doc="log10 of normal marrow cells killed (myelosuppressive)"),
}


def parse_chemotherapy(data: dict[str, Any], days: float,
                       fail: Failer) -> tuple[ChemotherapyCourse, ...]:
    """The courses, checked: each within the run, no two on the same day."""
    courses: list[ChemotherapyCourse] = []
    for where, entry in array_of_tables(data, "chemotherapy", fail):
        v = check_keys(entry, COURSE_KEYS, where, fail)
        if v["day"] >= days:
            fail(f"{where} day = {number(v['day'])}: outside the run (days = {days:g}); "
                 f"allowed: a day from 0 to below {days:g}")
        if any(c.day == v["day"] for c in courses):
            fail(f"{where} day = {number(v['day'])}: another course is given that day; "
                 "allowed: one course a day")
        courses.append(ChemotherapyCourse(**v))
    return tuple(courses)
