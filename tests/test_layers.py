"""The package's folders are layers: each module imports only its own layer and those below, and no
import circle exists anywhere (imports inside functions included), read from the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "realtime_fer"
LAYERS = [  # bottom first: a module may import its own layer and those before it
    ("realtime_fer.errors", "realtime_fer.resources"),
    ("realtime_fer.core",),
    ("realtime_fer.io",),
    ("realtime_fer.apps.console",),
    ("realtime_fer.apps.render",),
    ("realtime_fer.apps.engine",),
    ("realtime_fer.apps.batch",),
    ("realtime_fer.apps.serve",),
    ("realtime_fer.apps.cli", "realtime_fer.__main__"),
]
ANYWHERE = ("realtime_fer",)  # the package root (``__version__``, the public names) may be imported by any layer


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "models" not in p.relative_to(PACKAGE).parts[:1]}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The realtime_fer modules ``name`` imports (``from X import y`` counts as X.y when that is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            subs = {f"{target}.{alias.name}" for alias in node.names} & known
            found.update(subs or {target})
    return {m for m in found if m == "realtime_fer" or m.startswith("realtime_fer.")}


def layer_of(name: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{name}: in no layer of LAYERS; add it")


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(name, path, known) for name, path in found.items()}


def test_each_layer_imports_only_itself_and_the_layers_below():
    wrong = []
    for name, targets in graph().items():
        if name in ANYWHERE:
            continue
        for target in targets - set(ANYWHERE):
            if layer_of(target) > layer_of(name):
                wrong.append(f"{name} -> {target}")
    assert not wrong, "imports that climb a layer: " + ", ".join(sorted(wrong))


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan). A package's ``__init__`` importing its own
    submodules (re-exports) is left out: the submodules importing their siblings form no circle of code."""
    graph = {name: {t for t in targets if t in edges and not t.startswith(name + ".")} for name, targets in edges.items()}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            connect(name)
    return found


def test_no_import_circles():
    assert circles(graph()) == []


def test_the_walk_sees_a_climbing_import(tmp_path):
    """The check itself can fail: an engine module importing the CLI is reported."""
    assert layer_of("realtime_fer.apps.cli.entry") > layer_of("realtime_fer.apps.engine.loop")
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    fake = tmp_path / "x.py"
    fake.write_text("from ..cli import entry\n")
    assert imports("realtime_fer.apps.engine.x", fake, {"realtime_fer.apps.cli.entry"}) == {"realtime_fer.apps.cli.entry"}
