"""Imports flow one way inside the core: no module imports one that imports it back, at any level
(module top, ``TYPE_CHECKING`` blocks, or inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("matcher", "regions", "harvestmatch", "api", "harvest")


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of :data:`PACKAGES` it imports anywhere in its text (packages' own
    ``__init__`` re-exports left out: they sit above the modules they gather)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__init__.py":
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            targets = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets.add(node.module)
                elif isinstance(node, ast.Import):
                    targets.update(alias.name for alias in node.names)
            graph[name] = {t for t in targets if t.split(".")[0] in PACKAGES and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles a depth-first walk meets, each as the path that closes it."""
    found: list[list[str]] = []
    state = dict.fromkeys(graph, "new")

    def walk(path: list[str]) -> None:
        node = path[-1]
        state[node] = "on the path"
        for nxt in sorted(graph[node] & graph.keys()):
            if state[nxt] == "on the path":
                found.append(path[path.index(nxt) :] + [nxt])
            elif state[nxt] == "new":
                walk(path + [nxt])
        state[node] = "done"

    for start in sorted(graph):
        if state[start] == "new":
            walk([start])
    return found


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "matcher.product" in graph["matcher.results"] and "regions.lanes" in graph["matcher.params"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


#: what each layer may import of the project: api -> matcher -> regions, all building on the base
#: (harvestmatch: errors and settings); the ``harvest`` command and the demo sit on top and are
#: imported by nothing below
MAY_IMPORT = {
    "harvestmatch": {"harvestmatch"},
    "regions": {"regions", "harvestmatch"},
    "matcher": {"matcher", "regions", "harvestmatch"},
    "api": {"api", "matcher", "regions", "harvestmatch"},
}


def _layer(module: str) -> str | None:
    for layer in sorted(MAY_IMPORT, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def test_imports_flow_one_way() -> None:
    wrong = []
    for module, targets in import_graph().items():
        layer = _layer(module)
        if layer is None:  # harvest.cli and harvest.demo may import anything
            continue
        for target in targets:
            allowed = MAY_IMPORT[layer]
            if not any(target == a or target.startswith(a + ".") for a in allowed):
                wrong.append(f"{module} imports {target}")
    assert wrong == []
