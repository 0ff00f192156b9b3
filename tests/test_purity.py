"""pipeline/ is pure domain logic: no Kafka, Faust, metrics, asyncio or environment access."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"
BANNED_MODULES = {"faust", "aiokafka", "prometheus_client", "asyncio", "mode", "kafka"}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
            if node.module == "os" and any(a.name in {"environ", "getenv"} for a in node.names):
                found.append(f"{path.name}:{node.lineno}: from os import environ/getenv")
        elif isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"} \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            found.append(f"{path.name}:{node.lineno}: os.{node.attr}")
            continue
        else:
            continue
        found.extend(f"{path.name}:{node.lineno}: imports {name}" for name in names
                     if name.split(".")[0] in BANNED_MODULES)
    return found


@pytest.mark.parametrize("path", sorted(PIPELINE.rglob("*.py")), ids=lambda p: p.name)
def test_pipeline_module_is_pure(path: Path) -> None:
    assert _violations(path) == []


def test_the_purity_check_catches_a_banned_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nimport faust\nfrom aiokafka import X\nx = os.environ['A']\n")
    assert len(_violations(bad)) == 3
