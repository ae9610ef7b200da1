"""Reproduce the IL-6 calibration table of docs/model.md s.9 (science.md V8, V9).

    python docs/calibrate_il6.py [--data docs/data]

Runs flat 60 ug/m^2/day and stepped 5 -> 15 -> 60 ug/m^2/day on the default patient and
prints, per time window, the model's median hourly IL-6 beside the digitised patients'.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
from pathlib import Path

from bispecific.pharmacology.dosing import DosingSchedule, Infusion
from bispecific.scenario import load_scenario
from bispecific.simulation.run import run_scenario

ROOT = Path(__file__).resolve().parent.parent
WINDOWS = [(0.0, 0.75), (0.75, 2.5), (7.0, 8.0), (14.0, 15.0)]
ARMS = {
    "flat 60": ([(0, 21, 60.0)], "il6_flat_60ug_m2_day.csv"),
    "stepped 5-15-60": ([(0, 7, 5.0), (7, 14, 15.0), (14, 21, 60.0)],
                        "il6_stepup_5_15_60ug_m2_day.csv"),
}


def patient_medians(path: Path) -> list[float | None]:
    if not path.exists():
        return [None] * len(WINDOWS)
    rows = [(float(r["time_day"]), float(r["il6_pg_per_ml"])) for r in csv.DictReader(path.open())]
    out = []
    for lo, hi in WINDOWS:
        values = [x for t, x in rows if lo <= t < hi]
        out.append(statistics.median(values) if values else None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "docs" / "data",
                    help="folder of the digitised IL-6 files (default docs/data)")
    args = ap.parse_args()
    base = load_scenario(ROOT / "scenarios" / "flat_28.toml")
    print("window (days) | " + " | ".join(f"{name}: model (data)" for name in ARMS))
    results = {}
    for name, (segments, data_file) in ARMS.items():
        schedule = DosingSchedule(infusions=tuple(
            Infusion(a, b, rate_ug_per_m2_per_day=r) for a, b, r in segments))
        scenario = dataclasses.replace(base, name=name, schedule=schedule, days=21.0)
        ts = run_scenario(scenario).timeseries
        model = []
        for lo, hi in WINDOWS:
            window = ts[(ts["time_h"] >= lo * 24) & (ts["time_h"] < hi * 24)]
            model.append(float(window["il6_pg_per_ml"].median()))
        results[name] = (model, patient_medians(args.data / data_file))
    for i, (lo, hi) in enumerate(WINDOWS):
        cells = []
        for model, data in results.values():
            observed = "n/a" if data[i] is None else f"{data[i]:.0f}"
            cells.append(f"{model[i]:.0f} ({observed})")
        print(f"{lo:g}-{hi:g} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
