"""The tutorials run as written: every fenced block of docs/tutorials/, in order, per page.

A `bash` block runs in bash (errors stop it), a `python` block in this interpreter, each in a
fresh folder holding a link to `scenarios/`; a `toml` block with `title="FILE"` is written to
FILE first. The commands are the ones a reader types, so a page that stops working fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = sorted(p for p in (ROOT / "docs" / "tutorials").glob("*.md") if p.name != "index.md")
FENCE = re.compile(r"^```(?P<lang>\w+)(?P<info>[^\n]*)\n(?P<code>.*?)^```$", re.M | re.S)


def blocks(page: Path) -> list[tuple[str, str, str]]:
    """The fenced blocks of a page: (language, info string, code), in order."""
    return [(m["lang"], m["info"].strip(), m["code"]) for m in FENCE.finditer(page.read_text())]


def run_page(page: Path, folder: Path) -> None:
    """Run every block of `page` in `folder`, failing with the block and its output."""
    (folder / "scenarios").symlink_to(ROOT / "scenarios")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for lang, info, code in blocks(page):
        title = re.search(r'title="([^"]+)"', info)
        if lang == "toml" and title:
            (folder / title[1]).write_text(code)
            continue
        command = {"bash": ["bash", "-euo", "pipefail", "-c", code],
                   "python": [sys.executable, "-c", code]}.get(lang)
        if command is None:
            continue
        r = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, (f"{page.name}: this {lang} block failed "
                                   f"(exit {r.returncode}):\n{code}\n{r.stdout}\n{r.stderr}")


def test_every_tutorial_has_blocks_to_run():
    assert [p.stem for p in PAGES] == ["cohort", "schedule-search", "sensitivity", "single-run"]
    for page in PAGES:
        assert any(lang in ("bash", "python") for lang, _, _ in blocks(page)), page.name


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_tutorial_runs_as_written(page, tmp_path):
    run_page(page, tmp_path)
