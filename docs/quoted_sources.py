"""The text of the generated regions (`docs/quoted_numbers.py`) that quote runs and benchmarks.

Every region function takes the context `{"root": Path, "runs": {scenario: run folder} or
None}` and returns the region's Markdown. Numbers come from the quick-start run folders or
from `benchmarks/results/full.json` (`docs/quoted_calibration.py` does docs/calibration.md);
the words around them are written here, once. The helpers format numbers as prose quotes
them.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import textwrap

from bispecific import __version__


def needs_runs(writer):
    """Mark a region writer that reads the quick-start runs (`context["runs"]`)."""
    writer.needs_runs = True
    return writer


def _summary(context: dict, name: str) -> dict:
    return json.loads((context["runs"][name] / "summary.json").read_text())


def _timeseries(context: dict, name: str) -> list[dict[str, float]]:
    with (context["runs"][name] / "timeseries.csv").open() as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _full_json(context: dict) -> dict:
    return json.loads((context["root"] / "benchmarks/results/full.json").read_text())


def para(text: str, indent: str = "") -> str:
    """Prose wrapped at 92 columns, continuation lines indented by `indent` (list items).

    `>=` stays with its neighbours: at the start of a line Markdown would read a quote.
    """
    glued = text.replace(" >= ", "\0>=\0")
    return textwrap.fill(glued, width=92, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False).replace("\0", " ")


def pct(x: float) -> str:
    """A percentage as prose quotes it: 10%, 4.2%, 0.3%."""
    return f"{x:.0f}%" if x >= 9.95 else f"{x:.1f}%"


def rate(text: str) -> str:
    """A calibration-table rate, `40.8% (28.4-53.3)`, to whole percent: `41% (28-53%)`."""
    m = re.fullmatch(r"([\d.]+)%(?: \(([\d.]+)-([\d.]+)\))?", text.strip())
    if not m:
        return text.strip()
    whole = [f"{float(v):.0f}" for v in m.groups() if v is not None]
    return f"{whole[0]}%" + (f" ({whole[1]}-{whole[2]}%)" if len(whole) == 3 else "")


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


# --- the quick-start runs ------------------------------------------------------------------

@needs_runs
def quick_start(context: dict) -> str:
    """The README's quick-start result: the two commands' blast counts."""
    on, off = _summary(context, "continuous_4wk"), _summary(context, "no_drug")
    return para(
        "It prints a one-line result and writes `runs/continuous_4wk/`. Compare with the "
        "untreated control, `bispecific run scenarios/no_drug.toml`: blasts fall under drug "
        f"({on['initial_blasts']:,} -> {on['final_blasts']:,} in {on['days']:g} days on the "
        f"default patch) and grow without it ({off['initial_blasts']:,} -> "
        f"{off['final_blasts']:,}).")


@needs_runs
def run_shows(context: dict) -> str:
    """The numbers of the approved regimen's run, in "What a run shows"."""
    s = _summary(context, "continuous_4wk")
    ts = _timeseries(context, "continuous_4wk")
    peak = max(ts, key=lambda r: r["il6_pg_per_ml"])
    day = int(peak["time_h"] // 24)
    when = "on the first day" if day == 0 else f"on day {day} (day 0 is the first)"
    cr = ("a CR" if s["complete_response"] else
          "no CR in one cycle: this patient sits near the tipping point "
          "([docs/model.md s.12](../model.md))")
    if s["final_blasts"] > 0:
        fall = (f"the blasts fall {s['initial_blasts'] / s['final_blasts']:.0f}-fold in four "
                f"weeks to {pct(s['best_marrow_blast_percent'])} of marrow cells")
    else:
        fall = (f"the patch's {s['initial_blasts']:,} blasts are all gone within four weeks")
    mrd = (f"P(MRD < 10^-4) is {s['p_mrd_negative']:.2f}, the marrow's level about "
           f"{s['mrd_level_estimate']:.0e} (the branching tail of the last blasts, "
           "[docs/model.md s.11](../model.md))")
    return para(
        "In this run (a patient with 50% marrow blasts and T cells at 6% of marrow cells, no "
        f"CD19-negative clone, no premedication) {fall}. That is {cr}; {mrd}. IL-6 peaks at "
        f"{s['peak_il6_pg_per_ml']:.0f} pg/mL {when}. The chance of fever (ASTCT grade 1) "
        f"peaks at {s['p_fever']:.2f}; grade >= 2 at {s['p_crs_grade2_or_more']:.2f} and "
        f"grade >= 3 at {s['p_crs_grade3_or_more']:.2f}.")


COMPARED = (("continuous_4wk", "approved step-up 9 -> 28 ug/day"),
            ("flat_28", "flat 28 ug/day"), ("bolus_daily", "daily 28 ug bolus"))


@needs_runs
def compare_table(context: dict) -> str:
    """The three schedules of `bispecific compare` for the default patient."""
    rows = []
    for name, label in COMPARED:
        s = _summary(context, name)
        rows.append([label, pct(s["best_marrow_blast_percent"]),
                     f"{s['p_complete_response']:.2f}", f"{s['p_mrd_negative']:.2f}",
                     f"{s['mrd_level_estimate']:.0e}", f"{s['peak_il6_pg_per_ml']:.0f} pg/mL",
                     f"{s['p_fever']:.2f}", f"{s['p_crs_grade2_or_more']:.2f}",
                     f"{s['p_crs_grade3_or_more']:.2f}"])
    return table(rows, ["schedule", "best marrow blasts", "P(CR)", "P(MRD < 1e-4)",
                         "MRD level", "peak IL-6", "P(fever)", "P(CRS >= 2)", "P(CRS >= 3)"])


@needs_runs
def compare_notes(context: dict) -> str:
    """What the comparison table says, in words with the table's numbers."""
    step, flat, bolus = (_summary(context, name) for name, _ in COMPARED)
    level = {k: s["mrd_level_estimate"] for k, s in
             (("step", step), ("flat", flat), ("bolus", bolus))}
    deeper = "deeper" if level["flat"] < level["step"] else "no deeper"
    lower = "lower" if level["bolus"] < level["flat"] else "no lower"
    return "\n".join([
        para(f"- A full dose from day 0 goes {deeper} in this patient than the step-up (MRD "
              f"level {level['flat']:.0e} against {level['step']:.0e} at four weeks), and it "
              "raises the chance of CRS grade >= 2 "
              f"{flat['p_crs_grade2_or_more'] / max(step['p_crs_grade2_or_more'], 1e-12):.1f}"
              "-fold.", indent="  "),
        para(f"- The daily boluses reach {_risk_word(bolus, flat)} the flat infusion's "
              f"({bolus['p_crs_grade2_or_more']:.2f} against "
              f"{flat['p_crs_grade2_or_more']:.2f} for grade >= 2): the day-long exposure "
              f"that CRS reads is similar ({bolus['peak_crs_exposure_pg_per_ml']:.0f} against "
              f"{flat['peak_crs_exposure_pg_per_ml']:.0f} pg/mL at its peak), though the IL-6 "
              f"peak is {bolus['peak_il6_pg_per_ml'] / flat['peak_il6_pg_per_ml']:.1f} times "
              f"higher. In this patient, on this seed, they end {lower} than the flat infusion "
              f"(MRD level {level['bolus']:.0e} against {level['flat']:.0e}). That is one "
              "patient on one seed; the cohort view of the same schedules is below.",
              indent="  ")])


def _risk_word(a: dict, b: dict) -> str:
    """How CRS risk a compares with b, in words: within a quarter is 'like'."""
    ratio = a["p_crs_grade2_or_more"] / max(b["p_crs_grade2_or_more"], 1e-12)
    if 0.8 <= ratio <= 1.25:
        return "a CRS risk like"
    return "a lower CRS risk than" if ratio < 1 else "a higher CRS risk than"


@needs_runs
def bolus_mechanism(context: dict) -> str:
    """Why daily boluses kill less: drug and synapses between doses, days 8-14."""
    window = {name: [r for r in _timeseries(context, name) if 8 * 24 <= r["time_h"] < 14 * 24]
              for name in ("flat_28", "bolus_daily")}
    bolus = window["bolus_daily"]
    low_h = 24 * sum(r["drug_plasma_pg_per_ml"] < 100 for r in bolus) / len(bolus)
    bare = sum(r["trimers"] == 0 for r in bolus) / len(bolus)
    engaged = {k: sum(r["t_cells_engaged"] for r in v) / len(v) for k, v in window.items()}
    fewer = engaged["bolus_daily"] < engaged["flat_28"]
    return para(
        "- **Daily boluses between doses.** The peak drives CRS. After it, "
        "blinatumomab's 1.9 h half-life leaves plasma below 100 pg/mL for about "
        f"{low_h:.0f} h a day, and for {bare * 100:.0f}% of the hours no molecule bridges a "
        f"T cell and a blast in the patch. Engaged T cells average "
        f"{engaged['bolus_daily']:.2g} against {engaged['flat_28']:.2g} on a flat 28 ug/day"
        + (": the same daily dose keeps fewer T cells at work, and rests them between doses "
           "(less exhaustion), so how the two balance differs between patients. "
           if fewer else ". ")
        + "(Default patient, hourly records of days 8-14 of the 28-day runs.)", indent="  ")


# --- benchmarks/results/full.json ----------------------------------------------------------

def run_time(context: dict) -> str:
    """The README's run time of the approved regimen, from the last full benchmark, and
    which engine that was."""
    full = _full_json(context)
    wall = full["end_to_end"][0]["wall_s"]
    measured_on = full["machine"]["bispecific"]
    text = (f"A 4-week regimen on the default 100x100 patch took about {wall:.0f} seconds, "
            f"start-up included, in the last full benchmark, run on version {measured_on} "
            "([Performance](docs/benchmarks.md)).")
    if measured_on != __version__:
        text += (f" The model has changed since (this is {__version__}); "
                 "`benchmarks/results/quick.md` measures the current one.")
    return para(text)


def performance(context: dict) -> str:
    """The Performance page, as `benchmarks/run.py` writes it from full.json."""
    folder = str(context["root"] / "benchmarks")
    if folder not in sys.path:
        sys.path.insert(0, folder)  # report.py imports its sibling measure.py
    import report

    section = report.readme_section(_full_json(context))
    return section.split("\n", 1)[1].strip("\n")  # the page has its own title
