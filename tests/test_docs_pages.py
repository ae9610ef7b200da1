"""The documentation's promises that a test can hold: CI runs the README's test command, and
the API reference covers every name the package exports."""

from __future__ import annotations

import re
from pathlib import Path

import bispecific

ROOT = Path(__file__).parent.parent


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    command = ('python3 -m venv .venv && . .venv/bin/activate && pip install -q -e ".[test]" '
               "&& python -m pytest -q")
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"\n{command}\n" in readme
    assert f"\n{command}\n" in ci
    # The default suite leaves the slow tests out; the README names their command and CI
    # runs it, so no test is left to nobody.
    assert "\npython -m pytest -q -m slow\n" in readme
    assert "\npython -m pytest -q -m slow\n" in ci


def test_public_names_resolve_and_normal_cell_is_one():
    assert "NormalCell" in bispecific.__all__
    for name in bispecific.__all__:
        assert getattr(bispecific, name) is not None


def test_api_reference_documents_every_export():
    """docs/api.md renders each public name from the module that defines it."""
    from bispecific import _PUBLIC

    rendered = re.findall(r"^::: ([\w.]+)$", (ROOT / "docs" / "api.md").read_text(), re.M)
    assert sorted(rendered) == sorted(f"{module}.{name}" for name, module in _PUBLIC.items())
