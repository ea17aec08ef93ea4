"""The layers guard themselves (STYLE.md 13-14, docs/engines.md): the import graph of
src/podium — every import, at module level, inside a function or under TYPE_CHECKING —
has no cycle, no engine module imports a stage, and no module uses another module's
`_private` name (imported, or read as `module._name`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "podium"


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


class Graph:
    """Who imports whom, and every use of another module's private name."""

    def __init__(self, root: Path) -> None:
        self.modules = _modules(root)
        self.edges: dict[str, set[str]] = {name: set() for name in self.modules}
        self.reaches: list[str] = []
        for name, path in self.modules.items():
            self._read(name, path)

    def _owner(self, dotted: str) -> str | None:
        while dotted not in self.modules and "." in dotted:
            dotted = dotted.rsplit(".", 1)[0]
        return dotted if dotted in self.modules else None

    def _read(self, name: str, path: Path) -> None:
        tree = ast.parse(path.read_text(), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        aliases: dict[str, str] = {}  # a local name -> the podium module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    owner = self._owner(alias.name)
                    if owner is not None and alias.name.startswith("podium"):
                        self._edge(name, owner)
                        aliases[alias.asname or alias.name] = owner
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                if not base.startswith("podium"):
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in self.modules:  # `from podium import data`: a module
                        self._edge(name, full)
                        aliases[alias.asname or alias.name] = full
                        continue
                    owner = self._owner(base)
                    if owner is None:
                        continue
                    self._edge(name, owner)
                    if _private(alias.name):
                        self.reaches.append(f"{name} imports {owner}.{alias.name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and aliases[node.value.id] != name
                and _private(node.attr)
            ):
                self.reaches.append(f"{name} uses {aliases[node.value.id]}.{node.attr}")

    def _edge(self, source: str, target: str) -> None:
        if source != target:
            self.edges[source].add(target)

    def cycles(self) -> list[list[str]]:
        """The strongly connected parts of more than one module (Tarjan)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []

        def visit(node: str) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for other in sorted(self.edges[node]):
                if other not in index:
                    visit(other)
                    low[node] = min(low[node], low[other])
                elif other in on_stack:
                    low[node] = min(low[node], index[other])
            if low[node] == index[node]:
                part = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    part.append(top)
                    if top == node:
                        break
                if len(part) > 1:
                    found.append(sorted(part))

        for node in sorted(self.modules):
            if node not in index:
                visit(node)
        return found

    def upward(self, lower: str, higher: str) -> list[str]:
        """Imports from a module under `lower` into one under `higher`."""
        return [
            f"{source} imports {target}"
            for source, targets in sorted(self.edges.items())
            if source == lower or source.startswith(lower + ".")
            for target in sorted(targets)
            if target == higher or target.startswith(higher + ".")
        ]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return Graph(PACKAGE)


def test_the_import_graph_has_no_cycle(graph: Graph) -> None:
    assert graph.cycles() == []


def test_no_engine_module_imports_a_stage(graph: Graph) -> None:
    assert graph.upward("podium.engine", "podium.stages") == []


def test_no_module_uses_another_modules_private_names(graph: Graph) -> None:
    assert graph.reaches == []


def test_the_walk_sees_function_level_imports_cycles_and_private_reaches(tmp_path: Path) -> None:
    """The checks can fail: a cycle made by an import inside a function, an engine that
    imports a stage, and private names reached both ways are all found."""
    package = tmp_path / "podium"
    (package / "engine").mkdir(parents=True)
    (package / "stages").mkdir()
    for folder in (package, package / "engine", package / "stages"):
        (folder / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from podium import b\n    return b._hidden\n")
    (package / "b.py").write_text("from podium.a import _also\n")
    (package / "engine" / "e.py").write_text("from ..stages import s\n")
    (package / "stages" / "s.py").write_text("from podium.engine import e\n")
    found = Graph(package)
    assert found.cycles() == [
        ["podium.a", "podium.b"],
        ["podium.engine.e", "podium.stages.s"],
    ]
    assert found.upward("podium.engine", "podium.stages") == [
        "podium.engine.e imports podium.stages.s"
    ]
    assert sorted(found.reaches) == [
        "podium.a uses podium.b._hidden",
        "podium.b imports podium.a._also",
    ]
