"""Shared code of ``wirewatch eval dedup`` and ``wirewatch eval stories``.

Both read JSONL pairs ``{"id", "text1", "text2", "label"}`` (the MSRP format),
run the real stage on a fresh :class:`~pipeline.dedup.DedupIndex` per pair,
text1 first, and score a yes/no question about text2 against ``label``.
The part of ``id`` before the first "-" names the pair's group in the table;
``--short-under CHARS`` adds two more groups: ``short<CHARS``, pairs whose
shorter text has fewer characters than that, and ``long>=CHARS``, the rest
(a crawled page that kept only a title and a sign-up box holds little a text
signal can match).
``--half even|odd`` keeps one half of the pairs (see :mod:`evaluate._half`);
thresholds are chosen on the even half.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evaluate._half import add_half_option
from evaluate._jsonl import read_records
from pipeline.dedup import DedupConfig, DedupIndex, DedupResult, deduplicate
from pipeline.records import Article

_TIME = datetime(2026, 1, 1, tzinfo=UTC)
Question = Callable[[DedupResult, DedupResult], bool]


@dataclass
class Counts:
    """Confusion counts of a yes/no question, and the precision, recall and F1 they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, label: bool, predicted: bool) -> None:
        if predicted:
            self.tp += label
            self.fp += not label
        else:
            self.fn += label
            self.tn += not label

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def scores(self) -> tuple[float, float, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


def configure_pairs(parser: argparse.ArgumentParser) -> None:
    """Add the pair file and threshold options to ``parser``."""
    parser.add_argument(
        "file", type=Path, metavar="FILE", help='JSONL pairs {"id", "text1", "text2", "label"}'
    )
    parser.add_argument(
        "--duplicate-threshold",
        type=float,
        default=None,
        help="override DedupConfig.duplicate_threshold",
    )
    parser.add_argument(
        "--story-threshold", type=float, default=None, help="override DedupConfig.story_threshold"
    )
    parser.add_argument(
        "--number-tolerance",
        type=float,
        default=None,
        help="override DedupConfig.number_tolerance (share of figures that may be replaced)",
    )
    add_half_option(parser)
    parser.add_argument(
        "--short-under",
        type=int,
        default=None,
        metavar="CHARS",
        help="also score separately the pairs whose shorter text has fewer characters than this",
    )
    parser.add_argument(
        "--sweep",
        type=str,
        default=None,
        metavar="A:B:STEP",
        help="also print scores for the task's threshold from A to B",
    )
    parser.add_argument(
        "--errors", type=int, default=0, metavar="N", help="also print the ids of N misjudged pairs"
    )


def _article(pair_id: str, suffix: str, text: str) -> Article:
    return Article(
        id=f"{pair_id}/{suffix}",
        source="eval",
        headline="",
        body=text,
        published_at=_TIME,
        received_at=_TIME,
    )


_PAIR_FIELDS = {"id": (str, int), "text1": str, "text2": str, "label": (int, bool)}


def _binary_label(pair: dict) -> str | None:
    return None if pair["label"] in (0, 1) else f'"label" is {pair["label"]!r}, not 0 or 1'


def read_pairs(path: Path, half: str | None = None) -> list[dict]:
    """The pairs of ``path`` (one ``--half`` of them), each checked; see :mod:`evaluate._jsonl`."""
    return read_records(path, _PAIR_FIELDS, half=half, check=_binary_label)


def _length_group(pair: dict, short_under: int) -> str:
    shorter = min(len(pair["text1"]), len(pair["text2"]))
    return f"short<{short_under}" if shorter < short_under else f"long>={short_under}"


def _score(
    pairs: list[dict],
    config: DedupConfig,
    question: Question,
    errors: list[str] | None = None,
    short_under: int | None = None,
) -> dict[str, Counts]:
    counts: dict[str, Counts] = defaultdict(Counts)
    for pair in pairs:
        index = DedupIndex(config)
        first = deduplicate(index, _article(str(pair["id"]), "1", pair["text1"]))
        second = deduplicate(index, _article(str(pair["id"]), "2", pair["text2"]))
        label, predicted = bool(int(pair["label"])), question(first, second)
        counts[str(pair["id"]).split("-")[0]].add(label, predicted)
        counts["all"].add(label, predicted)
        if short_under is not None:
            counts[_length_group(pair, short_under)].add(label, predicted)
        if errors is not None and label != predicted:
            errors.append(f"{pair['id']} label={int(label)}")
    return counts


def run_pairs(args: argparse.Namespace, task: str, question: Question, field: str) -> int:
    """Score ``question`` on ``args.file``; print a table, then the JSON line."""
    config = DedupConfig()
    if args.duplicate_threshold is not None:
        config = replace(config, duplicate_threshold=args.duplicate_threshold)
    if args.story_threshold is not None:
        config = replace(config, story_threshold=args.story_threshold)
    if args.number_tolerance is not None:
        config = replace(config, number_tolerance=args.number_tolerance)
    pairs = read_pairs(args.file, args.half)
    console = Console()
    if args.sweep:
        start, stop, step = (float(v) for v in args.sweep.split(":"))
        sweep = Table(title=f"{task}: {field} sweep")
        for column in (field, "precision", "recall", "f1"):
            sweep.add_column(column, justify="right")
        value = start
        while value <= stop + 1e-9:
            p, r, f = _score(pairs, replace(config, **{field: value}), question)["all"].scores()
            sweep.add_row(f"{value:.3f}", f"{p:.4f}", f"{r:.4f}", f"{f:.4f}")
            value += step
        console.print(sweep)
    errors: list[str] = []
    counts = _score(pairs, config, question, errors, args.short_under)
    table = Table(title=f"{task}: {args.file.name} ({field}={getattr(config, field)})")
    for column in ("group", "n", "positive", "tp", "fp", "fn", "precision", "recall", "f1"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for group in sorted(counts, key=lambda g: (g == "all", g)):
        c = counts[group]
        p, r, f = c.scores()
        table.add_row(
            group,
            str(c.n),
            str(c.tp + c.fn),
            str(c.tp),
            str(c.fp),
            str(c.fn),
            f"{p:.4f}",
            f"{r:.4f}",
            f"{f:.4f}",
        )
    console.print(table)
    for line in errors[: args.errors]:
        console.print(line)
    total = counts["all"]
    p, r, f = total.scores()
    print(
        json.dumps(
            {
                "task": task,
                "n": total.n,
                "precision": round(p, 4),
                "recall": round(r, 4),
                "f1": round(f, 4),
            }
        )
    )
    return 0
