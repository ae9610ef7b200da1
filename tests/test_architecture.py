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
    "scenario": {"units", "engine", "pharmacology", "readouts"},
    "simulation": {"units", "engine", "pharmacology", "readouts", "scenario"},
    "outputs": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation"},
    "cohorts": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation",
                "outputs"},
    "analysis": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation",
                 "outputs", "cohorts"},
    "cli": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation",
            "outputs", "cohorts", "analysis", "viz"},
    "__main__": {"cli"},
    "viz": {"units", "engine", "pharmacology", "readouts", "scenario", "simulation",
            "outputs", "cohorts"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


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


def _graph() -> dict[str, set[str]]:
    modules = _modules()
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


def test_imports_go_downward_only():
    wrong = []
    for module, targets in _graph().items():
        layer = _layer(module)
        for target in targets:
            other = _layer(target)
            if layer is None or other is None or other == layer:
                continue
            if other not in ALLOWED[layer]:
                wrong.append(f"{module} imports {target} ({layer} may not import {other})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = _graph()
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
    assert not cycles, "\n".join(cycles)


def test_the_checker_sees_a_violation():
    """The test above has power: a readout importing the scenario layer is caught."""
    assert "scenario" not in ALLOWED["readouts"]
    graph = _graph()
    assert "bispecific.engine.model" in graph["bispecific.simulation.run"]
