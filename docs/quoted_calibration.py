"""The regions generated from docs/calibration.md (see docs/quoted_numbers.py).

`docs/calibrate.py` writes calibration.md's tables; these functions find rows by their first
cells and put the numbers into the science and results pages' words. A row that is gone
raises LookupError naming it, so a changed table is noticed, not skipped.
"""

from __future__ import annotations

import re

from quoted_sources import para, rate, table


def calibration_rows(context: dict, section: str | None = None) -> list[list[str]]:
    """Every data row of every table in docs/calibration.md, as lists of cells.

    Parameters
    ----------
    context : dict
        The generation context (`root` is the repository).
    section : str, optional
        Only the tables under the heading that starts with this (e.g. "## 3.").

    Returns
    -------
    list of list of str
        The rows, header and separator rows left out.
    """
    rows, header, heading = [], False, ""
    for line in (context["root"] / "docs/calibration.md").read_text().splitlines():
        if line.startswith("## "):
            heading = line
        if section is not None and not heading.startswith(section):
            continue
        if not line.startswith("|"):
            header = False
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(line) <= set("|-: "):
            header = True  # the separator: rows follow
            continue
        if header:
            rows.append(cells)
    return rows


def _row(context: dict, first: str, starts: str) -> list[str]:
    """The calibration row whose first cell is `first` and second starts with `starts`."""
    for row in calibration_rows(context):
        if row[0] == first and row[1].startswith(starts):
            return row
    raise LookupError(f"docs/calibration.md has no row {first!r} | {starts!r}...; "
                      "update docs/quoted_sources.py to the new table")


def calibrated(context: dict) -> str:
    """The calibrated bullets of the science page (calibration.md section 2)."""
    adult_cr = _row(context, "cohort_mt103_211", "CR/CRh within 2 cycles")
    child_cr = _row(context, "cohort_mt103_205", "CR within 2 cycles")
    fever = _row(context, "cohort_mt103_211", "fever = ASTCT grade >= 1")
    adult_mrd = _row(context, "cohort_mt103_211", "MRD < 1e-4 among")
    child_mrd = _row(context, "cohort_mt103_205", "MRD < 1e-4 among")
    adult3 = _row(context, "cohort_mt103_211", "CRS grade >= 3")
    child3 = _row(context, "cohort_mt103_205", "CRS grade >= 3")
    bullets = [
        "the IL-6 course on patients' data (lymphoma, flat and stepped starts);",
        "killing (`exhaustion_per_synapse`), with a third of patients' T cells suppressed "
        "by regulatory T cells ([Duell2017]), on the adult phase 2 trial MT103-211 and the "
        f"paediatric MT103-205 together: adults' CR/CRh {rate(adult_cr[4])} in the virtual "
        f"cohort against {rate(adult_cr[3])}, MRD < 10^-4 in {rate(adult_mrd[4])} of "
        f"responders against {rate(adult_mrd[3])}; children's CR {rate(child_cr[4])} against "
        f"{rate(child_cr[3])}, MRD-negative in {rate(child_mrd[4])} of responders against "
        f"{rate(child_mrd[3])};",
        "the CRS thresholds on MT103-211 and the paediatric MT103-205 (fever "
        f"{rate(fever[4]).split(' ')[0]} vs {fever[3]}, grade >= 3 "
        f"{adult3[4].split(' ')[0]} vs {adult3[3]} in adults and {child3[4].split(' ')[0]} vs "
        f"{child3[3]} in children)."]
    return "\n".join(para("- " + b, indent="  ") for b in bullets)


def validation_table(context: dict) -> str:
    """Calibration.md section 3: the trials the model was never fitted to."""
    rows = [[r[0], r[1], f"{r[2]}", r[3], r[4]] for r in calibration_rows(context, "## 3.")
            if r[0] in ("cohort_tower", "cohort_mrd") and len(r) == 5]
    return table(rows, ["cohort", "readout", "source", "published", "model (95% interval)"])


def outcomes_table(context: dict) -> str:
    """Calibration.md section 4: the same patients under three schedules, and by burden."""
    rows = [r for r in calibration_rows(context)
            if r[0].startswith(("TOWER", "BLAST")) and len(r) == len(OUTCOME_COLUMNS)]
    if not rows:
        raise LookupError("docs/calibration.md has no 'how the outcomes move' table")
    return table(rows, list(OUTCOME_COLUMNS))


# The columns of calibration.md's "how the outcomes move" table (docs/calibrate.py).
OUTCOME_COLUMNS = ("group", "patients", "CR (best, 2 cycles)", "MRD < 1e-4", "CD19- escape",
                   "fever (grade >= 1)", "CRS grade >= 2", "CRS grade >= 3",
                   "median peak IL-6 (pg/mL)")
CR, MRD, FEVER, GRADE2, GRADE3 = 2, 3, 5, 6, 7


