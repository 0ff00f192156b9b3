"""Fixtures of the evaluation tools' tests."""

from __future__ import annotations

import pytest

from evaluate import _embeddings


@pytest.fixture(scope="session")
def embed() -> _embeddings.Embed:
    """WordLlama's bundled model (the test extra installs it), loaded once."""
    return _embeddings.wordllama()
