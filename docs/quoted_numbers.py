"""Numbers quoted in the README and the documentation, generated from what produces them.

    python docs/quoted_numbers.py               # run the quick-start scenarios, rewrite all
    python docs/quoted_numbers.py --files-only  # only what comes from files (no runs)
    python docs/quoted_numbers.py --check       # exit 1 if a region is not current

Prose that quotes a result holds it in a marked region,

    <!-- generated:NAME -->
    ...
    <!-- /generated -->

and this script rewrites each region from its source, so the numbers cannot drift from the
code. Sources:

- the quick-start commands themselves (`bispecific run` of `continuous_4wk`, `no_drug`,
  `flat_28` and `bolus_daily`, 28 days each, about a minute in all): the README's quick
  start, and the guide's "What a run shows" and its comparison table;
- `benchmarks/results/full.json` (written by `benchmarks/run.py`): run time and the
  Performance page;
- `docs/calibration.md` (written by `docs/calibrate.py`): the science page's calibration and
  validation numbers.

The words around the numbers are in `docs/quoted_sources.py` (runs, benchmarks) and
`docs/quoted_calibration.py`. Rerun it after recalibrating, after a benchmark run, or after
any change to the model; `tests/test_quoted_numbers.py` checks that the regions are current.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import quoted_calibration as cal  # noqa: E402
import quoted_sources as src  # noqa: E402

REGION = re.compile(r"(<!-- generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)",
                    re.S)
QUICK_START = ("continuous_4wk", "no_drug", "flat_28", "bolus_daily")

# The files holding regions, and the functions that write them; a region is named after its
# function (`run_time` writes `<!-- generated:run-time -->`).
WRITERS = {
    "README.md": [src.run_time, src.quick_start],
    "docs/guide/results.md": [src.run_shows, src.compare_table, src.compare_notes,
                              cal.cohort_notes],
    "docs/benchmarks.md": [src.performance],
    "docs/science/index.md": [cal.calibrated, cal.validation_table, cal.outcomes_table,
                              cal.outcome_notes, src.bolus_mechanism, cal.seed_agreement,
                              cal.depth_notes],
}
# name -> (file holding the region, writer, whether it needs the quick-start runs)
REGIONS: dict[str, tuple[str, Callable[[dict], str], bool]] = {
    fn.__name__.replace("_", "-"): (path, fn, getattr(fn, "needs_runs", False))
    for path, writers in WRITERS.items() for fn in writers}


def regions_in(text: str) -> dict[str, str]:
    """The marked regions of a document.

    Parameters
    ----------
    text : str
        A Markdown document.

    Returns
    -------
    dict of str to str
        Each region's name and its content, without the blank lines around it.
    """
    return {m["name"]: m["body"].strip("\n") for m in REGION.finditer(text)}


def replace_regions(text: str, new: dict[str, str]) -> str:
    """Rewrite the regions named in `new`; every other region and all other text stay.

    Parameters
    ----------
    text : str
        A Markdown document.
    new : dict of str to str
        The new content of some of its regions, by name.

    Returns
    -------
    str
        The document with those regions replaced.
    """
    def swap(m: re.Match) -> str:
        if m["name"] not in new:
            return m[0]
        return f"{m[1]}\n{new[m['name']].strip(chr(10))}\n\n{m[4]}"
    return REGION.sub(swap, text)


def quick_start_runs(out: Path) -> dict[str, Path]:
    """Run the quick-start scenarios as a user would, each into a folder under `out`.

    Parameters
    ----------
    out : pathlib.Path
        An empty folder.

    Returns
    -------
    dict of str to pathlib.Path
        Each scenario's name and its run folder.
    """
    folders = {}
    for name in QUICK_START:
        folders[name] = out / name
        subprocess.run([sys.executable, "-m", "bispecific", "run", f"scenarios/{name}.toml",
                        "--out", str(folders[name]), "--quiet"], cwd=ROOT, check=True)
    return folders


def render(names: list[str], runs: dict[str, Path] | None) -> dict[str, str]:
    """The current content of the named regions.

    Parameters
    ----------
    names : list of str
        Region names (keys of `REGIONS`).
    runs : dict of str to pathlib.Path, optional
        The quick-start run folders, needed by the regions that quote runs.

    Returns
    -------
    dict of str to str
        Each region's content.
    """
    context = {"root": ROOT, "runs": runs}
    return {name: REGIONS[name][1](context).strip("\n") for name in names}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files-only", action="store_true",
                    help="only the regions generated from files (no runs)")
    ap.add_argument("--check", action="store_true",
                    help="rewrite nothing; exit 1 if a region differs from its source")
    args = ap.parse_args(argv)
    names = [n for n, (_, _, needs_runs) in REGIONS.items()
             if not (args.files_only and needs_runs)]
    with tempfile.TemporaryDirectory(prefix="bispecific-quoted-") as tmp:
        runs = None if args.files_only else quick_start_runs(Path(tmp))
        fresh = render(names, runs)
    stale = []
    for path in sorted({REGIONS[n][0] for n in names}):
        file = ROOT / path
        text = file.read_text()
        mine = {n: fresh[n] for n in names if REGIONS[n][0] == path}
        missing = sorted(set(mine) - set(regions_in(text)))
        if missing:
            print(f"{path}: no region {', '.join(missing)}", file=sys.stderr)
            return 1
        stale += [f"{path}: {n}" for n in mine if regions_in(text)[n] != mine[n]]
        if not args.check:
            file.write_text(replace_regions(text, mine))
    if args.check and stale:
        print("not current (python docs/quoted_numbers.py rewrites them):\n  "
              + "\n  ".join(stale), file=sys.stderr)
        return 1
    print(f"{'checked' if args.check else 'wrote'} {len(names)} regions"
          + (f", {len(stale)} changed" if stale and not args.check else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