def outcome_notes(context: dict) -> str:
    """What the outcomes table says, in words with its numbers (calibration.md section 4)."""
    rows = {r[0]: r for r in calibration_rows(context) if len(r) == len(OUTCOME_COLUMNS)}

    def find(prefix: str) -> list[str]:
        hits = [r for k, r in rows.items() if k.startswith(prefix)]
        if not hits:
            raise LookupError(f"docs/calibration.md has no outcomes row {prefix!r}...")
        return hits[0]

    def value(cell: str) -> float:
        return float(cell.split("%")[0])

    step, flat = find("TOWER, approved_9_28"), find("TOWER, flat_28")
    low, high = find("TOWER approved, marrow blasts <"), find("TOWER approved, marrow blasts >=")
    mrd = find("BLAST")
    folds = ", ".join(f"{value(flat[c]) / max(value(step[c]), 1e-9):.1f}x"
                      for c in (FEVER, GRADE2, GRADE3))
    return "\n".join([
        para("- **The step-up against a flat start.** A flat full-dose start multiplies "
              f"fever, CRS grade >= 2 and grade >= 3 by {folds} for a CR of "
              f"{rate(flat[CR]).split(' ')[0]} against {rate(step[CR]).split(' ')[0]}.",
              indent="  "),
        para("- **Burden matters.** Patients with fewer blasts (< 50%) respond more and have "
              f"less CRS (CR {rate(low[CR]).split(' ')[0]}, CRS grade >= 2 "
              f"{value(low[GRADE2]):.1f}%) than those with more (CR "
              f"{rate(high[CR]).split(' ')[0]}, CRS grade >= 2 {value(high[GRADE2]):.1f}%), as "
              "in the clinic.", indent="  "),
        para("- **MRD patients have little CRS**: few blasts, few synapses (CRS grade >= 2 "
              f"{value(mrd[GRADE2]):.1f}% in the virtual BLAST patients, MRD-negative "
              f"{rate(mrd[MRD]).split(' ')[0]} after the course).", indent="  ")])


def seed_agreement(context: dict) -> str:
    """Calibration.md's simulation-noise line, in the science page's words (or that it was
    not measured in this calibration)."""
    text = (context["root"] / "docs/calibration.md").read_text()
    m = re.search(r"Two seeds of each of the (\d+) patients of (\w+) agree on CR in (\d+)% "
                  r"\(95% interval ([\d-]+)%\).*?CR rate ([\d.]+)% and ([\d.]+)%", text)
    if not m:
        return para("The agreement of two seeds of the same patient was not measured in this "
                    "calibration (`python docs/calibrate.py --seed-agreement` measures it).")
    n, cohort, agree, interval, a, b = m.groups()
    return para(f"Two seeds of the same patient agree on CR in {agree}% of the {n} "
            f"{cohort.removeprefix('cohort_').upper().replace('_', '-')} patients (95% "
            f"interval {interval}%). The cohort's CR rate was {a}% on one set of seeds and "
            f"{b}% on the other: with {n} patients, a few percentage points between seeds are "
            "simulation noise, well inside each rate's interval.")


def cohort_notes(context: dict) -> str:
    """The results page's cohort view of the three schedules (calibration.md section 4)."""
    arms = {arm: _row(context, f"TOWER, {arm}", "")
            for arm in ("approved_9_28", "flat_28", "bolus_daily")}
    cr = {arm: rate(row[CR]).split(" ")[0] for arm, row in arms.items()}
    crs = {arm: float(row[GRADE2].split("%")[0]) for arm, row in arms.items()}
    return para(
        "Across a cohort ([the science at a glance](../science/index.md#crs-response-and-what-"
        f"the-model-was-checked-against)), the step-up gives {cr['approved_9_28']} CR against "
        f"{cr['flat_28']} on the flat start, with {crs['approved_9_28']:.1f}% CRS grade >= 2 "
        f"against {crs['flat_28']:.1f}%; daily boluses give {cr['bolus_daily']} CR with "
        f"{crs['bolus_daily']:.1f}% CRS grade >= 2.")


def depth_notes(context: dict) -> str:
    """How deep responses go against the trials (calibration.md sections 2 and 3, and the
    dose-response check)."""
    adult = _row(context, "cohort_mt103_211", "MRD < 1e-4 among")
    child = _row(context, "cohort_mt103_205", "MRD < 1e-4 among")
    blast = _row(context, "cohort_mrd", "complete MRD response")
    doses = [r for r in calibration_rows(context) if len(r) == 4 and r[0] in ("5", "15", "30")]
    if len(doses) != 3:
        raise LookupError("docs/calibration.md has no dose-response table (5, 15, 30)")
    cr = {r[0]: rate(r[1]).split(" ")[0] for r in doses}
    return para(
        "**What the validation shows.** Depth, the review's chief complaint about 0.2, is "
        f"now read to 10^-4 and below: MRD < 10^-4 among the virtual MT103-211 responders "
        f"is {rate(adult[4])} against the trial's {adult[3]}, among the children's "
        f"{rate(child[4])} against {child[3]}, and the virtual BLAST patients reach a "
        f"complete MRD response in {rate(blast[4])} against the trial's {blast[3]} "
        "(validation, never fitted). Across dose, the same virtual adults give CR/CRh "
        f"{cr['5']}, {cr['15']} and {cr['30']} at 5, 15 and 30 ug/m^2/day in one cycle, "
        "where MT103-206 saw 15 and 30 respond alike ([calibration](../calibration.md)).")
