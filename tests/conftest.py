"""Shared test helpers: where the repository and the shared evaluation data are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def eval_dir() -> Path:
    """../shared/eval beside the repository, or WIREWATCH_EVAL_DIR."""
    return Path(os.environ.get("WIREWATCH_EVAL_DIR", REPO.parent / "shared" / "eval"))


def require_eval_file(relative: str) -> Path:
    """The path of a shared evaluation file, or skip the test with the reason."""
    path = eval_dir() / relative
    if not path.exists():
        pytest.skip(f"evaluation data not found at {path} (set WIREWATCH_EVAL_DIR)")
    return path
