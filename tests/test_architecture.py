"""The package's layering: data flows one way, and no module imports a higher layer or
itself in a circle. Every import counts, including those inside functions and under
TYPE_CHECKING, since a circle hidden in a function is still a circle."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "bispecific"

# Each layer and the layers it may import (besides itself and the package root, which only
# provides __version__ and lazy public names).
ALLOWED = {
    "units": set(),
    "engine": {"units"},
    "pharmacology": {"units"},
    "readouts": {"units", "engine"},
    "outcomes": {"units", "engine", "readouts"},
    "scenario": {"units", "engine", "pharmacology", "readouts"},
    "simulation": {"units", "engine", "pharmacology", "readouts", "scenario"},
    "outputs": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation"},
    "cohorts": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation",
                "outputs", "outcomes"},
    "analysis": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation",
                 "outputs", "outcomes", "cohorts"},
    "cli": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation",
            "outputs", "outcomes", "cohorts", "analysis", "viz"},
    "__main__": {"cli"},
    "viz": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation",
            "outputs", "outcomes", "cohorts"},
}


def _module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {_module_name(p, package): p for p in package.rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of this package that `name` imports, resolved to real modules."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("bispecific"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("bispecific"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return {m for m in found if m in known and m != name}


def _graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = _modules(package)
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_subpackage_has_a_layer_and_a_docstring_saying_what_it_may_import():
    for path in PACKAGE.iterdir():
        if path.is_dir() and (path / "__init__.py").exists():
            assert path.name in ALLOWED, f"{path.name}: add it to the layering"
            doc = ast.get_docstring(ast.parse((path / "__init__.py").read_text())) or ""
            assert "May import" in doc, f"{path.name}/__init__.py must say what it may import"


def _upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a layer the importer may not import."""
    wrong = []
    for module, targets in graph.items():
        layer = _layer(module)
        for target in targets:
            other = _layer(target)
            if layer is None or other is None or other == layer:
                continue
            if other not in ALLOWED[layer]:
                wrong.append(f"{module} imports {target} ({layer} may not import {other})")
    return wrong


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every import circle, as a trail of modules."""
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_imports_go_downward_only():
    wrong = _upward_imports(_graph())
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "\n".join(cycles)


def _write_package(root: Path, files: dict[str, str]) -> Path:
    """A synthetic `bispecific` tree under `root`: {relative path: source}."""
    package = root / "bispecific"
    for relative, source in {"__init__.py": "", **files}.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return package


def test_the_checker_sees_a_violation(tmp_path):
    """The checks have power: fed a synthetic package in which a readout imports the
    scenario layer (relatively, inside a function, and under TYPE_CHECKING), and two engine
    modules import each other, they report exactly those; the same tree with the imports
    pointing downward reports nothing."""
    bad = _write_package(tmp_path / "bad", {
        "scenario/__init__.py": "",
        "scenario/spec.py": "from ..readouts import crs\n",
        "readouts/__init__.py": "",
        "readouts/crs.py": "def f():\n    from ..scenario import spec\n",
        "readouts/escape.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    import bispecific.scenario.spec\n",
        "engine/__init__.py": "",
        "engine/a.py": "from . import b\n",
        "engine/b.py": "from .a import x\n",
    })
    wrong = _upward_imports(_graph(bad))
    assert sorted(w.split(" imports ")[0] for w in wrong) == [
        "bispecific.readouts.crs", "bispecific.readouts.escape"]
    assert all("readouts may not import scenario" in w for w in wrong)
    cycles = _cycles(_graph(bad))
    assert any({"bispecific.engine.a", "bispecific.engine.b"} <= set(c.split(" -> "))
               for c in cycles), cycles

    good = _write_package(tmp_path / "good", {
        "scenario/__init__.py": "",
        "scenario/spec.py": "from ..readouts import crs\n",
        "readouts/__init__.py": "",
        "readouts/crs.py": "from ..engine import a\n",
        "engine/__init__.py": "",
        "engine/a.py": "",
    })
    assert _upward_imports(_graph(good)) == [] and _cycles(_graph(good)) == []


# Inside the engine: the array core knows nothing of Mesa or of the reference twin; the
# Mesa facade wraps the core and never reads the twin; the twin is checked against the core
# (it reads the core's state layout and parameters) and knows nothing of Mesa.
ENGINE_PARTS = {"core": set(), "facade": {"core"}, "reference": {"core"}}


def _engine_part(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "engine":
        return None
    return parts[2] if parts[2] in ENGINE_PARTS else None


def _engine_crossings(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        part = _engine_part(module)
        for target in targets:
            other = _engine_part(target)
            if part and other and other != part and other not in ENGINE_PARTS[part]:
                wrong.append(f"{module} imports {target} ({part} may not import {other})")
    return wrong


def test_the_engine_core_stands_alone():
    wrong = _engine_crossings(_graph())
    assert not wrong, "\n".join(wrong)


def test_the_engine_check_sees_a_crossing(tmp_path):
    """Fed a core module that imports the facade and a facade module that imports the
    reference twin, the check reports exactly those two."""
    bad = _write_package(tmp_path / "bad", {
        "engine/__init__.py": "",
        "engine/core/__init__.py": "",
        "engine/core/step.py": "def f():\n    from ..facade import model\n",
        "engine/facade/__init__.py": "",
        "engine/facade/model.py": "from ..core import step\nfrom .. import reference\n",
        "engine/reference.py": "from .core import step\n",
    })
    wrong = _engine_crossings(_graph(bad))
    assert sorted(w.split(" imports ")[0] for w in wrong) == [
        "bispecific.engine.core.step", "bispecific.engine.facade.model"]
