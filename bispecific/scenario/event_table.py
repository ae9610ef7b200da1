"""Dosing as a NONMEM-style event table (CSV), read from a scenario and written by every run.

A scenario gives its doses as a table with `[dosing] table = "doses.csv"` (a path relative to
the scenario file) instead of `[[dose]]` entries. Columns, one dose record a row (header
names as in NONMEM, any case; only TIME and AMT are required):

| column | meaning | unit | allowed |
|---|---|---|---|
| ID | patient | - | one ID in the file (a scenario is one patient) |
| TIME | dose time from the start of treatment | h | 0 to below the end of the run |
| AMT | amount | ug | above 0 (0 on an observation row) |
| RATE | infusion rate | ug/h | 0/empty: a bolus (unless DUR); >0: AMT/RATE h long; -2: DUR |
| DUR | infusion length (mrgsolve, rxode2) | h | above 0, with RATE 0, empty or -2 |
| EVID | event | - | 1 (a dose; the default) or 0 (an observation row, skipped) |
| CMT | compartment | - | 1 (central; the PK has one compartment) |
| II | interval of the repeats | h | above 0 when ADDL is; longer than the infusion |
| ADDL | additional doses | - | an integer >= 0 |
| SS | steady state | - | 0 (steady-state doses are not modelled) |
| DV, MDV | observations | - | any; not used |

Repeats made by II/ADDL stop at the end of the run and the last infusion is cut there, as
`every_days` repeats are; a row's own dose must lie within the run, as a [[dose]] must.
Infusions must not overlap (give the summed rate). A table with no dose rows gives no drug.
Errors are one line naming the table, the line, the column, the value and what is allowed.

Every run writes `dosing.csv` in this format (ID, TIME, AMT, RATE, EVID, CMT, II, ADDL, SS):
the doses the patient was given, per-m^2 doses converted, interruptions applied.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ..pharmacology.event_records import DoseRecord
from .validation import Failer, number, read_text, shorten

UNITS = {"ID": "", "TIME": "h", "AMT": "ug", "RATE": "ug/h", "DUR": "h", "EVID": "",
         "CMT": "", "II": "h", "ADDL": "", "SS": "", "DV": "", "MDV": ""}
"""Each column the reader accepts, and its unit."""

WRITTEN = ("ID", "TIME", "AMT", "RATE", "EVID", "CMT", "II", "ADDL", "SS")
"""The columns every run's dosing.csv has."""

DURATION_FROM_DUR = -2.0  # NONMEM's RATE = -2: the duration is given (here by DUR)


