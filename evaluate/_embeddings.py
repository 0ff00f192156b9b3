"""Sentence embeddings for the story-signal analysis, from weights installed with pip.

WordLlama (``pip install 'wirewatch[embeddings]'``) ships its default model,
256-dimensional token embeddings averaged over a text (``l2_supercat``, 16 MB),
inside its wheel. Its own loader (0.4.0) looks for the tokenizer under a
folder name the wheel does not use and then downloads it from Hugging Face,
which an evaluation must not do: the weights and the tokenizer are read here
from the package's own files, and nothing is fetched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

Embed = Callable[[list[str]], np.ndarray]  # texts -> unit vectors, one row per text


class EmbeddingsMissing(RuntimeError):
    """The embedding package or its bundled files are not installed."""


def wordllama() -> Embed:
    """WordLlama's bundled model as an :data:`Embed` (rows of unit length)."""
    try:
        import wordllama as package
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference
    except ImportError as error:
        raise EmbeddingsMissing(
            f"{error.name} is not installed: pip install 'wirewatch[embeddings]'"
        ) from error
    root = Path(package.__file__).parent
    weights = root / "weights" / "l2_supercat_256.safetensors"
    tokenizer = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
    for path in (weights, tokenizer):
        if not path.is_file():
            raise EmbeddingsMissing(f"the wordllama wheel has no {path.relative_to(root)}")
    with safe_open(str(weights), framework="np") as tensors:
        matrix = tensors.get_tensor("embedding.weight")
    model = WordLlamaInference(matrix, Tokenizer.from_file(str(tokenizer)))

    def embed(texts: list[str]) -> np.ndarray:
        vectors = np.asarray(model.embed(texts), dtype=np.float32)
        # An empty text pools to zeros: it stays zero (no similarity), not NaN.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, np.float32(1e-12))

    return embed
