"""The story-signal analysis: its precision edge and its signals, on small made-up pairs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from evaluate.story_signals import edge, embedding_signals, main, signals


def test_edge_is_the_lowest_threshold_that_keeps_the_precision() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.1])
    labels = np.array([1, 1, 0, 1, 1])
    assert edge(scores, labels, 0.95) == (0.8, 1.0, 0.5)
    # Every pair kept at 0.1: 4 of 5 right is enough for a floor of 0.75.
    assert edge(scores, labels, 0.75) == (0.1, 0.8, 1.0)
    assert edge(scores, labels, 0.9) == (0.8, 1.0, 0.5)


def test_edge_counts_every_pair_tied_at_the_threshold() -> None:
    # Sorting puts the positive first, but a threshold of 0.5 keeps both.
    scores = np.array([0.5, 0.5])
    labels = np.array([1, 0])
    threshold, precision, recall = edge(scores, labels, 0.5)
    assert (threshold, precision, recall) == (0.5, 0.5, 1.0)
    assert edge(scores, labels, 0.95) == (math.inf, 1.0, 0.0)


def test_edge_without_positives_keeps_nothing() -> None:
    assert edge(np.array([0.3, 0.2]), np.array([0, 0]), 0.95) == (math.inf, 1.0, 0.0)


def test_two_victims_of_other_ages_are_an_age_conflict() -> None:
    first = "Man shot in Gary\n\nA 23-year-old man was shot on Friday."
    assert signals(first, "Teen shot\n\nA 15-year-old boy was shot.")["age_conflict"] == 1.0
    assert signals(first, "Gary shooting\n\nThe 23-year-old died.")["age_conflict"] == 0.0
    assert signals(first, "Gary shooting\n\nA man died.")["age_conflict"] == 0.0


def test_title_and_text_cosines_are_one_for_a_copy_and_zero_for_nothing_shared() -> None:
    text = "Gunman kills six in Isla Vista\n\nSANTA BARBARA, California - Six people died."
    same = signals(text, text)
    assert same["title"] == pytest.approx(1.0)
    assert same["full_text"] == pytest.approx(1.0)
    assert same["story"] == pytest.approx(1.0, abs=1e-6)
    other = signals(text, "Rain expected\n\nShowers on Tuesday.")
    assert other["title"] == 0.0 and other["story"] == 0.0


@pytest.mark.parametrize("embeddings", [[], ["--embeddings", "wordllama"]])
def test_main_prints_a_table_and_ends_with_json(
    tmp_path: Path, capsys, embeddings: list[str]
) -> None:
    pairs = [
        (
            "Gunman kills six in Isla Vista\n\nElliot Rodger shot six in Isla Vista.",
            "Isla Vista gunman named\n\nElliot Rodger killed six in Isla Vista.",
            1,
        ),
        (
            "Gary club shooting\n\nWillie Lay, 69, heard shots in Gary.",
            "Gary bar shooting\n\nA 30-year-old was shot in Gary.",
            0,
        ),
    ] * 3
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"p{i}", "text1": a, "text2": b, "label": y}) + "\n"
            for i, (a, b, y) in enumerate(pairs)
        ),
        encoding="utf-8",
    )
    assert main([str(path), *embeddings]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])
    assert summary["task"] == "story_signals" and summary["n"] == 6
    assert summary["story"]["recall"] == 1.0
    assert {"full_text", "title", "age_conflict", "story+a*title"} <= set(summary)
    assert any("story + a*title" in line for line in out)
    if embeddings:
        assert {"embedding", "embedding_title", "story+a*embedding"} <= set(summary)
    else:
        assert "embedding" not in summary


def test_embedding_signals_are_one_for_a_copy(embed) -> None:
    text = "Man shot in Akron\n\nA man was shot."
    pairs = [
        {"text1": text, "text2": text},
        {"text1": text, "text2": "Rain\n\nShowers on Tuesday."},
    ]
    signals = embedding_signals(pairs, embed)
    assert signals["embedding"][0] == pytest.approx(1.0, abs=1e-5)
    assert signals["embedding_title"][0] == pytest.approx(1.0, abs=1e-5)
    assert signals["embedding"][1] < 0.9
