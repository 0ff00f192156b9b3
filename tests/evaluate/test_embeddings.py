"""WordLlama's bundled sentence embeddings, as the story-signal analysis loads them."""

from __future__ import annotations

import numpy as np
import pytest


def test_rows_are_unit_vectors_and_an_empty_text_is_zero(embed) -> None:
    vectors = embed(["Six people were shot in Kingsessing on Sunday.", ""])
    assert vectors.shape == (2, 256)
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert not vectors[1].any()


def test_a_paraphrase_is_closer_than_another_subject(embed) -> None:
    first, paraphrase, other = embed(
        [
            "Six people shot, one dead, in a Philadelphia neighbourhood",
            "Gunfire in Southwest Philadelphia leaves one man dead and five wounded",
            "Wheat prices rose on the Chicago board of trade",
        ]
    )
    assert first @ paraphrase > first @ other + 0.1
