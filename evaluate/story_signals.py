"""``python -m evaluate.story_signals PAIRS.jsonl``: could another signal lift story recall?

The stage groups stories by the cosine of story terms (capitalised words and
numbers; :mod:`pipeline._dedup_story_terms`). This script measures, on any
pair file of ``wirewatch eval stories``, how far that score and a few other
signals get on their own and added to it, so that a proposed signal is judged
the same way every time:

- ``story``: the stage's story-term cosine, every pair compared (no
  candidate step, so an upper bound for the stage at the same threshold);
- ``full_text``: IDF-weighted cosine of every word of the first 2,000
  characters (what a tf-idf baseline sees);
- ``title``: IDF-weighted cosine of the words of the first line (the page
  title in the GVA files), outlet suffix removed;
- ``age_conflict``: 1 when both texts give ages ("23-year-old", "Jo Smith,
  23,") and share none (two victims, two incidents?);
- with ``--embeddings wordllama``: ``embedding`` and ``embedding_title``, the
  cosine of sentence embeddings of the first 2,000 characters and of the
  titles (WordLlama's bundled model, see :mod:`evaluate._embeddings`).

For each signal, and for ``story + a * signal`` with ``a`` from a small grid,
the table gives the recall at the lowest threshold with precision at least
``--precision`` on the whole file, and held out: ``a`` and the threshold
chosen on the even pairs and scored on the odd ones, and the other way round.
On 1,155 dev pairs precision itself moves by about 0.015 between resamples,
so differences of a point of recall are noise. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from evaluate import _embeddings
from evaluate._pairs import read_pairs
from pipeline import _dedup_story_terms as story

_PREFIX = 2000  # characters read for full_text, as for story terms
_AGE = re.compile(r"\b(\d{1,2})[- ]year[- ]old\b|\b[A-Z][a-z]+ [A-Z][a-z]+, (\d{1,2}),")
_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)  # grid for ``a``


def _cosine(a: dict[int, float], b: dict[int, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(weight * b.get(key, 0.0) for key, weight in a.items())


def _unit(weights: dict[int, float]) -> dict[int, float]:
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {key: w / norm for key, w in weights.items()}


def _word_vector(text: str, log_tf: bool) -> dict[int, float]:
    idf, unknown = story._inverse_frequencies()
    counts = Counter(story.term_hashes(text))
    tf: Callable[[int], float] = (lambda n: 1 + math.log(n)) if log_tf else (lambda n: 1.0)
    return _unit({key: tf(n) * idf.get(key, unknown) for key, n in counts.items()})


def _story_vector(text: str, evidence: bool = False) -> dict[int, float]:
    hashes, weights = story.story_terms(text)
    if evidence:  # an age or a year shared counts half, as in the stage
        weights = story.evidence_weights(hashes.tolist(), weights)
    return dict(zip(hashes.tolist(), weights.tolist(), strict=True))


def _title(text: str) -> str:
    return story._without_outlet(text.split("\n", 1)[0])


def _ages(text: str) -> set[int]:
    return {int(a or b) for a, b in _AGE.findall(text[:_PREFIX])}


def signals(text1: str, text2: str) -> dict[str, float]:
    """Every signal of one pair (see the module docstring)."""
    ages1, ages2 = _ages(text1), _ages(text2)
    return {
        "story": _cosine(_story_vector(text1, evidence=True), _story_vector(text2)),
        "full_text": _cosine(
            _word_vector(text1[:_PREFIX], True), _word_vector(text2[:_PREFIX], True)
        ),
        "title": _cosine(_word_vector(_title(text1), False), _word_vector(_title(text2), False)),
        "age_conflict": float(bool(ages1 and ages2 and not ages1 & ages2)),
    }


def embedding_signals(pairs: list[dict], embed: _embeddings.Embed) -> dict[str, np.ndarray]:
    """The ``embedding`` and ``embedding_title`` cosine of every pair, embedded in batches."""

    def cosines(part: Callable[[str], str]) -> np.ndarray:
        first = embed([part(p["text1"]) for p in pairs])
        second = embed([part(p["text2"]) for p in pairs])
        return np.einsum("ij,ij->i", first, second).astype(np.float64)

    return {"embedding": cosines(lambda text: text[:_PREFIX]), "embedding_title": cosines(_title)}


def edge(scores: np.ndarray, labels: np.ndarray, precision: float) -> tuple[float, float, float]:
    """(threshold, precision, recall) at the lowest threshold with at least ``precision``.

    Example:
        >>> edge(np.array([0.9, 0.8, 0.7, 0.1]), np.array([1, 1, 0, 1]), 0.95)
        (0.8, 1.0, 0.6666666666666666)
    """
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    precisions = np.cumsum(labels[order]) / np.arange(1, len(order) + 1)
    # A threshold keeps every pair scoring at least it: only the last of
    # tied scores is a place to cut.
    cuts = np.append(ranked[:-1] != ranked[1:], True)
    kept = np.flatnonzero(cuts & (precisions >= precision))
    if not len(kept) or not labels.sum():
        return math.inf, 1.0, 0.0
    threshold = float(ranked[int(kept[-1])])
    return (threshold, *_score(scores, labels, threshold))


def _score(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float]:
    predicted = scores >= threshold
    hits = int((predicted & (labels == 1)).sum())
    return hits / max(int(predicted.sum()), 1), hits / max(int(labels.sum()), 1)


def _held_out(
    base: np.ndarray, signal: np.ndarray, labels: np.ndarray, train: np.ndarray, precision: float
) -> tuple[float, float, float]:
    # Choose the weight and the threshold on ``train``, score the other pairs.
    best = max(
        _WEIGHTS,
        key=lambda a: edge(base[train] + a * signal[train], labels[train], precision)[2],
    )
    threshold = edge(base[train] + best * signal[train], labels[train], precision)[0]
    test = ~train
    return (best, *_score(base[test] + best * signal[test], labels[test], threshold))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evaluate.story_signals",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
    )
    parser.add_argument("file", type=Path, metavar="PAIRS", help="pairs as for eval stories")
    parser.add_argument("--precision", type=float, default=0.95, help="precision floor")
    parser.add_argument(
        "--embeddings",
        choices=["wordllama"],
        default=None,
        help="also score sentence-embedding cosines (needs: pip install 'wirewatch[embeddings]')",
    )
    args = parser.parse_args(argv)
    embed = None
    if args.embeddings:
        try:
            embed = _embeddings.wordllama()
        except _embeddings.EmbeddingsMissing as error:
            parser.error(str(error))

    from rich.console import Console
    from rich.progress import track
    from rich.table import Table

    pairs = read_pairs(args.file)
    progress = Console(stderr=True)
    rows = [
        signals(p["text1"], p["text2"])
        for p in track(pairs, description="signals", console=progress, transient=True)
    ]
    labels = np.array([int(p["label"]) for p in pairs])
    columns = {name: np.array([r[name] for r in rows]) for name in rows[0]} if rows else {}
    if embed is not None and pairs:
        columns.update(embedding_signals(pairs, embed))
    even = np.arange(len(pairs)) % 2 == 0
    table = Table(title=f"story signals: {args.file.name}, recall at precision >= {args.precision}")
    for column in ("signal", "a", "t", "P", "R", "even->odd a P/R", "odd->even a P/R"):
        table.add_column(column, justify="left" if column == "signal" else "right")
    summary: dict[str, dict[str, object]] = {}
    base = columns.get("story", np.zeros(0))
    for name, values in columns.items():
        t, p, r = edge(values, labels, args.precision)
        if name != "story":
            table.add_row(name, "", f"{t:.3f}", f"{p:.3f}", f"{r:.3f}", "", "")
            summary[name] = {"recall": round(r, 4)}
        # A conflict counts against a pair; the story row is the score alone (a = 0).
        signal = np.zeros_like(base) if name == "story" else values
        signal = -signal if name == "age_conflict" else signal
        label = (
            "story"
            if name == "story"
            else f"story {'-' if name == 'age_conflict' else '+'} a*{name}"
        )
        whole = max(_WEIGHTS, key=lambda a: edge(base + a * signal, labels, args.precision)[2])
        t, p, r = edge(base + whole * signal, labels, args.precision)
        held = [_held_out(base, signal, labels, half, args.precision) for half in (even, ~even)]
        table.add_row(
            label,
            f"{whole}",
            f"{t:.3f}",
            f"{p:.3f}",
            f"{r:.3f}",
            *(f"{a} {hp:.3f}/{hr:.3f}" for a, hp, hr in held),
        )
        summary[label.replace(" ", "")] = {
            "recall": round(r, 4),
            "held_out": [
                {"a": a, "precision": round(hp, 4), "recall": round(hr, 4)} for a, hp, hr in held
            ],
        }
    Console(width=120).print(table)  # one line per row, in a terminal or a log
    print(json.dumps({"task": "story_signals", "n": len(pairs), **summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
