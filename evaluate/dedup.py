"""``wirewatch eval dedup PAIRS.jsonl``: is text2 marked a duplicate of text1?

For each pair the real stage runs on a fresh index, text1 first; a pair is
predicted positive when text2's verdict is a duplicate whose ``duplicate_of``
is text1. ``--sweep A:B:STEP`` also scores ``duplicate_threshold`` values.
"""

from __future__ import annotations

import argparse

from evaluate._pairs import configure_pairs, run_pairs
from pipeline.dedup import DedupResult


def _is_duplicate(first: DedupResult, second: DedupResult) -> bool:
    verdict = second.verdict
    return verdict.is_duplicate and verdict.duplicate_of == first.article.id


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the dedup evaluation's arguments to ``parser``."""
    configure_pairs(parser)


def run(args: argparse.Namespace) -> int:
    """Score duplicate detection on ``args.file``; the last stdout line is JSON."""
    return run_pairs(args, "dedup", _is_duplicate, "duplicate_threshold")