def write_event_table(records: list[DoseRecord], patient_id: int = 1) -> str:
    """The records as CSV text (WRITTEN columns; units in `UNITS`), numbers written exactly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(WRITTEN)
    for r in records:
        writer.writerow([patient_id, repr(r.time_h), repr(r.amt_ug), repr(r.rate_ug_per_h), 1, 1,
                         repr(r.ii_h), r.addl, 0])
    return out.getvalue()


def read_event_table(path: Path, days: float) -> list[DoseRecord]:
    """The dose records of an event table, checked against the columns' rules and the run.

    Parameters
    ----------
    path
        The CSV file.
    days
        The run's length in days (every row's own dose must start before its end).

    Returns
    -------
    list of DoseRecord
        One per dose row (observation rows skipped), in file order.

    Raises
    ------
    ScenarioError
        One line: the file, the line and column, the value and what is allowed.
    """
    text = read_text(path, "a dosing table .csv file", "no such file (the [dosing] table)",
                     encoding="utf-8-sig")
    fail = Failer(str(path))
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        fail("empty: expected a header line with TIME and AMT (and RATE, II, ADDL, ...)")
    header = [cell.strip().upper() for cell in rows[0]]
    for name in header:
        if name not in UNITS:
            fail.unknown(name, UNITS, "column", "line 1: ")
        if header.count(name) > 1:
            fail(f"line 1: column {name} appears twice")
    for name in ("TIME", "AMT"):
        if name not in header:
            fail(f"line 1: missing the column {name} ({UNITS[name]})")
    records: list[DoseRecord] = []
    lines: list[int] = []
    ids = set()
    for line, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(header):
            fail(f"line {line}: {len(cells)} values for {len(header)} columns")
        row = dict(zip(header, (c.strip() for c in cells), strict=True))
        ids.add(row.get("ID", ""))
        if len(ids) > 1:
            fail(f"line {line}: column ID = {shorten(row['ID'])}: a second patient; a "
                 f"scenario is one patient, so the table holds one ID")
        record = _record(row, line, days, fail)
        if record is not None:
            records.append(record)
            lines.append(line)
    _check_overlaps(records, lines, days, fail)
    return records


def _check_overlaps(records: list[DoseRecord], lines: list[int], days: float,
                    fail: Failer) -> None:
    """Infusions, repeats included, must not overlap within the run."""
    end_h = days * 24
    windows = sorted((t, min(t + r.duration_h, end_h), line)
                     for r, line in zip(records, lines, strict=True) if r.rate_ug_per_h > 0
                     for t in r.times_h() if t < end_h)
    for (a0, b0, n0), (a1, _b1, n1) in zip(windows, windows[1:], strict=False):
        if a1 < b0 - 1e-9:
            fail(f"line {n1} overlaps line {n0}: infusions at hours {a0:g}-{b0:g} and from "
                 f"hour {a1:g}; infusions must not overlap (give the summed rate)")


def _record(row: dict[str, str], line: int, days: float, fail: Failer) -> DoseRecord | None:
    def value(name: str, default: float, allowed: str, ok) -> float:
        text = row.get(name, "")
        if text in ("", "."):  # NONMEM writes '.' for an empty value
            return default
        try:
            x = float(text)
        except ValueError:
            x = math.nan
        if not math.isfinite(x) or not ok(x):
            fail(f"line {line}: column {name} = {shorten(text)}: expected {allowed}")
        return x

    evid = value("EVID", 1.0, "1 (a dose) or 0 (an observation row)", lambda x: x in (0, 1))
    if evid == 0:
        return None
    value("CMT", 1.0, "1 (the central compartment; the PK has one)", lambda x: x == 1)
    value("SS", 0.0, "0 (steady-state doses are not modelled; give the doses before)",
          lambda x: x == 0)
    time_h = value("TIME", math.nan, f"hours from 0 to below {days * 24:g} (the end of the run)",
                   lambda x: 0 <= x < days * 24)
    amt = value("AMT", math.nan, "ug above 0", lambda x: x > 0)
    rate = value("RATE", 0.0, "0 or empty (a bolus), ug/h above 0 (an infusion) or -2 "
                 "(the length given by DUR)", lambda x: x >= 0 or x == DURATION_FROM_DUR)
    dur = value("DUR", 0.0, "hours above 0 (an infusion's length), or 0/empty",
                lambda x: x >= 0)
    if dur > 0:
        if rate > 0:
            fail(f"line {line}: column DUR = {number(dur)} with RATE = {number(rate)}: give "
                 "the rate or the length, not both")
        rate = amt / dur
    elif rate == DURATION_FROM_DUR:
        fail(f"line {line}: column RATE = -2 needs DUR above 0 (the infusion's length, h)")
    addl = value("ADDL", 0.0, "an integer >= 0", lambda x: x >= 0 and x == int(x))
    ii = value("II", 0.0, "hours >= 0", lambda x: x >= 0)
    record = DoseRecord(time_h, amt, rate, ii, int(addl))
    if addl > 0 and ii <= 0:
        fail(f"line {line}: column ADDL = {int(addl)} needs II above 0 (the interval, h)")
    if addl > 0 and ii <= record.duration_h:
        fail(f"line {line}: column II = {number(ii)}: shorter than the infusion itself "
             f"({record.duration_h:g} h); infusions must not overlap")
    if rate > 0 and time_h + record.duration_h > days * 24 + 1e-9:
        fail(f"line {line}: the infusion runs to hour {time_h + record.duration_h:g}, after "
             f"the end of the run (days = {days:g}, hour {days * 24:g}); allowed up to it")
    return record
