"""Numbers quoted in the README and docs are the numbers their sources give (no drift).

`docs/quoted_numbers.py` writes each quoted result into a marked region. Here: every region
is one the script knows and sits in the file it names; the regions generated from files
(benchmarks/results/full.json, docs/calibration.md) match those files now; and (slow) the
regions quoting the quick-start runs match a fresh run of those commands. After a model
change, `python docs/quoted_numbers.py` brings them up to date.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "docs"))
quoted = importlib.import_module("quoted_numbers")

MESSAGE = "not current with its source; run `python docs/quoted_numbers.py`"


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_region_is_known_and_in_its_file():
    found = {}
    for doc in _documents():
        text = doc.read_text()
        assert text.count("<!-- generated:") == text.count("<!-- /generated -->"), doc
        for name in quoted.regions_in(text):
            assert name in quoted.REGIONS, f"{doc}: unknown region {name}"
            assert name not in found, f"region {name} in {found.get(name)} and {doc}"
            found[name] = doc.relative_to(ROOT).as_posix()
    assert found == {name: spec[0] for name, spec in quoted.REGIONS.items()}


def test_replace_regions_rewrites_only_the_named_region():
    text = ("a\n<!-- generated:x -->\n\nold\n\n<!-- /generated -->\nb\n"
            "<!-- generated:y -->\n\nkeep\n\n<!-- /generated -->\n")
    new = quoted.replace_regions(text, {"x": "new"})
    assert quoted.regions_in(new) == {"x": "new", "y": "keep"}
    assert new.startswith("a\n") and "\nb\n" in new


@pytest.mark.parametrize("name", [n for n, spec in quoted.REGIONS.items() if not spec[2]])
def test_regions_from_files_are_current(name):
    path, _, _ = quoted.REGIONS[name]
    current = quoted.regions_in((ROOT / path).read_text())[name]
    assert current == quoted.render([name], None)[name], f"{path}: {name} {MESSAGE}"


@pytest.mark.slow
def test_regions_from_the_quick_start_runs_are_current(tmp_path):
    runs = quoted.quick_start_runs(tmp_path)
    names = [n for n, spec in quoted.REGIONS.items() if spec[2]]
    fresh = quoted.render(names, runs)
    for name in names:
        path = quoted.REGIONS[name][0]
        assert quoted.regions_in((ROOT / path).read_text())[name] == fresh[name], (
            f"{path}: {name} {MESSAGE}")
