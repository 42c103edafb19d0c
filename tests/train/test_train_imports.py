"""The ``train`` package has no import circle either (imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_layers import circles

TRAIN = Path(__file__).resolve().parents[2] / "train"


def train_graph() -> dict[str, set[str]]:
    """{module: the train modules it imports}, read from the source with ``ast``."""
    found = {f"train.{p.stem}": p for p in TRAIN.glob("*.py") if p.stem != "__init__"}
    edges = {}
    for name, path in found.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                module = node.module if not node.level else f"train.{node.module}"
                targets.add(module)
                targets.update(f"{module}.{alias.name}" for alias in node.names)
        edges[name] = {t for t in targets if t in found and t != name}
    return edges


def test_the_graph_sees_imports_inside_functions():
    assert "train.faceres_model" in train_graph()["train.fit"]  # imported inside load_data


def test_no_import_circles_in_train():
    assert circles(train_graph()) == []
