"""``wirewatch eval entities FILE``: entity-level P/R/F1 for PER/ORG/LOC on CoNLL-format JSONL.

Each line holds ``tokens`` and IOB2 ``tags``; the tokens are tagged as given
(one line is one sentence) by the stage's model and rules. CoNLL MISC counts
as no entity. The last stdout line is the JSON summary.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from evaluate._jsonl import read_records

LABELS = ("PER", "ORG", "LOC")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the FILE argument and options of ``eval entities``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="JSONL with tokens and IOB2 tags")
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="a spaCy pipeline directory (default: the shipped one)",
    )
    parser.add_argument("--limit", type=int, default=0, help="only the first N sentences")


def gold_spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Token spans ``(start, end, label)`` of IOB2 tags, PER/ORG/LOC only."""
    spans: set[tuple[int, int, str]] = set()
    start, label = None, ""
    for i, tag in enumerate([*tags, "O"]):
        if start is not None and not (tag.startswith("I-") and tag[2:] == label):
            spans.add((start, i, label))
            start = None
        if tag.startswith("B-") or (tag.startswith("I-") and start is None):
            start, label = i, tag[2:]
    return {s for s in spans if s[2] in LABELS}


def _rows(path: Path, limit: int) -> list[dict]:
    return read_records(
        path,
        {"tokens": list, "tags": list},
        limit=limit,
        keep=lambda row: bool(row["tokens"]) and row["tokens"][0] != "-DOCSTART-",
        check=_aligned,
    )


def _aligned(row: dict) -> str | None:
    tokens, tags = row["tokens"], row["tags"]
    if len(tokens) != len(tags):
        return f"{len(tokens)} tokens but {len(tags)} tags"
    if not all(isinstance(t, str) for t in tokens + tags):
        return "tokens and tags must be strings"
    return None


def _predict(nlp, rows: list[dict]) -> tuple[list[set[tuple[int, int, str]]], float]:
    from spacy.tokens import Doc

    from pipeline.entities import mention_spans

    started = time.perf_counter()
    docs = (Doc(nlp.vocab, words=r["tokens"]) for r in rows)
    predicted = []
    for doc in nlp.pipe(docs, batch_size=256):
        spans = set()
        for s in mention_spans(doc):
            span = doc.char_span(s.start, s.end, alignment_mode="expand")
            if span is not None:
                spans.add((span.start, span.end, s.label))
        predicted.append(spans)
    return predicted, time.perf_counter() - started


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f1, 4)}


def run(args: argparse.Namespace) -> int:
    """Score the tagger on ``args.file``, print a table and the JSON summary."""
    rows = _rows(args.file, args.limit)  # a bad file fails before the model loads
    import spacy
    from rich.console import Console
    from rich.table import Table

    from pipeline import _entities_gazetteer, entities

    _entities_gazetteer.warm_up()
    nlp = spacy.load(args.model) if args.model else entities._nlp()
    predicted, seconds = _predict(nlp, rows)
    counts: Counter[tuple[str, str]] = Counter()
    for row, pred in zip(rows, predicted, strict=True):
        gold = gold_spans(row["tags"])
        for _s, _e, label in pred & gold:
            counts[label, "tp"] += 1
        for _s, _e, label in pred - gold:
            counts[label, "fp"] += 1
        for _s, _e, label in gold - pred:
            counts[label, "fn"] += 1
    per = {
        label: _prf(counts[label, "tp"], counts[label, "fp"], counts[label, "fn"])
        for label in LABELS
    }
    micro = _prf(*(sum(counts[label, k] for label in LABELS) for k in ("tp", "fp", "fn")))
    n_tokens = sum(len(r["tokens"]) for r in rows)

    table = Table(title=f"entities on {args.file.name}: {len(rows)} sentences, {n_tokens} tokens")
    for column in ("type", "gold", "predicted", "P", "R", "F1"):
        table.add_column(column, justify="right")
    for label in LABELS:
        gold_n = counts[label, "tp"] + counts[label, "fn"]
        pred_n = counts[label, "tp"] + counts[label, "fp"]
        table.add_row(
            label, str(gold_n), str(pred_n), *(f"{per[label][k]:.4f}" for k in ("p", "r", "f1"))
        )
    table.add_row("micro", "", "", *(f"{micro[k]:.4f}" for k in ("p", "r", "f1")))
    Console().print(table)
    print(f"throughput: {n_tokens / seconds:,.0f} tokens/s (model + rules, batched, one process)")
    print(
        json.dumps(
            {
                "task": "entities",
                "n": len(rows),
                "micro_f1": micro["f1"],
                "per": per,
                "tokens_per_s": round(n_tokens / seconds, 1),
            }
        )
    )
    return 0
